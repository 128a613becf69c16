"""Convert a collection on dask.distributed: one task per job, resumable by the manifest.

The client process plans the jobs (discovery, the manifest's resume rules), submits one task
per job, and alone writes the manifest, as results arrive. Workers open the inputs
themselves: only paths travel. Inputs and the output folder must be on storage every worker
sees; a worker that does not see them fails the job saying so.

A job writing every scene of an input larger than the split size to OME-Zarr is run in
parts: a task counts the input's scenes; with two or more, one task per scene writes its
image group into a staging folder beside the output (``.NAME.partial-PID-TAG``, PID the
client's), and a finishing task, once they all ended, writes the root's metadata and
renames the staging folder to the output. The manifest keeps one record per job.
"""

from __future__ import annotations

import contextlib
import csv
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import LightmicError, UsageError, WriteError, cause_of, first_line, one_line
from ..formats import file_stem, format_of
from ..paths import disk_bytes
from .discover import Dataset, Found, discover
from .manifest import Manifest, Record, fingerprint, locked, read_manifest

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster, as_completed

    from ..session import Session

CANCELLED = "cancelled before it ended"
SPLIT_SIZE = 2**30  # inputs above it are written a scene per task (OME-Zarr, every scene)
OPTION_KEYS = ("scene", "compression", "ngff_version", "pyramid_levels", "shard", "layout")
TARGETS = {"ome-zarr": ".ome.zarr", "ome-tiff": ".ome.tif"}
TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


class Progress(Protocol):
    """What a batch tells as it runs (the command line's progress lines, a dock's table)."""

    def started(self, jobs: list[Record], dashboard: str | None) -> None:
        """The jobs to run (those skipped too) and the dashboard's address, once."""

    def finished(self, record: Record) -> None:
        """A job ended (done or failed), or was skipped."""


@dataclass(frozen=True)
class Report:
    """What a batch did: one record per job, in the order planned.

    Attributes
    ----------
    records : list of dict
        The manifest records (see `napari_lightmic.batch.manifest`).
    started, finished : str
        ISO 8601 UTC times.
    dashboard : str or None
        The dask dashboard's address, where one was served.
    output_dir : Path
        The output folder, holding the manifest and the reports.
    ignored : list of (str, str)
        Files of the inputs that are no dataset of their own, with the reason.
    estimates : dict of str to int
        Dry run: each output's estimated bytes (pixels and pyramid, before compression).
    splits : dict of str to int
        Dry run: the outputs that would be written a scene per task, with their scenes.
    """

    records: list[Record]
    started: str
    finished: str
    dashboard: str | None
    output_dir: Path
    ignored: list[tuple[str, str]] = field(default_factory=list)
    estimates: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[Record]:
        """The jobs that failed."""
        return [r for r in self.records if r["state"] == "failed"]

    @property
    def done(self) -> list[Record]:
        """The jobs done in this run."""
        return [r for r in self.records if r["state"] == "done"]

    @property
    def exit_status(self) -> int:
        """0 when every job is done or skipped, 1 when some failed."""
        return 1 if self.failed else 0


def now() -> str:
    """The time now, ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def convert(inputs: Sequence[str | os.PathLike[str]], output_dir: str | os.PathLike[str],
            client: Client | None = None, *, to: str = "ome-zarr",
            jobs: str | os.PathLike[str] | None = None,
            retries: int = 1, overwrite: bool = False, dry_run: bool = False,
            split_size: int | str | None = SPLIT_SIZE,
            workers: int | None = None, threads_per_worker: int | None = None,
            memory_limit: str | int | None = None, scheduler: str | None = None,
            scheduler_file: str | None = None, progress: Progress | None = None,
            cancel: threading.Event | None = None,
            **options: int | str | bool | None) -> Report:
    """Convert files, folders and globs (and a job list) into an output folder.

    Parameters
    ----------
    inputs : sequence of str or os.PathLike
        Files, folders (walked recursively) and glob patterns.
    output_dir : str or os.PathLike
        Where outputs go, mirroring the input tree, with the manifest and the reports.
    client : distributed.Client, optional
        A client of the cluster to run on; the default starts a `LocalCluster` (or
        connects to `scheduler` / `scheduler_file`). A client given is not closed.
    to : {"ome-zarr", "ome-tiff"}
        The format written for inputs found by discovery.
    jobs : str or os.PathLike, optional
        A CSV job list: columns input and output (relative paths: inputs from the list's
        folder, outputs in `output_dir`), and optional scene, compression, ngff_version,
        pyramid_levels, shard and layout per row.
    retries : int
        More attempts, in this run, of a job that failed.
    overwrite : bool
        Replace outputs that the manifest does not know (else such jobs fail).
    dry_run : bool
        Plan only: nothing is written, no cluster started.
    split_size : int or str or None
        OME-Zarr jobs writing every scene of an input larger than this (bytes, or a size
        such as "1GiB") and holding two scenes or more are run a task per scene, and one
        finishing task (the same output as one task writes). 0, None or "none": never.
        Retries and cancelling apply to the whole job.
    workers, threads_per_worker, memory_limit : optional
        The `LocalCluster` started when no client, scheduler or scheduler file is given:
        worker processes (default: the cores, at most one per job), threads each (default 1),
        memory limit per worker (default: the machine's memory shared among them).
    scheduler, scheduler_file : str, optional
        An existing cluster's scheduler address, or its scheduler file.
    progress : Progress, optional
        Told the jobs at the start and each job as it ends.
    cancel : threading.Event, optional
        Set (from another thread) to stop the batch: the jobs not yet ended are cancelled
        and recorded failed ("cancelled before it ended"), the cluster started for the batch
        is closed, and their partial outputs are removed; the reports are written. A rerun
        redoes them from scratch (a task that ended its write as the cluster closed leaves
        a whole output, which the rerun replaces). On a cluster given or reached by
        address, a task already running cannot be interrupted: its output, if it ends, is
        replaced by the rerun.
    **options
        scene, compression, ngff_version, pyramid_levels, shard, layout: as
        `lightmic convert`.

    Returns
    -------
    Report
        Every job's record; `exit_status` is 1 when some failed.

    Raises
    ------
    UsageError
        A bad option, an input that names nothing, two inputs with one output.
    LightmicError
        Another batch is writing into the output folder.
    """
    started = now()
    out = Path(output_dir).absolute()
    if to not in TARGETS:
        raise UsageError(to, "the target format is ome-zarr or ome-tiff")
    unknown = set(options) - set(OPTION_KEYS)
    if unknown:
        raise UsageError(", ".join(sorted(unknown)), "unknown option")
    _check_cluster_options(retries, workers, threads_per_worker, memory_limit)
    split = split_bytes(split_size)
    if scheduler_file is not None and not Path(scheduler_file).is_file():
        raise UsageError(scheduler_file, "no such scheduler file")
    given = {k: v for k, v in options.items() if v is not None and v is not False
             and not (k == "scene" and v == "all")}
    found = discover([os.fspath(p) for p in inputs], exclude=out) if inputs else Found()
    records = _planned(found, out, TARGETS[to], given)
    if jobs is not None:
        records += _job_list(Path(jobs), out, given)
    if not records:
        raise UsageError(", ".join(map(str, inputs)) or str(jobs), "no dataset to convert")
    _check_outputs(records)
    ignored = [(str(p), why) for p, why in found.skipped]
    if dry_run:
        known = read_manifest(out, key="output") if out.is_dir() else {}
        for record in records:
            _resume(record, known.get(record["output"]), overwrite)
        estimates = {r["output"]: _estimate(r) for r in records if r["state"] == "planned"}
        splits = {r["output"]: r["scenes"] for r in records if r["state"] == "planned"
                  and _splits(r, split) and (r["scenes"] or 0) > 1}
        return Report(records, started, now(), None, out, ignored, estimates, splits)
    out.mkdir(parents=True, exist_ok=True)
    with locked(out):
        known = read_manifest(out, key="output")
        redo = {r["output"]: _resume(r, known.get(r["output"]), overwrite) for r in records}
        dashboard = _run(records, redo, out, client, retries, progress,
                         dict(workers=workers, threads_per_worker=threads_per_worker,
                              memory_limit=memory_limit, scheduler=scheduler,
                              scheduler_file=scheduler_file), cancel, split)
        report = Report(records, started, now(), dashboard, out, ignored)
        from .report import write_reports

        write_reports(records, out, title=f"lightmic convert into {out}", started=started,
                      finished=report.finished, dashboard=dashboard)
    return report


def _check_cluster_options(retries: int, workers: int | None, threads: int | None,
                           memory_limit: str | int | None) -> None:
    for name, value, least in (("retries", retries, 0), ("workers", workers, 1),
                               ("threads per worker", threads, 1)):
        if value is not None and value < least:
            raise UsageError(name, f"must be at least {least}, not {value}")
    if isinstance(memory_limit, str) and memory_limit != "auto":
        from dask.utils import parse_bytes

        try:
            parse_bytes(memory_limit)
        except ValueError:
            raise UsageError(memory_limit, "a memory limit is a size such as 4GB or "
                             "2.5GiB") from None


def split_bytes(size: int | str | None) -> int:
    """A split size in bytes (`dask.utils.parse_bytes`); 0 for None, 0 or "none": no split.

    Raises
    ------
    UsageError
        A size that is not one.
    """
    if size is None or (isinstance(size, str) and size.strip().lower() == "none"):
        return 0
    from dask.utils import parse_bytes

    try:
        value = parse_bytes(size)
    except (ValueError, TypeError):
        raise UsageError(str(size), "a split size is a size such as 1GiB, or none") from None
    if value < 0:
        raise UsageError(str(size), "a split size is a size such as 1GiB, or none")
    return value


def _splits(record: Record, split: int) -> bool:
    """Whether a job is run a scene per task when its input has two scenes or more."""
    from ..writing.options import target_format

    if split <= 0 or int(record["size"]) <= split or "scene" in record["options"]:
        return False
    try:
        return target_format(record["output"]) == "OME-Zarr"
    except WriteError:
        return False


def _record(dataset: Dataset, output: Path, options: dict[str, Any]) -> Record:
    try:
        mtime = max(m.stat().st_mtime for m in dataset.members)
        print_ = fingerprint(dataset.path, dataset.size)
    except OSError as exc:
        mtime, print_ = 0.0, ""
        error: str | None = one_line(f"{dataset.path}: {exc.strerror or exc}")
    else:
        error = None
    return {"input": str(dataset.path.absolute()), "output": str(output),
            "format": dataset.format,
            "size": dataset.size, "mtime": mtime, "fingerprint": print_, "options": options,
            "state": "failed" if error else "planned", "output_size": None, "seconds": None,
            "scenes": None, "error": error, "worker": None, "started": None,
            "finished": None, "attempts": 0}


def _planned(found: Found, out: Path, ending: str, options: dict[str, Any]) -> list[Record]:
    records = []
    for dataset in found.datasets:
        relative = dataset.path.relative_to(found.roots[dataset.path])
        target = out / relative.parent / (file_stem(relative.name) + ending)
        records.append(_record(dataset, target, dict(options)))
    return records


def _job_list(path: Path, out: Path, options: dict[str, Any]) -> list[Record]:
    """The jobs of a CSV job list."""
    from ..writing.options import option_value

    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(path, f"cannot read the job list: {exc}") from exc
    records = []
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("input") or not row.get("output"):
            raise UsageError(path, f"line {number}: give an input and an output")
        source = path.parent / row["input"]
        found = discover([str(source)]) if source.exists() else Found()
        fmt = format_of(source)
        dataset = found.datasets[0] if found.datasets else Dataset(
            source, fmt.name if fmt else "unknown", (source,), 0)
        mine = dict(options)
        for key in OPTION_KEYS:
            if row.get(key):
                try:
                    mine[key] = option_value(key, row[key])
                except ValueError as exc:
                    raise UsageError(path, f"line {number}: {exc}") from None
        record = _record(dataset, out / row["output"], mine)
        if not source.exists():
            record.update(state="failed", error=one_line(f"{source}: no such file or folder"))
        records.append(record)
    return records


def write_options(record: Record, overwrite: bool) -> tuple[Any, Any]:
    """The scene and `WriteOptions` of a job.

    Raises
    ------
    UsageError
        Options refused together, or by the output's format.
    """
    from ..writing import WriteOptions
    from ..writing.options import target_format

    given = record["options"]
    try:
        kind = target_format(record["output"])
        options = WriteOptions(ngff_version=given.get("ngff_version", "0.5"),
                               compression=given.get("compression"),
                               pyramid_levels=given.get("pyramid_levels"),
                               shard=bool(given.get("shard", False)), overwrite=overwrite,
                               layout=given.get("layout") or "auto")
        options.compression_for(kind)
    except WriteError as err:
        raise UsageError(err.path, err.cause) from err
    except ValueError as exc:
        raise UsageError(record["output"], str(exc)) from exc
    return given.get("scene", "all"), options


def _check_outputs(records: list[Record]) -> None:
    by_output: dict[str, str] = {}
    for record in records:
        write_options(record, False)
        first = by_output.setdefault(record["output"], record["input"])
        if first != record["input"]:
            raise UsageError(record["output"], f"two inputs would be written here: {first} "
                             f"and {record['input']}; name the outputs in a --jobs list")


def _resume(record: Record, previous: Record | None, overwrite: bool) -> bool:
    """Apply the resume rules to a planned record; whether the job may replace its output.

    Done and unchanged: skipped. Done and changed, left running by a killed batch, or
    cancelled: redone (the output is the batch's own). Otherwise an output that exists is refused
    unless `overwrite`.
    """
    if record["state"] != "planned":
        return False
    output = Path(record["output"])
    if previous is not None:
        record["attempts"] = int(previous.get("attempts") or 0)
        same = all(previous.get(k) == record[k]
                   for k in ("input", "size", "mtime", "fingerprint", "output", "options"))
        if previous.get("state") in ("done", "skipped") and same and output.exists():
            keep = ("output_size", "seconds", "scenes", "worker", "workers", "started",
                    "finished")
            record.update({k: previous.get(k) for k in keep}, state="skipped")
            return False
        if previous.get("state") in ("done", "skipped", "running") or previous.get("cancelled"):
            return True
    if output.exists() and not overwrite:
        record.update(state="failed", error=one_line(
            f"{output}: exists, and this folder's manifest does not know it; --overwrite "
            "replaces it"))
        return False
    return overwrite


def _estimate(record: Record) -> int:
    """An input's pixels in the chosen scenes, with a pyramid's third: an upper bound."""
    from ..reading import open_image

    try:
        with open_image(record["input"]) as source:
            scene = record["options"].get("scene", "all")
            chosen = source.scenes if scene == "all" else [source.scene(scene)]
            record["scenes"] = len(chosen)
            raw = sum(int(s.pixels.nbytes) for s in chosen)
    except LightmicError as err:
        record["error"] = str(err)
        return 0
    return raw if record["options"].get("pyramid_levels") == 1 else raw * 4 // 3


def _remove_partials(output: Path) -> None:
    """Remove what cancelled writes of `output` left, once their workers are gone."""
    from ..writing.common import remove_path, stale_partials

    for stale in stale_partials(output):
        remove_path(stale)


def _client(settings: dict[str, Any], count: int) -> tuple[Client, LocalCluster | None]:
    """A client and the cluster started for it (None for an existing cluster)."""
    import logging

    from distributed import Client, LocalCluster

    where = settings["scheduler"] or settings["scheduler_file"]
    if where:
        try:
            if settings["scheduler"]:
                return Client(settings["scheduler"]), None
            return Client(scheduler_file=settings["scheduler_file"]), None
        except (OSError, ValueError) as exc:
            raise LightmicError(where, f"cannot reach the dask scheduler: "
                                f"{first_line(str(exc)) or type(exc).__name__}") from exc
    import dask

    workers = settings["workers"] or max(1, min(os.cpu_count() or 1, count))
    # dask's nannies set MALLOC_TRIM_THRESHOLD_ in their workers, which makes glibc map and
    # unmap every chunk-sized buffer: 5x the page faults, a conversion 1.5-2x slower
    with dask.config.set({TRIM_SETTING: None}), warnings.catch_warnings():
        # dask's usual dashboard port; where another cluster has it, distributed serves the
        # dashboard on a free port (the address printed is the one used), without its warning
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        cluster = LocalCluster(n_workers=workers, processes=True,
                               threads_per_worker=settings["threads_per_worker"] or 1,
                               memory_limit=settings["memory_limit"] or "auto",
                               dashboard_address=":8787",
                               silence_logs=logging.ERROR)
    return Client(cluster), cluster


@contextlib.contextmanager
def cluster_client(workers: int | None = None, scheduler: str | None = None,
                   scheduler_file: str | None = None) -> Iterator[Client]:
    """A client of a new `LocalCluster` of `workers` processes, or of an existing cluster.

    The cluster started here is closed at the end of the block.

    Raises
    ------
    LightmicError
        The scheduler cannot be reached.
    """
    client, cluster = _client(dict(workers=workers, threads_per_worker=None,
                                   memory_limit=None, scheduler=scheduler,
                                   scheduler_file=scheduler_file), workers or 1)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run(records: list[Record], redo: dict[str, bool], out: Path, client: Client | None,
         retries: int, progress: Progress | None, settings: dict[str, Any],
         cancel: threading.Event | None = None, split: int = 0) -> str | None:
    """Run the planned jobs; the manifest gets each state as it changes.

    Jobs cancelled have their partial outputs removed once the cluster started for them is
    closed (a writer's partial is removed only when its process is gone).
    """
    todo = [r for r in records if r["state"] == "planned"]
    manifest = Manifest(out)
    own: Client | None = None
    cluster: LocalCluster | None = None
    jobs: _Jobs | None = None
    try:
        for record in records:
            if record["state"] == "failed":
                manifest.append(record)
        if todo and client is None:
            own, cluster = _client(settings, len(todo))
        active = client or own
        dashboard = active.dashboard_link if active is not None else None
        if progress is not None:
            progress.started(records, dashboard)
            for record in records:
                if record["state"] in ("skipped", "failed"):
                    progress.finished(record)
        if active is not None:
            jobs = _Jobs(active, out, redo, manifest, retries, split)
            jobs.run(records, todo, progress, cancel)
        return dashboard
    finally:
        manifest.close()
        if own is not None:
            own.close()
        if cluster is not None:
            cluster.close()
        for output in jobs.cancelled if jobs is not None else ():
            _remove_partials(Path(output))
        from ..writing.common import remove_path

        for staging in jobs.stagings if jobs is not None else ():
            remove_path(staging)  # every split attempt's: those that succeeded were renamed away


@dataclass
class _Attempt:
    """One attempt of a job on the cluster: its parts not ended yet, and what they did."""

    running: Record  # the job's record while it runs
    start: float  # time.perf_counter() at submission
    parts: dict[str, tuple[str, Future[Any]]] = field(default_factory=dict)  # key -> kind
    staging: Path | None = None  # a split job's staging folder
    workers: list[dict[str, str]] = field(default_factory=list)  # those that ran a part
    probed: bool = False  # its scenes counted first: a job run in parts

    def ran(self, worker: dict[str, str] | None) -> None:
        """Note a worker that ran a part."""
        if worker and worker not in self.workers:
            self.workers.append(worker)


class _Jobs:
    """The jobs of a run on a cluster: submitted (split into parts), collected, retried."""

    def __init__(self, client: Client, out: Path, redo: dict[str, bool], manifest: Manifest,
                 retries: int, split: int = 0) -> None:
        self.client, self.out, self.redo = client, out, redo
        self.manifest, self.retries, self.split = manifest, retries, split
        self.tries: dict[str, int] = {}
        self.attempts: dict[str, _Attempt] = {}  # output -> its attempt under way
        self.owners: dict[str, str] = {}  # a part's key -> its job's output
        self.cancelled: list[str] = []  # the outputs of the jobs cancelled
        self.stagings: list[Path] = []  # the staging folders of split attempts
        self.records: list[Record] = []
        self.index: dict[str, int] = {}
        self.progress: Progress | None = None
        self.waiting: as_completed | None = None

    def run(self, records: list[Record], todo: list[Record], progress: Progress | None,
            cancel: threading.Event | None = None) -> None:
        """Run `todo`; each result replaces its record in `records` as it arrives.

        When `cancel` is set, the jobs not ended are cancelled (every part) and recorded so.
        """
        from distributed import as_completed

        for record in todo:
            self.manifest.append(record)
        self.records, self.progress = records, progress
        self.index = {r["output"]: i for i, r in enumerate(records)}
        waiting = self.waiting = as_completed()
        for record in todo:
            self.submit(record)
        while not waiting.is_empty():
            if cancel is not None and cancel.is_set():
                for result in self.cancel():
                    records[self.index[result["output"]]] = result
                    if progress is not None:
                        progress.finished(result)
                return
            ready = waiting.next_batch(block=False)
            if not ready:
                if cancel is None:
                    ready = waiting.next_batch(block=True)
                else:
                    cancel.wait(0.1)
            for future in ready:
                self.collect(future)

    def submit(self, record: Record) -> None:
        """Submit an attempt of a job: its first part.

        A killed run's partial output is removed by the worker's writer.
        """
        self.tries[record["output"]] = self.tries.get(record["output"], 0) + 1
        running = dict(record, state="running", attempts=int(record["attempts"]) + 1,
                       error=None, started=now(), finished=None, worker=None, seconds=None,
                       output_size=None, scenes=None)
        running.pop("workers", None)
        running.pop("cancelled", None)
        self.manifest.append(running)
        attempt = self.attempts[record["output"]] = _Attempt(running, time.perf_counter())
        if _splits(running, self.split):
            attempt.probed = True
            self._part(attempt, "count", count_scenes, running, str(self.out),
                       self.redo[record["output"]])
        else:
            self._part(attempt, "job", run_job, running, str(self.out),
                       self.redo[record["output"]])

    def _part(self, attempt: _Attempt, kind: str, task: Callable[..., Record],
              *args: Any) -> Future[Record]:  # noqa: ANN401 - a task's arguments
        key = f"lightmic-{kind}-{uuid.uuid4().hex}"
        future: Future[Record] = self.client.submit(task, *args, key=key, pure=False)
        attempt.parts[key] = (kind, future)
        self.owners[key] = attempt.running["output"]
        assert self.waiting is not None
        self.waiting.add(future)
        return future

    def collect(self, future: Future[Record]) -> None:
        """Take a part that ended: submit the next parts, or end its job (retried if it may)."""
        key = str(future.key)
        output = self.owners.pop(key, None)
        attempt = self.attempts.get(output) if output is not None else None
        if attempt is None or key not in attempt.parts:
            return  # a part of a job ended already (failed, cancelled)
        kind, _ = attempt.parts.pop(key)
        running = attempt.running
        result = _result(future, running)
        attempt.ran(result.get("worker"))
        if result["state"] == "failed" or kind in ("job", "finish") or (
                kind == "count" and result["state"] == "done"):  # one scene: written by it
            self.end(attempt, result)
        elif kind == "count":
            self._split(attempt, int(result["scenes"]))
        # a scene written: its job goes on with the others

    def _split(self, attempt: _Attempt, scenes: int) -> None:
        """Submit a task per scene, and the finishing task that waits for them."""
        from ..writing.common import staging_name

        running = attempt.running
        staging = attempt.staging = staging_name(Path(running["output"]))
        self.stagings.append(staging)
        parts = [self._part(attempt, "scene", run_scene, running, i, str(staging))
                 for i in range(scenes)]
        self._part(attempt, "finish", finish_job, running, str(staging),
                   self.redo[running["output"]], *parts)

    def end(self, attempt: _Attempt, result: Record) -> None:
        """An attempt ended: the job's record; its other parts cancelled; retried if it may."""
        output = attempt.running["output"]
        del self.attempts[output]
        if attempt.parts:
            self.client.cancel([future for _, future in attempt.parts.values()], force=True)
        if attempt.probed:  # run in parts: every worker, the job's wall time
            result.update(workers=attempt.workers, started=attempt.running["started"],
                          finished=result.get("finished") or now(),
                          seconds=round(time.perf_counter() - attempt.start, 3))
        self.manifest.append(result)
        self.records[self.index[output]] = result
        if result["state"] == "failed" and self.tries[output] <= self.retries:
            self.submit(result)
        elif self.progress is not None:
            self.progress.finished(result)

    def cancel(self) -> list[Record]:
        """Cancel every part not collected yet; their jobs' records, failed as cancelled."""
        self.client.cancel([future for attempt in self.attempts.values()
                            for _, future in attempt.parts.values()], force=True)
        ended = []
        for attempt in self.attempts.values():
            running = attempt.running
            record = dict(running, state="failed", finished=now(), cancelled=True,
                          error=one_line(f"{running['input']}: {CANCELLED}"))
            self.manifest.append(record)
            self.cancelled.append(record["output"])
            ended.append(record)
        self.attempts.clear()
        self.owners.clear()
        return ended


def _result(future: Future[Record], running: Record) -> Record:
    """A part's record; a task that raised (a worker lost, cancelled) failed its job."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - whatever ended the task is the job's reason
        record: Record = dict(running)
        record.update(state="failed", finished=now(),
                      error=one_line(f"{record['input']}: "
                                     f"{cause_of(exc, 'the task failed')}"))
        return record


def run_job(job: Record, output_dir: str, overwrite: bool = False) -> Record:
    """Convert one job's input on the worker running it; give its record.

    The worker checks that it sees the input and the output folder, writes the output
    (atomically: nothing at the output path unless complete), and records itself.
    """
    from ..session import Session

    with _task(job) as record:
        _check_visible(record, Path(output_dir))
        with Session.open(record["input"]) as session:
            _write_job(record, session, overwrite)
    return record


def count_scenes(job: Record, output_dir: str, overwrite: bool = False) -> Record:
    """A large job's first part: the scenes of its input (metadata only), in `scenes`.

    An input of one scene is written by this part, from the file it opened (as `run_job`
    would): its record is then done.
    """
    from ..session import Session

    with _task(job) as record:
        _check_visible(record, Path(output_dir))
        with Session.open(record["input"]) as session:
            record.update(scenes=len(session.effective_source().scenes))
            if record["scenes"] < 2:
                _write_job(record, session, overwrite)
    return record


def _write_job(record: Record, session: Session, overwrite: bool) -> None:
    """Write a job's output from its opened input; its record done."""
    from ..writing import convert_opened

    scene, options = write_options(record, overwrite)
    output = Path(record["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    done = convert_opened(session, output, scene, options)
    record.update(state="done", output_size=_output_size(output), scenes=len(done.scenes),
                  error=None)


def run_scene(job: Record, index: int, staging: str) -> Record:
    """A split job's part: write scene `index` as its image group in the staging folder."""
    from ..session import Session
    from ..writing.ome_zarr import write_scene_group

    with _task(job) as record:
        _, options = write_options(record, True)
        with Session.open(record["input"]) as session:
            scene = session.effective_source().scenes[index]
            write_scene_group(scene, index, staging, options)
        record.update(state="done", error=None)
    return record


def finish_job(job: Record, staging: str, overwrite: bool, *scenes: Record) -> Record:
    """A split job's last part, once its scenes are written: finish and place the output.

    Given the scene parts' records: with one failed, the job fails with its reason.
    """
    from ..session import Session
    from ..writing.ome_zarr import finish_ome_zarr

    with _task(job) as record:
        failed = [part for part in scenes if part["state"] != "done"]
        if failed:
            record.update(state="failed", error=failed[0]["error"])
            return record
        _, options = write_options(record, overwrite)
        output = Path(record["output"])
        with Session.open(record["input"]) as session:
            source = session.effective_source()
            finish_ome_zarr(source, source.scenes, staging, output, options,
                            record=session.record)
        record.update(state="done", output_size=_output_size(output), scenes=len(scenes),
                      error=None)
    return record


@contextlib.contextmanager
def _task(job: Record) -> Iterator[Record]:
    """A part's record: its worker, times and seconds; what the block raises, its error."""
    record = dict(job, worker=_this_worker(), started=now())
    start = time.perf_counter()
    try:
        yield record
    except LightmicError as err:
        record.update(state="failed", error=str(err))
    except Exception as exc:  # noqa: BLE001 - a failing file never stops the batch
        record.update(state="failed", error=one_line(f"{record['input']}: {cause_of(exc)}"))
    finally:
        record.update(seconds=round(time.perf_counter() - start, 3), finished=now())


def _this_worker() -> dict[str, str] | None:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    return {"name": str(worker.name), "address": str(worker.address)}


def _check_visible(record: Record, output_dir: Path) -> None:
    where = record["worker"]
    on = f"worker {where['name']} ({where['address']})" if where else "this process"
    if not Path(record["input"]).exists():
        raise LightmicError(record["input"], f"{on} does not see the input; inputs and the "
                            "output folder must be on storage every worker sees")
    if not output_dir.is_dir():
        raise LightmicError(output_dir, f"{on} does not see the output folder; inputs and "
                            "the output folder must be on storage every worker sees")


def _output_size(path: Path) -> int:
    size = disk_bytes(path)
    if size is None:
        raise FileNotFoundError(f"{path}: the output cannot be read")
    return size
