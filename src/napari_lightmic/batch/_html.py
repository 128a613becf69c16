"""Self-contained HTML pages for the batch reports, nothing loaded from the network.

Inline CSS, SVG charts drawn here, a table that sorts by a click on its heading (a few lines
of inline script).

Every text shown goes through `text` (one printable line, HTML-escaped): file names can hold
anything, newlines, markup and bytes that are not UTF-8 included.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from ..errors import one_line

Cell = str | int | float | None | tuple[str, float | None]  # a pair: (shown, sort value)

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eee; } table.sortable th { cursor: pointer; user-select: none; }
th.asc::after { content: " \\25B2"; } th.desc::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fde8e8; } tr.skipped td { color: #777; }
.charts { display: flex; flex-wrap: wrap; gap: 2em; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
"""

# Sorts a table.sortable by the column whose heading is clicked (again: the other way);
# a cell's data-v is its value for sorting (numbers), else its text.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var up = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(up ? "asc" : "desc");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[col], v = cell.getAttribute("data-v");
        return v !== null && v !== "" && !isNaN(v) ? parseFloat(v) : cell.textContent;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), n = typeof x === "number" && typeof y === "number";
        var d = n ? x - y : String(x).localeCompare(String(y));
        return up ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def text(value: object) -> str:
    """`value` as HTML text: one printable line (undecodable bytes escaped), escaped."""
    return html.escape(one_line("" if value is None else str(value)), quote=True)


def human_bytes(n: float | None) -> str:
    """'1.2 MB' (powers of 1000), '' for None."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"  # pragma: no cover - the loop returns


def page(title: str, body: Sequence[str]) -> str:
    """A whole HTML document holding `body` (HTML already escaped)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]],
          classes: Sequence[str] | None = None, sortable: bool = True) -> str:
    """An HTML table; numbers are right-aligned and sort as numbers (`data-v`).

    A cell given as a (shown text, sort value) pair shows the text and sorts by the value.
    """
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    lines = ["<table class=\"sortable\">" if sortable else "<table>",
             f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for i, row in enumerate(rows):
        css = f" class=\"{text(classes[i])}\"" if classes and classes[i] else ""
        lines.append(f"<tr{css}>" + "".join(_cell(c) for c in row) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _cell(value: Cell) -> str:
    if isinstance(value, tuple):
        shown, key = value
        sort = "" if key is None or not math.isfinite(key) else repr(float(key))
        return f"<td class=\"num\" data-v=\"{sort}\">{text(shown)}</td>"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return f"<td>{text('' if value is None else value)}</td>"
    shown = f"{value:.3g}" if isinstance(value, float) else str(value)
    return f"<td class=\"num\" data-v=\"{value!r}\">{text(shown)}</td>"


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "bytes") -> str:
    """Horizontal bars, one per (label, value), as inline SVG."""
    if not bars:
        return f"<figure><figcaption>{text(title)}</figcaption><p>nothing to show</p></figure>"
    left, width, row = 150, 330, 24
    height = row * len(bars) + 30
    top = max((v for _, v in bars), default=0.0) or 1.0
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 100}\" "
             f"height=\"{height}\" role=\"img\" aria-label=\"{text(title)}\">"]
    for i, (label, value) in enumerate(bars):
        y = 10 + i * row
        w = max(1.0, width * value / top) if value > 0 else 0.0
        shown = human_bytes(value) if unit == "bytes" else f"{value:.3g} {unit}"
        parts += [f"<text x=\"{left - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{text(label)}"
                  "</text>",
                  f"<rect x=\"{left}\" y=\"{y + 3}\" width=\"{w:.1f}\" height=\"{row - 8}\" "
                  "fill=\"#4a7ebb\"/>",
                  f"<text x=\"{left + w + 6:.1f}\" y=\"{y + 15}\">{text(shown)}</text>"]
    parts.append("</svg>")
    return (f"<figure><figcaption>{text(title)}</figcaption>" + "".join(parts) + "</figure>")


def time_chart(title: str, points: Sequence[tuple[float, float]], x_label: str,
               y_label: str) -> str:
    """Points (x, y) joined in x order, with both axes from zero, as inline SVG."""
    if not points:
        return f"<figure><figcaption>{text(title)}</figcaption><p>nothing to show</p></figure>"
    left, bottom, width, height = 55, 35, 420, 200
    x_top = max(p[0] for p in points) or 1.0
    y_top = max(p[1] for p in points) or 1.0
    ordered = sorted(points)

    def at(x: float, y: float) -> tuple[float, float]:
        return left + width * x / x_top, 10 + height * (1 - y / y_top)

    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 20}\" "
             f"height=\"{height + bottom + 10}\" role=\"img\" aria-label=\"{text(title)}\">",
             f"<line x1=\"{left}\" y1=\"{10 + height}\" x2=\"{left + width}\" "
             f"y2=\"{10 + height}\" stroke=\"#333\"/>",
             f"<line x1=\"{left}\" y1=\"10\" x2=\"{left}\" y2=\"{10 + height}\" stroke=\"#333\"/>"]
    for k in range(5):  # ticks at 0, 1/4 … of each axis
        xv, yv = x_top * k / 4, y_top * k / 4
        x, _ = at(xv, 0)
        _, y = at(0, yv)
        parts += [f"<text x=\"{x:.1f}\" y=\"{height + 25}\" text-anchor=\"middle\">{xv:.3g}"
                  "</text>",
                  f"<text x=\"{left - 5}\" y=\"{y + 4:.1f}\" text-anchor=\"end\">{yv:.3g}</text>"]
    line = " ".join("{:.1f},{:.1f}".format(*at(x, y)) for x, y in ordered)
    parts.append(f"<polyline points=\"{line}\" fill=\"none\" stroke=\"#4a7ebb\"/>")
    parts += ["<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#4a7ebb\"/>".format(*at(x, y))
              for x, y in ordered]
    parts += [f"<text x=\"{left + width / 2}\" y=\"{height + bottom + 5}\" "
              f"text-anchor=\"middle\">{text(x_label)}</text>",
              f"<text x=\"12\" y=\"{10 + height / 2}\" text-anchor=\"middle\" "
              f"transform=\"rotate(-90 12 {10 + height / 2})\">{text(y_label)}</text>",
              "</svg>"]
    return f"<figure><figcaption>{text(title)}</figcaption>" + "".join(parts) + "</figure>"
