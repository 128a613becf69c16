"""A batch's report: its job records as report.json, report.csv and a self-contained report.html.

A record is one job, as the batch's manifest keeps it (a JSON-able dict): input, output,
format, size, mtime, fingerprint, options, state (planned, running, done, failed, skipped),
output_size, seconds, scenes, error, worker ({name, address}), started, finished (ISO 8601
UTC), attempts. Each file is written whole or not at all (a temporary sibling renamed over it).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import json_text, one_line
from ..writing.common import write_text_atomic as write_atomic
from . import _html
from .manifest import STATES

CSV_COLUMNS = ("input", "format", "scenes", "size_in", "size_out", "ratio", "seconds",
               "mb_per_s", "state", "reason", "worker_name", "worker_address")


def write_reports(records: Sequence[Mapping[str, Any]], folder: str | os.PathLike[str], *,
                  title: str, started: str, finished: str,
                  dashboard: str | None = None) -> list[Path]:
    """Write report.json, report.csv and report.html of a batch's jobs into `folder`.

    Parameters
    ----------
    records
        One record per job (the manifest's).
    folder
        Where the reports go (it exists).
    title
        What the batch was, shown as the page's title.
    started, finished
        When the batch started and ended (ISO 8601, UTC).
    dashboard
        The address of the cluster's dashboard, when there was one.

    Returns
    -------
    list of Path
        The three files written.

    Raises
    ------
    WriteError
        When a file cannot be written (nothing is left at its path then).
    """
    out = Path(folder)
    jobs = [dict(r) for r in records]
    summary = summarize(jobs, started, finished)
    document = {"title": title, "started": started, "finished": finished,
                "dashboard": dashboard, "summary": summary, "jobs": jobs}
    return [write_atomic(out / "report.json", json_text(document)),
            write_atomic(out / "report.csv", csv_text(CSV_COLUMNS, (_csv_row(j) for j in jobs))),
            write_atomic(out / "report.html", _html_report(jobs, summary, title, started,
                                                           finished, dashboard))]


def summarize(records: Sequence[Mapping[str, Any]], started: str, finished: str
              ) -> dict[str, Any]:
    """Counts by state, bytes in and out, seconds and throughput of a batch.

    ``seconds`` is the batch's wall time (`started` to `finished`), ``job_seconds`` the sum
    of the jobs' own; ``mb_per_s`` is the input megabytes (10^6 bytes) of the jobs done per
    second of wall time (None when no time passed).
    """
    states = dict.fromkeys(STATES, 0)
    for record in records:
        state = str(record.get("state"))
        states[state] = states.get(state, 0) + 1
    done = [r for r in records if r.get("state") == "done"]
    wall = _seconds_between(started, finished)
    bytes_done = sum(_int(r.get("size")) for r in done)
    return {
        "jobs": len(records),
        "states": states,
        "bytes_in": sum(_int(r.get("size")) for r in records),
        "bytes_out": sum(_int(r.get("output_size")) for r in records),
        "bytes_done": bytes_done,
        "seconds": wall,
        "job_seconds": sum(_float(r.get("seconds")) for r in records),
        "mb_per_s": bytes_done / 1e6 / wall if wall else None,
    }


# -- the three files ---------------------------------------------------------------------
def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV with a header of `columns`; each text cell one printable line (`one_line`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _csv_cell(value: object) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else round(value, 6)
    if isinstance(value, int):
        return value
    return one_line(value if isinstance(value, str) else json_text(value, compact=True))


def _csv_row(record: Mapping[str, Any]) -> dict[str, Any]:
    worker = record.get("worker") or {}
    return {"input": record.get("input"), "format": record.get("format"),
            "scenes": record.get("scenes"), "size_in": record.get("size"),
            "size_out": record.get("output_size"), "ratio": _ratio(record),
            "seconds": record.get("seconds"), "mb_per_s": _rate(record),
            "state": record.get("state"), "reason": record.get("error"),
            "worker_name": worker.get("name"), "worker_address": worker.get("address")}


def _html_report(jobs: list[dict[str, Any]], summary: dict[str, Any], title: str,
                 started: str, finished: str, dashboard: str | None) -> str:
    t = _html.text
    counts = ", ".join(f"{n} {state}" for state, n in summary["states"].items() if n)
    rate = summary["mb_per_s"]
    facts = [f"<p>Started {t(started)}, finished {t(finished)}"
             + (f" ({summary['seconds']:.1f} s)" if summary["seconds"] is not None else "")
             + f". {summary['jobs']} jobs: {t(counts or 'none')}.</p>",
             f"<p>In: {t(_html.human_bytes(summary['bytes_in']))}; out: "
             f"{t(_html.human_bytes(summary['bytes_out']))}"
             + (f"; {rate:.1f} MB/s" if rate is not None else "") + ".</p>"]
    if dashboard:
        facts.append(f"<p>Dashboard: {t(dashboard)}</p>")
    points = _throughput(jobs, _time(started))
    by_format: dict[str, float] = {}
    for job in jobs:
        name = str(job.get("format") or "unknown")
        by_format[name] = by_format.get(name, 0) + _int(job.get("size"))
    charts = ("<div class=\"charts\">"
              + _html.time_chart("Throughput of finished jobs", points,
                                 "seconds since the start", "MB/s")
              + _html.bar_chart("Bytes in, by format", sorted(by_format.items()))
              + "</div>")
    rows = []
    for job in jobs:
        worker = job.get("worker") or {}
        size, out, seconds = job.get("size"), job.get("output_size"), job.get("seconds")
        ratio, rate_j = _ratio(job), _rate(job)
        rows.append([job.get("input"), job.get("format"), job.get("scenes"),
                     (_html.human_bytes(size), size), (_html.human_bytes(out), out),
                     (f"{ratio:.2f}" if ratio is not None else "", ratio),
                     (f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "", seconds),
                     (f"{rate_j:.1f}" if rate_j is not None else "", rate_j),
                     job.get("state"), job.get("error"), worker.get("name"),
                     worker.get("address")])
    headers = ["input", "format", "scenes", "size in", "size out", "ratio", "seconds", "MB/s",
               "state", "reason", "worker", "worker address"]
    body = [f"<h1>{t(title)}</h1>", *facts, charts, "<h2>Jobs</h2>",
            _html.table(headers, rows, classes=[str(j.get("state") or "") for j in jobs])]
    return _html.page(title, body)


# -- values ------------------------------------------------------------------------------
def _throughput(jobs: Sequence[Mapping[str, Any]], origin: float | None
                ) -> list[tuple[float, float]]:
    """(seconds from `origin` to the job's end, its MB/s) of each job done with both known."""
    if origin is None:
        return []
    points = []
    for job in jobs:
        if job.get("state") != "done":
            continue
        end, rate = _time(job.get("finished")), _rate(job)
        if end is not None and rate is not None:
            points.append((end - origin, rate))
    return points


def _ratio(record: Mapping[str, Any]) -> float | None:
    size, out = record.get("size"), record.get("output_size")
    if isinstance(size, int) and isinstance(out, int) and size > 0:
        return out / size
    return None


def _rate(record: Mapping[str, Any]) -> float | None:
    """MB (10^6 bytes) of input per second of the job."""
    size, seconds = record.get("size"), record.get("seconds")
    if isinstance(size, int) and isinstance(seconds, (int, float)) and seconds > 0 \
            and math.isfinite(seconds):
        return size / 1e6 / seconds
    return None


def _time(value: object) -> float | None:
    """An ISO 8601 time as a POSIX timestamp; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _seconds_between(started: str, finished: str) -> float | None:
    a, b = _time(started), _time(finished)
    return max(0.0, b - a) if a is not None and b is not None else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0
