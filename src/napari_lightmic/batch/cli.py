"""`lightmic convert ... --output-dir DIR`: a batch, its progress, its plan and its end."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from ..errors import one_line
from .manifest import Record

MB = 1e6


class BatchProgress:
    """On a terminal one line redrawn (jobs, bytes, MB/s, failures); else a line per job."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.total = self.bytes_total = 0
        self.ended = self.failed = self.bytes_done = 0
        self.start = time.monotonic()

    def started(self, jobs: list[Record], dashboard: str | None) -> None:
        """Say how many jobs there are and where the dashboard is."""
        self.total = len(jobs)
        self.bytes_total = sum(int(r["size"]) for r in jobs)
        self.start = time.monotonic()
        where = f"; dashboard: {dashboard}" if dashboard else ""
        self._say(f"lightmic: {self.total} jobs, {self.bytes_total / MB:.1f} MB{where}")

    def finished(self, record: Record) -> None:
        """One job ended: a line for it (failures always), and the bar redrawn."""
        self.ended += 1
        self.failed += record["state"] == "failed"
        if record["state"] == "done":
            self.bytes_done += int(record["size"])
        line = _job_line(record)
        if not self.terminal or record["state"] == "failed":
            self._say(line)
        if self.terminal:
            self._bar()

    def close(self) -> None:
        """End the bar's line."""
        if self.terminal and self.ended:
            self.stream.write("\n")
            self.stream.flush()

    def _bar(self) -> None:
        seconds = max(time.monotonic() - self.start, 1e-6)
        width = 20
        jobs = "#" * (width * self.ended // max(self.total, 1))
        size = "#" * (width * self.bytes_done // max(self.bytes_total, 1))
        self.stream.write(
            f"\rjobs [{jobs:<{width}}] {self.ended}/{self.total}, {self.failed} failed  "
            f"bytes [{size:<{width}}] {self.bytes_done / MB:.0f}/{self.bytes_total / MB:.0f} MB"
            f", {self.bytes_done / MB / seconds:.1f} MB/s ")
        self.stream.flush()

    def _say(self, line: str) -> None:
        if self.terminal and self.ended:
            self.stream.write("\r\x1b[K")
        print(line, file=self.stream, flush=True)


def _job_line(record: Record) -> str:
    name = one_line(record["input"])
    if record["state"] == "failed":
        return f"lightmic: failed: {record['error']}"
    if record["state"] == "skipped":
        return f"lightmic: skipped {name}: done before, unchanged"
    worker = record.get("worker") or {}
    seconds = record.get("seconds") or 0.0
    rate = int(record["size"]) / MB / seconds if seconds else 0.0
    return (f"lightmic: done {name} -> {one_line(record['output'])} ({record['scenes']} "
            f"scene{'s' if record['scenes'] != 1 else ''}, {int(record['size']) / MB:.1f} MB "
            f"in {seconds:.1f} s, {rate:.1f} MB/s, worker {worker.get('name', '?')} "
            f"{worker.get('address', '')})")


def run_batch(args: argparse.Namespace) -> int:
    """Run `lightmic convert` with --output-dir; give the exit status (0 all done, 1 failures)."""
    import logging

    from ..errors import UsageError
    from .engine import SPLIT_SIZE, convert

    if not args.input and not args.jobs:
        raise UsageError("convert", "give inputs (files, folders, globs) or --jobs JOBS.csv")
    if not args.verbose:
        logging.getLogger("distributed").setLevel(logging.ERROR)
    progress = None if args.dry_run else BatchProgress()
    options = {"scene": None if args.scene == "all" else args.scene,  # parsed by the parser
               "compression": args.compression, "ngff_version":
               None if args.ngff_version == "0.5" else args.ngff_version,
               "pyramid_levels": args.pyramid_levels, "shard": args.shard,
               "layout": None if args.layout == "auto" else args.layout}
    try:
        report = convert(args.input, args.output_dir, to=args.to, jobs=args.jobs,
                         retries=args.retries, overwrite=args.overwrite,
                         dry_run=args.dry_run, workers=args.workers,
                         split_size=SPLIT_SIZE if args.split_size is None else args.split_size,
                         threads_per_worker=args.threads_per_worker,
                         memory_limit=args.memory_limit, scheduler=args.scheduler,
                         scheduler_file=args.scheduler_file, progress=progress, **options)
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()
            progress = None
        print("lightmic: interrupted; outputs done are kept, partial ones are removed when "
              "the same command is run again, which resumes the batch", file=sys.stderr)
        return 130  # cli.EXIT_INTERRUPTED (cli imports this module: no import back)
    finally:
        if progress is not None:
            progress.close()
    if args.dry_run:
        _print_plan(report.records, report.estimates, report.ignored, report.splits)
        return 0
    done = len(report.done)
    skipped = sum(r["state"] == "skipped" for r in report.records)
    print(f"lightmic: {done} done, {skipped} skipped, {len(report.failed)} failed; manifest "
          f"and report in {one_line(str(report.output_dir))}", file=sys.stderr)
    if report.failed:
        print("lightmic: failed:", file=sys.stderr)
        for record in report.failed:
            print(f"  {record['error']}", file=sys.stderr)
    return report.exit_status


def _print_plan(records: list[Record], estimates: dict[str, int],
                ignored: list[tuple[str, str]], splits: dict[str, int]) -> None:
    """The plan, a job a line, on stdout (a job run a task per scene says so)."""
    for record in records:
        state = record["state"]
        if state == "planned":
            scenes = record["scenes"]
            tasks = f" in {splits[record['output']]} scene tasks" \
                if record["output"] in splits else ""
            what = (f"{scenes} scene{'s' if scenes != 1 else ''}{tasks}, about "
                    f"{estimates.get(record['output'], 0) / MB:.1f} MB at most"
                    if scenes is not None else f"will fail: {record['error']}")
        elif state == "skipped":
            what = "skipped: done before, unchanged"
        else:
            what = f"refused: {record['error']}"
        print(f"{one_line(record['input'])} ({record['format']}, {int(record['size']) / MB:.1f} "
              f"MB) -> {one_line(record['output'])}: {what}")
    for path, why in ignored:
        print(f"{one_line(path)}: not converted: {why}")
    planned = [r for r in records if r["state"] == "planned"]
    print(f"{len(planned)} to convert ({sum(int(r['size']) for r in planned) / MB:.1f} MB in, "
          f"about {sum(estimates.values()) / MB:.1f} MB out at most), "
          f"{sum(r['state'] == 'skipped' for r in records)} skipped, "
          f"{sum(r['state'] == 'failed' for r in records)} refused; nothing written (dry run)")
