"""Audit a collection: what each dataset is, what its metadata says, and what to do with it.

One row per dataset (`audit_dataset`), from its metadata alone (no pixel is read): the
format, its maker, open or proprietary, lossy or not, the scenes and their axes, whether
pixel sizes and channel names are recorded, how complete its REMBI record is (with the edits
of its sidecar), the personal data found in its metadata (as `lightmic metadata --privacy
--json` lists them), the conversion advice and its size. A dataset that cannot be opened
still has its row, with what is known and the error.

`audit` runs the rows of many inputs, in this process or on a dask.distributed client;
`audit_totals` sums them by format; `write_audit` writes them as JSON, CSV or a
self-contained HTML page a data steward can sort.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LightmicError, json_text, one_line
from ..formats import format_of
from ..paths import disk_bytes
from ..writing.common import write_text_atomic as write_atomic
from . import _html
from .report import csv_text

if TYPE_CHECKING:
    from ..model import Scene
    from ..session import Session

CSV_COLUMNS = ("path", "format", "vendor", "open_format", "lossy", "scenes", "dims",
               "pixel_sizes", "channel_names", "rembi_filled", "rembi_total", "rembi_missing",
               "privacy_findings", "privacy", "action", "advice", "size", "error")


def audit(inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
          client: Any = None) -> list[dict[str, Any]]:  # noqa: ANN401 - a distributed.Client
    """Audit every dataset of `inputs` (files, folders walked recursively, globs).

    Parameters
    ----------
    inputs
        A path or paths: files, OME-Zarr folders, folders holding datasets, glob patterns.
    client
        A ``dask.distributed.Client``: each dataset is audited by a task on its workers
        (which must see the files); without one, the rows are made one after the other here.

    Returns
    -------
    list of dict
        One row per dataset (`audit_dataset`), in path order.

    Raises
    ------
    UsageError
        When an input does not exist (and matches no file as a pattern).
    """
    found = _datasets([inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs))
    paths, sizes = [p for p, _ in found], [n for _, n in found]
    if client is None:
        return [audit_dataset(p, n) for p, n in found]
    futures = client.map(audit_dataset, paths, sizes, pure=False)
    return list(client.gather(futures))


def audit_dataset(path: str, size: int | None = None) -> dict[str, Any]:
    """One dataset's audit row, from its metadata (no pixel is read).

    `size` is the bytes of all the dataset's files, where discovery told them (a multi-file
    set); else the main file's or folder's are counted.

    Keys: path, format, vendor, open_format, lossy, scenes (count), dims (per scene: name,
    dims, shape), pixel_sizes ('known', 'partly known', 'unknown'), channel_names
    ('recorded', 'partly recorded', 'not recorded'), rembi (filled, total, missing), privacy
    (the findings, as `lightmic metadata --privacy --json` gives them), action ('keep' or
    'convert'), advice (the format's advice, None for an open lossless format), size (bytes),
    sidecar_problem, error (why it could not be opened, one line; None when it opened).
    Never raises for the dataset's own problems: they are its row's error.
    """
    from ..reading import read_error
    from ..session import Session

    fmt = format_of(path)
    row: dict[str, Any] = {
        "path": str(path), "format": fmt.name if fmt else None,
        "vendor": fmt.vendor if fmt else None,
        "open_format": fmt.open_format if fmt else None, "lossy": fmt.lossy if fmt else None,
        "scenes": None, "dims": None, "pixel_sizes": None, "channel_names": None,
        "rembi": None, "privacy": None, "action": _action(fmt.advice) if fmt else None,
        "advice": fmt.advice if fmt else None,
        "size": size if size is not None else disk_bytes(path),
        "sidecar_problem": None, "error": None,
    }
    try:
        session = Session.open(path)
    except LightmicError as err:
        row["error"] = err.cause
        return row
    try:
        row.update(_described(session))
    except LightmicError as err:
        row["error"] = err.cause
    except Exception as exc:  # noqa: BLE001 - one dataset's failure is its row's, not the audit's
        row["error"] = read_error(path, exc).cause
    finally:
        session.close()
    return row


def _described(session: Session) -> dict[str, Any]:
    from ..metadata.completeness import completeness

    source = session.source
    scenes = session.scenes
    done = completeness(session.record)
    fmt = source.format
    return {
        "format": fmt.name, "vendor": fmt.vendor, "open_format": fmt.open_format,
        "lossy": fmt.lossy, "advice": fmt.advice, "action": _action(fmt.advice),
        "scenes": len(scenes),
        "dims": [{"name": s.name, "dims": s.dims, "shape": list(s.shape)} for s in scenes],
        "pixel_sizes": _share([_sizes_known(s) for s in scenes], "known"),
        "channel_names": _share([c.named for s in scenes for c in s.channels], "recorded"),
        "rembi": {"filled": done.filled, "total": done.total, "missing": list(done.missing)},
        "privacy": session.privacy_report(),
        "sidecar_problem": session.sidecar_problem,
    }


def _action(advice: str | None) -> str:
    return "keep" if advice is None else "convert"


def _sizes_known(scene: Scene) -> bool:
    """Whether the scene records the size of a pixel along Y and X, and Z where it has planes."""
    axes = [a for a in "ZYX" if a in scene.dims and (a != "Z" or scene.size("Z") > 1)]
    return all(scene.physical_pixel_sizes.get(a) for a in axes)


def _share(flags: list[bool], word: str) -> str:
    if flags and all(flags):
        return word
    return f"partly {word}" if any(flags) else ("unknown" if word == "known" else f"not {word}")


def _datasets(inputs: Sequence[str | os.PathLike[str]]) -> list[tuple[str, int]]:
    """The datasets `inputs` name, each once, as a batch conversion finds them.

    A multi-file dataset (a Micro-Manager set, BigDataViewer XML and HDF5, an OME-TIFF set)
    is one dataset, through its main file, found by one `discover.discover` over every input
    (so a member named as an input of its own is still part of its set). Inputs in their
    order, the datasets of each in path order.
    """
    from .discover import discover

    found = discover([os.fspath(item) for item in inputs])
    datasets = sorted(found.datasets, key=lambda d: (found.inputs[d.path], str(d.path)))
    return [(str(d.path), d.size) for d in datasets]


def audit_totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The rows summed: by format (count, bytes), and what to keep, convert or look at.

    ``keep``: open lossless formats, kept as they are; ``convert``: proprietary or lossy
    formats, to copy as OME-TIFF or OME-Zarr; ``unreadable``: datasets that did not open
    (each also counted under its format, by its extension).
    """
    def tally() -> dict[str, int]:
        return {"count": 0, "bytes": 0}

    by_format: dict[str, dict[str, int]] = {}
    totals = {"all": tally(), "keep": tally(), "convert": tally(), "unreadable": tally()}
    for row in rows:
        size = row.get("size") or 0
        groups = [by_format.setdefault(str(row.get("format") or "unknown"), tally()),
                  totals["all"]]
        if row.get("error"):
            groups.append(totals["unreadable"])
        elif row.get("action") in ("keep", "convert"):
            groups.append(totals[str(row["action"])])
        for group in groups:
            group["count"] += 1
            group["bytes"] += size
    return {"by_format": dict(sorted(by_format.items())), **totals}


def write_audit(rows: Sequence[Mapping[str, Any]], *, json_path: str | os.PathLike[str] |
                None = None, csv_path: str | os.PathLike[str] | None = None,
                html_path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the rows (and their totals) as JSON, CSV and HTML, those given a path.

    JSON: ``{"totals": audit_totals(rows), "datasets": rows}``; CSV: one line per dataset
    (`CSV_COLUMNS`); HTML: a self-contained page with a chart of bytes by format and a
    table that sorts by any column. Each is written whole or not at all.
    """
    written = []
    if json_path is not None:
        written.append(write_atomic(Path(json_path), audit_json(rows)))
    if csv_path is not None:
        written.append(write_atomic(Path(csv_path), audit_csv(rows)))
    if html_path is not None:
        written.append(write_atomic(Path(html_path), audit_html(rows)))
    return written


def audit_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows and their totals as strict JSON text."""
    return json_text({"totals": audit_totals(rows), "datasets": list(rows)})


def audit_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """One CSV line per dataset; the privacy findings as JSON text in their cell."""
    return csv_text(CSV_COLUMNS, (_flat(row) for row in rows))


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    rembi = row.get("rembi") or {}
    privacy = row.get("privacy")
    return {**row, "dims": _dims_text(row.get("dims")), "rembi_filled": rembi.get("filled"),
            "rembi_total": rembi.get("total"), "rembi_missing": _missing_text(rembi),
            "privacy_findings": len(privacy) if privacy is not None else None,
            "privacy": json_text(privacy, compact=True) if privacy is not None else None}


def _missing_text(rembi: Mapping[str, Any]) -> str | None:
    """The REMBI fields missing, '; '-separated; None for a row with no REMBI count."""
    return "; ".join(rembi.get("missing", [])) if rembi else None


def _dims_text(dims: object) -> str | None:
    """'TR1: T3 C2 Z5 Y170 X240; TR2: …' from the rows' per-scene axes."""
    if not isinstance(dims, list):
        return None
    return "; ".join(f"{d['name']}: " + " ".join(f"{a}{n}" for a, n in zip(d["dims"],
                                                                             d["shape"]))
                     for d in dims)


def audit_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as a table for a terminal, then the totals."""
    if not rows:
        return "no dataset found in the inputs"
    headers = ("format", "scenes", "size", "pixel sizes", "channel names", "REMBI",
               "privacy", "action", "path")
    table = [headers]
    for row in rows:
        rembi = row.get("rembi")
        privacy = row.get("privacy")
        table.append((
            str(row.get("format") or "?"), _or_dash(row.get("scenes")),
            _html.human_bytes(row.get("size")) or "-", str(row.get("pixel_sizes") or "-"),
            str(row.get("channel_names") or "-"),
            f"{rembi['filled']}/{rembi['total']}" if rembi else "-",
            f"{len(privacy)} found" if privacy else ("none" if privacy is not None else "-"),
            "unreadable" if row.get("error") else str(row.get("action") or "-"),
            one_line(str(row.get("path")))))
    widths = [max(len(r[i]) for r in table) for i in range(len(headers) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1]
             for r in table]
    lines += [f"error: {one_line(str(row['path']))}: {row['error']}"
              for row in rows if row.get("error")]
    totals = audit_totals(rows)
    lines.append("")
    for name, tally in totals["by_format"].items():
        lines.append(f"{name}: {_count(tally)}")
    lines.append(f"keep as is: {_count(totals['keep'])}; convert: {_count(totals['convert'])}"
                 f"; unreadable: {_count(totals['unreadable'])}; all: {_count(totals['all'])}")
    return "\n".join(lines)


def _count(tally: Mapping[str, int]) -> str:
    n = tally["count"]
    return f"{n} dataset{'s' if n != 1 else ''}, {_html.human_bytes(tally['bytes'])}"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def audit_html(rows: Sequence[Mapping[str, Any]], title: str = "Collection audit") -> str:
    """A self-contained page: totals, a chart of bytes by format, the sortable table."""
    t = _html.text
    totals = audit_totals(rows)
    bars = [(name, float(tally["bytes"])) for name, tally in totals["by_format"].items()]
    summary = _html.table(
        ["", "datasets", "bytes"],
        [[label, tally["count"], (_html.human_bytes(tally["bytes"]), tally["bytes"])]
         for label, tally in (("keep as is", totals["keep"]), ("convert", totals["convert"]),
                              ("unreadable", totals["unreadable"]), ("all", totals["all"]))],
        sortable=False)
    headers = ["path", "format", "vendor", "open", "lossy", "scenes", "dims", "pixel sizes",
               "channel names", "REMBI filled", "REMBI missing", "privacy findings", "action",
               "advice", "size", "error"]
    table = []
    for row in rows:
        rembi = row.get("rembi") or {}
        findings = row.get("privacy") or []
        table.append([
            row.get("path"), row.get("format"), row.get("vendor"),
            _yes(row.get("open_format")), _yes(row.get("lossy")), row.get("scenes"),
            _dims_text(row.get("dims")), row.get("pixel_sizes"), row.get("channel_names"),
            (f"{rembi['filled']} of {rembi['total']}", rembi["filled"]) if rembi else None,
            _missing_text(rembi),
            "; ".join(f"{f['kind']}: {f['text']}" for f in findings) or
            ("none" if row.get("privacy") is not None else None),
            "unreadable" if row.get("error") else row.get("action"), row.get("advice"),
            (_html.human_bytes(row.get("size")), row.get("size")), row.get("error")])
    classes = ["failed" if row.get("error") else "" for row in rows]
    body = [f"<h1>{t(title)}</h1>",
            f"<p>{len(rows)} datasets, {t(_html.human_bytes(totals['all']['bytes']))}.</p>",
            summary, _html.bar_chart("Bytes by format", bars),
            "<h2>Datasets</h2><p>Click a column's heading to sort by it.</p>",
            _html.table(headers, table, classes=classes)]
    return _html.page(title, body)


def _yes(value: object) -> str | None:
    return None if value is None else ("yes" if value else "no")
