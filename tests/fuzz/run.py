"""Run seeded fuzz cases, each in subprocesses with a time and an address-space limit.

A case is a damaged copy of one dataset (mutate.py) put through what a user does with it,
each stage in its own subprocess (10 s, RLIMIT_AS 4 GiB, no core file):

open
    ``open_image`` then, for every scene, ``np.asarray`` of the first plane and of one
    random plane of level 0.
info
    ``python -m napari_lightmic info --json PATH``; the output must be strict JSON (finite
    numbers only).
convert
    ``python -m napari_lightmic convert PATH OUT`` to an empty folder (OME-Zarr or OME-TIFF);
    on failure the folder must stay empty (no output, no partial sibling).

Each stage ends as one of:

ok        opened and read (exit 0)
clean     LightmicError / LightmicReadError naming the file, one line (exit 1 or 2)
refused   a good dataset under an odd name (the ``name`` mutation) refused, however cleanly
accepted  a DTD (entities, a billion laughs) in XML the reader must parse, opened without
          complaint (CZI metadata, LIF header, BigDataViewer XML, OME-TIFF description)
escaped   another exception type, a traceback, an error of several lines or not naming the
          file, invalid JSON, an output left behind, or the dataset changed
hang      still running at the time limit (killed)
memory    MemoryError, or killed for want of memory
crash     killed by a signal (SIGSEGV, SIGABRT...)
leaked    another file's bytes read as pixels (the ``outside`` mutation opened)

A case's outcome is its worst stage's. Usage::

    python -m tests.fuzz.run --seed 1 --cases 300 --out report.jsonl
    python -m tests.fuzz.run --replay 1-42          # one case again, everything printed
    python -m tests.fuzz.run --replay 1-42 --keep   # ... and its damaged copy kept

Case ids are ``SEED-INDEX``: the case is made again from them, so a replay is exact.

``--fork`` runs each stage in a child forked from a runner that has already imported the
package and the readers' libraries (0.3 s a case instead of 4 s): the same code under the
same limits, without paying the imports again; the long runs use it, the tests do not.
Several runners share a run by index range (``--start``)::

    python -m tests.fuzz.run --fork --seed 5 --cases 2500 --start 0 --out a.jsonl &
    python -m tests.fuzz.run --fork --seed 5 --cases 2500 --start 2500 --out b.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.mutate import FAMILIES, KINDS, SOURCES, Source, available, kinds_for, mutate

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ("ok", "clean", "refused", "accepted", "escaped", "leaked", "hang", "memory",
            "crash")
BAD = ("refused", "accepted", "escaped", "leaked", "hang", "memory", "crash")
# XML a reader must parse to open the file: a DTD in it must be refused (README, Bad input)
DTD_READ = ("czi", "lif", "bdv", "ometiff")
STAGES = ("open", "info", "convert")
TIMEOUT = 10.0
MEMORY = 4 * 2**30
MARK = "FUZZ-RESULT "


@dataclass(frozen=True)
class Case:
    """One fuzz case: made again from its seed and index."""

    seed: str
    index: int
    source: Source
    kind: str

    @property
    def id(self) -> str:
        """SEED-INDEX."""
        return f"{self.seed}-{self.index}"


def cases(seed: str, count: int, families: tuple[str, ...] = FAMILIES,
          kinds: tuple[str, ...] = KINDS, start: int = 0) -> list[Case]:
    """The first `count` cases of `seed` from index `start` of the families and kinds asked.

    A case is drawn from its seed and index alone (`case`), so its id replays it whatever
    the filters: a filter skips the cases it does not keep.
    """
    out: list[Case] = []
    index = start
    while len(out) < count and index < start + 1000 * max(1, count):
        c = case(seed, index)
        if c.source.family in families and c.kind in kinds:
            out.append(c)
        index += 1
    return out


def case(seed: str, index: int) -> Case:
    """The case `index` of `seed` (its id is SEED-INDEX): families in turn, source and kind drawn.

    The families are those whose files are here (the synthetic ones always are).
    """
    families = [f for f in FAMILIES if any(s.family == f and available(s) for s in SOURCES)]
    rng = random.Random(f"case/{seed}/{index}")
    family = families[index % len(families)]
    source = rng.choice([s for s in SOURCES if s.family == family and available(s)])
    kind = rng.choice(kinds_for(family))
    return Case(seed, index, source, kind)


# -- the worker: open and read, in the subprocess -------------------------------------------

def _planes(scene: object, rng: random.Random) -> list[tuple[int, ...]]:
    dims, shape = scene.dims, scene.data.shape  # type: ignore[attr-defined]
    first = tuple(0 for d in dims if d not in "YXS")
    drawn = tuple(rng.randrange(max(1, n)) for d, n in zip(dims, shape) if d not in "YXS")
    return [first, drawn]


def _index(scene: object, plane: tuple[int, ...]) -> tuple[object, ...]:
    values = iter(plane)
    return tuple(slice(None) if d in "YXS" else next(values)
                 for d in scene.dims)  # type: ignore[attr-defined]


def worker(path: str, seed: str) -> int:
    """Open `path`, read the first and a random plane of every scene; print the result."""
    import traceback

    import numpy as np

    from napari_lightmic import LightmicError, open_image

    rng = random.Random(seed)
    where = "open"
    try:
        source = open_image(path)
        for scene in source.scenes:
            for name, plane in zip(("first", "random"), _planes(scene, rng)):
                where = f"read scene {scene.index} {name} plane {plane}"
                np.asarray(scene.data[_index(scene, plane)])
        result = {"outcome": "ok", "scenes": len(source.scenes)}
    except LightmicError as err:
        result = {"outcome": "clean", "where": where, "type": type(err).__name__,
                  "error": str(err)}
    except MemoryError as err:
        result = {"outcome": "memory", "where": where, "error": str(err)[:300]}
    except BaseException as err:  # what escapes is what this harness is looking for
        result = {"outcome": "escaped", "where": where, "type": type(err).__name__,
                  "error": str(err)[:500],
                  "trace": traceback.format_exc().splitlines()[-6:]}
    print(MARK + json.dumps(result), flush=True)
    return 0


# -- the parent: stages in subprocesses -----------------------------------------------------

def _limits(memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONWARNINGS"] = "ignore"  # a library's warning is not the outcome looked at
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def spawn(argv: list[str], timeout: float, memory: int, cwd: Path) -> dict[str, object]:
    """Run argv limited; give returncode, stdout, stderr and whether it was killed at the limit."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True,
                            preexec_fn=lambda: _limits(memory))  # noqa: PLW1509
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)  # the group of the process started here
        out, err = proc.communicate()
    return {"returncode": proc.returncode, "stdout": out.decode("utf-8", "surrogateescape"),
            "stderr": err.decode("utf-8", "surrogateescape"), "timed_out": timed_out,
            "seconds": round(time.monotonic() - started, 2)}


# Imported before forking so that a forked stage does not import them again.
WARM = ("numpy", "dask", "dask.array", "zarr", "zarr.storage", "zarr.codecs", "numcodecs",
        "fsspec", "tifffile", "imagecodecs", "h5py", "nd2", "liffile", "pylibCZIrw.czi",
        "ome_types", "ome_types.model", "lxml.etree", "pydantic", "jsonschema", "imageio",
        "bioio", "bioio_base.reader", "napari_lightmic", "napari_lightmic.cli",
        "napari_lightmic.reading", "napari_lightmic.writing")


def warm() -> None:
    """Import what the stages use, in the runner, before any fork."""
    import importlib
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def fork(target: Callable[[], int], timeout: float, memory: int,
         cwd: Path) -> dict[str, object]:
    """Run target() in a forked child, limited as `spawn` limits; the same record as spawn."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.setsid()
                os.chdir(cwd)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape",  # noqa: SIM115
                                  closefd=False)
                sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                                  closefd=False)
                _limits(memory)
                _after_fork()
                import faulthandler  # where a hang is, in its stderr

                faulthandler.dump_traceback_later(max(0.5, timeout - 0.5), file=sys.stderr)
                code = target()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # as Python itself would: a traceback, exit 1
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except BaseException:
                        pass
                os._exit(code)
        timed_out, status = False, 0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - started > timeout:
                timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.01)
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"returncode": code,
                "stdout": out.read().decode("utf-8", "surrogateescape"),
                "stderr": err.read().decode("utf-8", "surrogateescape"),
                "timed_out": timed_out, "seconds": round(time.monotonic() - started, 2)}


def _after_fork() -> None:
    """Forget what the runner's threads were: a thread pool of the parent has no threads here."""
    threaded = sys.modules.get("dask.threaded")
    if threaded is not None:  # the runner's dask writes (synthetic sources) made its pool
        threaded.default_pool = None  # type: ignore[attr-defined]
        threaded.pools.clear()  # type: ignore[attr-defined]


def _cli(argv: list[str]) -> Callable[[], int]:
    def run() -> int:
        from napari_lightmic.cli import main

        sys.argv = ["lightmic", *argv]
        return main(argv)
    return run


def _killed(run: dict[str, object]) -> tuple[str, str] | None:
    """The outcome of a run that did not end by itself, or None."""
    stderr = str(run["stderr"])
    if run["timed_out"]:
        return "hang", f"still running after {run['seconds']} s"
    if "MemoryError" in stderr or "bad_alloc" in stderr or "Cannot allocate memory" in stderr:
        return "memory", _last(stderr)
    code = int(run["returncode"])  # type: ignore[call-overload]
    if code < 0:
        name = signal.Signals(-code).name
        if -code == signal.SIGKILL:
            return "memory", "killed (SIGKILL) by the system"
        return "crash", f"killed by {name}: {_last(stderr)}"
    return None


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _names_file(message: str, path: Path, data: Path) -> bool:
    """Whether the message names the file (or its folder), as printed or escaped."""
    shown = [path.name, str(data), os.fsdecode(path)]
    shown += [s.encode("utf-8", "backslashreplace").decode("ascii", "replace") for s in shown]
    return any(s in message for s in shown)


def classify_open(run: dict[str, object], path: Path, data: Path) -> tuple[str, str]:
    """The outcome of the open stage."""
    killed = _killed(run)
    if killed:
        return killed
    lines = [ln for ln in str(run["stdout"]).splitlines() if ln.startswith(MARK)]
    if not lines:
        return "escaped", f"no result (exit {run['returncode']}): {_last(str(run['stderr']))}"
    result = json.loads(lines[-1][len(MARK):])
    outcome = result["outcome"]
    if outcome == "ok":
        if not result["scenes"]:
            return "escaped", "opened with no scene"
        return "ok", f"{result['scenes']} scene(s) read"
    message = result.get("error", "")
    detail = f"{result.get('where')}: {result.get('type', '')}: {message}"[:600]
    if outcome == "clean":
        if "\n" in message:
            return "escaped", "error of several lines: " + detail
        if not _names_file(message, path, data):
            return "escaped", "error not naming the file: " + detail
    return outcome, detail


def classify_cli(run: dict[str, object], path: Path, data: Path,
                 as_json: bool = False) -> tuple[str, str]:
    """The outcome of a `lightmic` command."""
    killed = _killed(run)
    if killed:
        return killed
    code, stderr = int(run["returncode"]), str(run["stderr"])  # type: ignore[call-overload]
    if "Traceback (most recent call last)" in stderr:
        return "escaped", f"traceback (exit {code}): {_last(stderr)}"
    if code == 0:
        if as_json:
            try:
                json.loads(str(run["stdout"]), parse_constant=_refuse_constant)
            except ValueError as exc:
                return "escaped", f"info --json printed invalid JSON: {exc}"[:300]
        return "ok", "exit 0"
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if code not in (1, 2):
        return "escaped", f"exit {code}: {_last(stderr)}"
    if len(lines) != 1:
        return "escaped", f"error of {len(lines)} lines (exit {code}): {_last(stderr)}"
    if not lines[0].startswith("lightmic: ") or not _names_file(lines[0], path, data):
        return "escaped", f"error not naming the file (exit {code}): {lines[0][:300]}"
    return "clean", lines[0][:300]


def _refuse_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name}")


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under folder: a digest for regular files, the kind for the others."""
    out = {}
    for entry in sorted(folder.rglob("*")):
        key = os.fsdecode(entry.relative_to(folder))
        if entry.is_symlink():
            out[key] = "link " + os.readlink(entry)
        elif entry.is_file():
            out[key] = hashlib.sha256(entry.read_bytes()).hexdigest()
        else:
            out[key] = "folder" if entry.is_dir() else "special"
    return out


def _stage(stage: str, c: Case, path: Path, folder: Path, timeout: float,
           memory: int, forked: bool = False) -> tuple[str, str, dict[str, object]]:
    data = folder / "data" if (folder / "data").exists() else path.parent
    python = sys.executable
    if stage == "open":
        if forked:
            run = fork(lambda: worker(os.fsdecode(path), c.id), timeout, memory, ROOT)
        else:
            run = spawn([python, "-m", "tests.fuzz.run", "--worker", os.fsdecode(path),
                         "--plane-seed", c.id], timeout, memory, ROOT)
        return (*classify_open(run, path, data), run)
    if stage == "info":
        argv = ["info", "--json", os.fsdecode(path)]
        run = (fork(_cli(argv), timeout, memory, folder) if forked else
               spawn([python, "-m", "napari_lightmic", *argv], timeout, memory, folder))
        return (*classify_cli(run, path, data, as_json=True), run)
    out = folder / "out"
    out.mkdir()
    suffix = random.Random(f"convert/{c.id}").choice((".ome.zarr", ".ome.tif"))
    argv = ["convert", os.fsdecode(path), str(out / f"converted{suffix}")]
    run = (fork(_cli(argv), timeout, memory, folder) if forked else
           spawn([python, "-m", "napari_lightmic", *argv], timeout, memory, folder))
    outcome, detail = classify_cli(run, path, data)
    left = sorted(p.name for p in out.iterdir())
    if outcome != "ok" and left and not run["timed_out"]:  # killed: the next one cleans up
        outcome, detail = "escaped", f"left {left} after: {detail}"
    return outcome, detail, run


def run_case(c: Case, workdir: Path, stages: tuple[str, ...] = STAGES,
             timeout: float = TIMEOUT, memory: int = MEMORY,
             keep: bool = False, forked: bool = False) -> dict[str, object]:
    """Make the case's damaged copy, run its stages, classify; the record of the case."""
    folder = Path(tempfile.mkdtemp(prefix=f"case-{c.id}-", dir=workdir))
    record: dict[str, object] = {"id": c.id, "seed": c.seed, "index": c.index,
                                 "family": c.source.family, "source": c.source.name,
                                 "kind": c.kind}
    try:
        mutation = mutate(c.source, c.kind, c.id, folder)
        record["mutation"] = mutation.detail
        path = mutation.path
        before = _snapshot(folder)
        results: dict[str, dict[str, object]] = {}
        for stage in stages:
            outcome, detail, run = _stage(stage, c, path, folder, timeout, memory, forked)
            if stage == "open" and c.kind == "outside" and outcome == "ok":
                outcome, detail = "leaked", "another file's bytes opened as an image"
            if c.kind == "name" and outcome == "clean":
                outcome = "refused"
            if (stage == "open" and c.kind == "hostile" and outcome == "ok"
                    and c.source.family in DTD_READ
                    and any(w in mutation.detail for w in ("DTD", "entity", "laughs"))):
                outcome, detail = "accepted", "the file's XML holds a DTD, opened all the same"
            results[stage] = {"outcome": outcome, "detail": detail,
                              "seconds": run["seconds"]}
            if keep:
                results[stage]["stderr"] = str(run["stderr"])[-12000:]
        after = {k: v for k, v in _snapshot(folder).items() if not k.startswith("out")}
        if after != {k: v for k, v in before.items() if not k.startswith("out")}:
            changed = sorted(set(after.items()) ^ set(before.items()))[:3]
            results.setdefault("dataset", {})["outcome"] = "escaped"
            results["dataset"]["detail"] = f"the dataset was changed: {changed}"
        record["stages"] = results
        record["outcome"] = max((r["outcome"] for r in results.values()),
                                key=OUTCOMES.index)
    finally:
        if keep:
            record["kept"] = str(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return record


# -- summary --------------------------------------------------------------------------------

def _table(title: str, rows: dict[str, Counter[str]]) -> str:
    head = f"{title:<14}" + "".join(f"{o:>9}" for o in OUTCOMES) + f"{'total':>9}"
    lines = [head, "-" * len(head)]
    for name in sorted(rows):
        counts = rows[name]
        lines.append(f"{name:<14}" + "".join(f"{counts.get(o, 0):>9}" for o in OUTCOMES)
                     + f"{sum(counts.values()):>9}")
    return "\n".join(lines)


def summary(records: list[dict[str, object]]) -> str:
    """Tables of outcomes: overall, by stage, by family and by kind; and the failing cases."""
    total: dict[str, Counter[str]] = {"all cases": Counter(str(r["outcome"]) for r in records)}
    by_stage: dict[str, Counter[str]] = defaultdict(Counter)
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        by_family[str(r["family"])][str(r["outcome"])] += 1
        by_kind[str(r["kind"])][str(r["outcome"])] += 1
        for stage, result in r.get("stages", {}).items():  # type: ignore[union-attr]
            by_stage[stage][result["outcome"]] += 1
    parts = [_table("outcome", total), _table("stage", by_stage), _table("family", by_family),
             _table("kind", by_kind)]
    failing = [r for r in records if r["outcome"] in BAD]
    if failing:
        lines = ["failing cases (replay: python -m tests.fuzz.run --replay ID):"]
        for r in failing:
            worst = [(s, v) for s, v in r["stages"].items()  # type: ignore[union-attr]
                     if v["outcome"] == r["outcome"]][0]
            lines.append(f"  {r['id']:<10} {r['outcome']:<8} {r['family']:<8} {r['kind']:<9}"
                         f" {worst[0]}: {str(worst[1]['detail'])[:160]}  [{r['mutation']}]")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """The command line: run cases, or replay one, or (internally) be the open worker."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--out", type=Path, help="write one JSON record per case here")
    parser.add_argument("--replay", metavar="CASE_ID", help="run one case (SEED-INDEX) again")
    parser.add_argument("--keep", action="store_true", help="keep the damaged copies")
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    parser.add_argument("--memory-gib", type=float, default=MEMORY / 2**30)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--fork", action="store_true",
                        help="fork each stage from this runner (imports paid once)")
    parser.add_argument("--workdir", type=Path, help="where cases are made (a temp folder)")
    parser.add_argument("--worker", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--plane-seed", default="0", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.plane_seed)
    stages = tuple(args.stages.split(","))
    memory = int(args.memory_gib * 2**30)
    if args.replay:
        seed, _, index = args.replay.rpartition("-")
        chosen = [case(seed, int(index))]
    else:
        chosen = cases(args.seed, args.cases, tuple(args.families.split(",")),
                       tuple(args.kinds.split(",")), args.start)
    if args.fork:
        warm()
    workdir = Path(tempfile.mkdtemp(prefix="lightmic-fuzz-", dir=args.workdir))
    records = []
    out = open(args.out, "w") if args.out else None  # noqa: SIM115
    try:
        for n, c in enumerate(chosen, 1):
            record = run_case(c, workdir, stages, args.timeout, memory, args.keep,
                              args.fork)
            records.append(record)
            if out:
                out.write(json.dumps(record) + "\n")
                out.flush()
            print(f"[{n}/{len(chosen)}] {c.id} {c.source.family}/{c.kind}: {record['outcome']}"
                  f" ({record.get('mutation', '')})"[:200], file=sys.stderr, flush=True)
            if args.replay:
                print(json.dumps(record, indent=2, ensure_ascii=False))
    finally:
        if out:
            out.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(summary(records))
    return 1 if any(r["outcome"] in BAD for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
