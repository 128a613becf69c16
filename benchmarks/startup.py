"""Start-up as a user meets it: each figure from a fresh process, beside its goal.

    PYTHONPATH=src python benchmarks/startup.py [--runs 7] [--src NAME=DIR ...]
        [--large PATH | --make-large] [--testdata] [--only help,import,convert,plane]

Rows (each run a new process; wall time is the whole process as `subprocess.run` sees it):

  lightmic --help          the installed command beside this interpreter, `lightmic --help`.
                           Goal < 0.3 s.
  import napari_lightmic.cli
                           `python -X importtime -c "import napari_lightmic.cli"`: the wall
                           time, and the cumulative time importtime gives napari_lightmic.cli
                           (the package's own import is nested in it). Goal: loads none of
                           dask.array, pandas, xarray, scipy, ome_types, napari.
  convert 5 MB ...         `lightmic convert IN OUT` of a 5.2 MB synthetic OME-TIFF (2 channels
                           x 5 z x 512 x 512 uint16, cell-like, physical sizes) to OME-Zarr and to
                           OME-TIFF, and of a CZI of the same pixels (pylibCZIrw) to OME-Zarr,
                           default options; the output is removed between runs. Goal < 0.8 s.
  first plane ...          napari's npe2 reader call on a file, then its first plane as an
                           ndarray as napari's slicing reads it, as the first file of the
                           session, in a fresh interpreter that has started napari (napari's
                           imports not counted): `npe2_first_plane.py`, shared with
                           `open_first_plane.py`. The time runs from just before the reader
                           call; "reader" is the call alone. For the 2 GB tiled OME-TIFF of
                           `convert.py` (`--large`; `--make-large` makes it, with convert.py's
                           1 GB CZI, if it is missing) and, with `--testdata`, the shared CZI,
                           LIF, ND2 and OME-TIFF. Goal < 1.0 s. Needs a display: runs itself
                           under `xvfb-run` without one.

The last column names the heavy modules (dask.array, pandas, xarray, scipy, ome_types, zarr,
napari, distributed, tifffile, pylibCZIrw) in `sys.modules` of the measured process when done
(a `sitecustomize` on the children's path writes them at exit: about 1 ms of the figure);
in bold those the import goal excludes. For first-plane rows "+" marks a module the read
loaded, the others napari had loaded already.

Sources: "this tree" is the `lightmic` command (and `python`) with this process's PYTHONPATH,
so run it with the checkout's sources first on the path. `--src NAME=DIR` adds a source
tree, run as `python -m napari_lightmic ...` with PYTHONPATH=DIR (e.g. the code before a
change: `git archive 02de3dc src napari.yaml | tar -x -C /tmp/before`, then
`--src before=/tmp/before/src`; src/napari_lightmic/napari.yaml links to the root's, which
npe2 needs to find the reader); `--src now=src` gives this tree launched the same way.

Runs are interleaved (row after row, source after source, the order of the sources reversed
every other run) so a slow moment of the shared machine hits every row alike; each cell is the
median and (range) of the runs. The inputs are in the page cache (just written or read by the
run before).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import npe2_first_plane

HEAVY = ("dask.array", "pandas", "xarray", "scipy", "ome_types", "zarr", "napari",
         "distributed", "tifffile", "pylibCZIrw")
NOT_ON_IMPORT = ("dask.array", "pandas", "xarray", "scipy", "ome_types", "napari")
PACKAGES = ("napari-lightmic", "napari", "npe2", "numpy", "tifffile", "zarr", "dask",
            "pylibCZIrw", "ome-types", "PyQt5", "PyQt6", "PySide6")
SHAPE = (2, 5, 512, 512)  # C, Z, Y, X: 5.2 MB of uint16
LARGE = "/tmp/lightmic-bench/conv-2GB.ome.tif"

# Put on the children's path: at exit, the measured process writes where napari_lightmic
# came from and the names in its sys.modules.
SITECUSTOMIZE = '''
import os
_out = os.environ.get("LIGHTMIC_STARTUP_MODULES")
if _out:
    import atexit
    import sys

    def _dump(out=_out):
        package = sys.modules.get("napari_lightmic")
        text = str(getattr(package, "__file__", "")) + "\\n" + "\\n".join(sys.modules)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, text.encode())
        os.close(fd)

    atexit.register(_dump)
'''


@dataclass
class Source:
    name: str
    tree: str | None  # None: this process's PYTHONPATH and the installed command

    def pythonpath(self) -> list[str]:
        if self.tree is not None:
            return [str(Path(self.tree).resolve())]
        return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]

    def cli(self, lightmic: str) -> list[str]:
        if self.tree is None:
            return [lightmic]
        return [sys.executable, "-m", "napari_lightmic"]


@dataclass
class Row:
    key: str  # help, import, convert, plane
    label: str
    goal: str
    goal_s: float | None = None
    args: tuple = ()
    missing: str = ""  # why the row cannot run


@dataclass
class Cell:
    seconds: list[float] = field(default_factory=list)
    detail: dict[str, list[float]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)
    before: set[str] | None = None  # first-plane rows: loaded before the read
    where: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


# --- inputs ------------------------------------------------------------------------------


def make_small(folder: Path) -> tuple[Path, Path]:
    """The 5.2 MB OME-TIFF and CZI (same pixels), made once."""
    tiff, czi = folder / "cells-5MB.ome.tif", folder / "cells-5MB.czi"
    if tiff.exists() and czi.exists():
        return tiff, czi
    import tifffile
    from pylibCZIrw import czi as pyczi

    from napari_lightmic.synthetic import cells

    folder.mkdir(parents=True, exist_ok=True)
    data = cells(SHAPE[1:], n_cells=30, seed=1)[: SHAPE[0]]
    part = tiff.with_name("part-" + tiff.name)
    tifffile.imwrite(part, data, ome=True, photometric="minisblack",
                     metadata={"axes": "CZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2,
                               "PhysicalSizeZ": 0.5, "Channel": {"Name": ["DAPI", "GFP"]}})
    part.rename(tiff)
    part = czi.with_name("part-" + czi.name)
    part.unlink(missing_ok=True)
    with pyczi.create_czi(str(part), exist_ok=True) as doc:
        for c in range(SHAPE[0]):
            for z in range(SHAPE[1]):
                doc.write(data[c, z][..., None], plane={"C": c, "Z": z})
        doc.write_metadata(document_name="cells-5MB", channel_names={0: "DAPI", 1: "GFP"},
                           scale_x=0.2e-6, scale_y=0.2e-6, scale_z=0.5e-6)
    part.rename(czi)
    return tiff, czi


def rows_wanted(args: argparse.Namespace, tiff: Path | None, czi: Path | None) -> list[Row]:
    only = set(args.only.split(","))
    rows: list[Row] = []
    if "help" in only:
        rows.append(Row("help", "`lightmic --help`", "< 0.3 s", 0.3))
    if "import" in only:
        rows.append(Row("import", '`python -X importtime -c "import napari_lightmic.cli"`',
                        "none of " + ", ".join(NOT_ON_IMPORT)))
    if "convert" in only:
        for label, source, suffix in (("OME-TIFF → OME-Zarr", tiff, ".ome.zarr"),
                                      ("OME-TIFF → OME-TIFF", tiff, ".ome.tif"),
                                      ("CZI → OME-Zarr", czi, ".ome.zarr")):
            rows.append(Row("convert", f"`lightmic convert` 5 MB {label}", "< 0.8 s", 0.8,
                            (source, suffix)))
    if "plane" in only:
        large = Path(args.large)
        if args.make_large and not large.exists():
            sys.path.insert(0, str(Path(__file__).parent))
            from convert import make_inputs

            print(f"making {large.parent}/conv-2GB.ome.tif (and conv-1GB.czi)", file=sys.stderr)
            large = make_inputs(large.parent)["OME-TIFF 2 GB"]
        files = [large]
        if args.testdata:
            files += [npe2_first_plane.testdata_root() / name for name in npe2_first_plane.FILES]
        for path in files:
            size = f"{path.stat().st_size / 1e6:,.0f} MB" if path.exists() else "missing"
            rows.append(Row("plane", f"first plane, npe2 reader: {path.name} ({size})",
                            "< 1.0 s", 1.0, (path,),
                            "" if path.exists() else f"missing: {path}"
                            + (" (--make-large makes it)" if path == large else "")))
    return rows


# --- measuring ---------------------------------------------------------------------------


def _modules(out: Path) -> tuple[str, set[str]]:
    try:
        where, *names = out.read_text().splitlines()
    except (OSError, ValueError):
        return "", set()
    finally:
        out.unlink(missing_ok=True)
    return where, set(names)


def _error(result: subprocess.CompletedProcess) -> str:
    lines = [x for x in (result.stderr + result.stdout).splitlines() if x.strip()]
    return f"exit {result.returncode}: " + (lines[-1] if lines else "")[:100]


def run_command(row: Row, source: Source, hook: Path, lightmic: str, out_dir: Path,
                cell: Cell) -> None:
    modules = hook / f"modules-{os.getpid()}.txt"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), *source.pythonpath()]),
               LIGHTMIC_STARTUP_MODULES=str(modules))
    output = None
    if row.key == "help":
        command = [*source.cli(lightmic), "--help"]
    elif row.key == "import":
        command = [sys.executable, "-X", "importtime", "-c", "import napari_lightmic.cli"]
    else:
        source_file, suffix = row.args
        output = out_dir / f"{source.name}{suffix}"
        _remove(output)
        command = [*source.cli(lightmic), "convert", str(source_file), str(output)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    seconds = time.perf_counter() - start
    where, names = _modules(modules)
    if output is not None:
        _remove(output)
    if result.returncode != 0:
        cell.errors.append(_error(result))
        return
    cell.seconds.append(seconds)
    cell.modules |= {m for m in HEAVY if m in names}
    cell.where.add(str(Path(where).parent) if where else "?")
    if row.key == "import":
        found = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| napari_lightmic\.cli$",
                          result.stderr, re.MULTILINE)  # top level: no indent before the name
        if found:
            cell.detail.setdefault("napari_lightmic.cli", []).append(int(found.group(1)) / 1e3)


def run_plane(row: Row, source: Source, cell: Cell) -> None:
    r = npe2_first_plane.measure(row.args[0], watch=HEAVY, pythonpath=source.pythonpath())
    if "error" in r:
        cell.errors.append(r["error"])
        return
    cell.seconds.append(r["first plane"])
    cell.detail.setdefault("reader", []).append(r["reader"])
    cell.modules |= set(r["modules"])
    before = set(r["modules_before"])
    cell.before = before if cell.before is None else cell.before & before
    cell.where.add(r.get("napari_lightmic", "?"))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --- report ------------------------------------------------------------------------------


def _spread(values: list[float], unit: str = "s") -> str:
    if not values:
        return ""
    median = statistics.median(values)
    digits = 0 if unit == "ms" else (2 if median >= 1 else 3)
    return (f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"
            + (" ms" if unit == "ms" else ""))


def _module_list(row: Row, cell: Cell) -> str:
    names = []
    for m in HEAVY:
        if m not in cell.modules:
            continue
        text = f"**{m}**" if m in NOT_ON_IMPORT and row.key != "plane" else m
        if row.key == "plane" and cell.before is not None and m not in cell.before:
            text = "+" + text
        names.append(text)
    return ", ".join(names) or "none"


def _verdict(row: Row, cell: Cell) -> str:
    if not cell.seconds:
        return ""
    if row.goal_s is not None:
        return "yes" if statistics.median(cell.seconds) < row.goal_s else "**no**"
    bad = [m for m in NOT_ON_IMPORT if m in cell.modules]
    return "**no**: " + ", ".join(bad) if bad else "yes"


def header(sources: list[Source], lightmic: str) -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
        ram = f"{int(mem) / 2**20:.1f} GiB"
    except OSError:
        ram = "?"
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    lines = [f"# lightmic start-up, {datetime.datetime.now().isoformat(timespec='minutes')}",
             "",
             f"- machine: {platform.node()}, nproc {os.cpu_count()}, {cpu}, RAM {ram}, "
             f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start",
             f"- Python {platform.python_version()} ({sys.executable}); "
             + ", ".join(versions)]
    for source in sources:
        if source.tree is None:
            lines.append(f"- source `{source.name}`: `{lightmic}` with "
                         f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}{_git(None)}")
        else:
            lines.append(f"- source `{source.name}`: `python -m napari_lightmic` with "
                         f"PYTHONPATH={Path(source.tree).resolve()}{_git(source.tree)}")
    return lines


def _git(tree: str | None) -> str:
    """`, git abc1234 (+ changes)` when the napari_lightmic a source imports is in a checkout."""
    if tree is None:
        import importlib.util

        spec = importlib.util.find_spec("napari_lightmic")
        if spec is None or spec.origin is None:
            return ""
        folder = Path(spec.origin).parent
    else:
        folder = Path(tree)
    done = subprocess.run(["git", "-C", str(folder), "describe", "--always", "--dirty"],
                          capture_output=True, text=True)
    return f", git {done.stdout.strip()}" if done.returncode == 0 else ""


def report(rows: list[Row], sources: list[Source], cells: dict, runs: int) -> list[str]:
    lines = [f"| row | source | goal | seconds: median (range) of {runs} | goal met | detail "
             "| heavy modules loaded when done |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        for source in sources:
            if row.missing:
                lines.append(f"| {row.label} | {source.name} | {row.goal} | {row.missing} "
                             "| | | |")
                continue
            cell: Cell = cells[row.label, source.name]
            unit = "ms" if row.key == "import" else "s"
            detail = "; ".join(f"{what} {_spread(values, unit)}"
                               for what, values in cell.detail.items())
            if cell.errors:
                detail = (detail + "; " if detail else "") + (
                    f"{len(cell.errors)} failed: {cell.errors[-1]}")
            timing = _spread(cell.seconds) or "failed"
            lines.append(f"| {row.label} | {source.name} | {row.goal} | {timing} | "
                         f"{_verdict(row, cell)} | {detail} | {_module_list(row, cell)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--src", action="append", default=[], metavar="NAME=DIR",
                        help="another source tree, run with PYTHONPATH=DIR (repeatable)")
    parser.add_argument("--large", default=LARGE, help="the large OME-TIFF of the first plane")
    parser.add_argument("--make-large", action="store_true",
                        help="make --large's folder's conv-2GB.ome.tif with convert.py if missing")
    parser.add_argument("--testdata", action="store_true",
                        help="first plane of the shared CZI, LIF, ND2 and OME-TIFF too")
    parser.add_argument("--only", default="help,import,convert,plane",
                        help="rows to run: help, import, convert, plane (comma-separated)")
    parser.add_argument("--dir", default="/tmp/lightmic-startup",
                        help="where the 5 MB inputs are kept and the outputs written")
    parser.add_argument("--lightmic", default=str(Path(sys.executable).with_name("lightmic")),
                        help="the installed command (default: the one beside this python)")
    parser.add_argument("--label", default="this tree", help="the name of this tree's rows")
    args = parser.parse_args()
    sources = [Source(args.label, None)]
    for spec in args.src:
        name, sep, tree = spec.partition("=")
        if not sep or not Path(tree, "napari_lightmic").is_dir():
            parser.error(f"--src {spec}: NAME=DIR, with DIR holding napari_lightmic")
        if "plane" in args.only and not Path(tree, "napari_lightmic", "napari.yaml").exists():
            parser.error(f"--src {spec}: napari_lightmic/napari.yaml is missing (a link to the "
                         "checkout's root one: export napari.yaml with src)")
        sources.append(Source(name, tree))
    folder = Path(args.dir)
    tiff = czi = None
    if "convert" in args.only.split(","):
        tiff, czi = make_small(folder)
    rows = rows_wanted(args, tiff, czi)
    out_dir = folder / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = header(sources, args.lightmic)
    cells = {(row.label, source.name): Cell() for row in rows for source in sources}
    with tempfile.TemporaryDirectory(prefix="lightmic-startup-") as hook:
        Path(hook, "sitecustomize.py").write_text(SITECUSTOMIZE)
        for run in range(args.runs):  # interleaved: a slow moment hits every row alike
            order = sources if run % 2 == 0 else sources[::-1]
            for row in rows:
                if row.missing:
                    continue
                for source in order:
                    cell = cells[row.label, source.name]
                    done = len(cell.seconds)
                    if row.key == "plane":
                        run_plane(row, source, cell)
                    else:
                        run_command(row, source, Path(hook), args.lightmic, out_dir, cell)
                    figure = (f"{cell.seconds[-1]:.3f} s" if len(cell.seconds) > done
                              else cell.errors[-1])
                    print(f"run {run + 1}/{args.runs} {row.label} [{source.name}] {figure}",
                          file=sys.stderr)
    shutil.rmtree(out_dir, ignore_errors=True)
    lines += [f"- load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"]
    for source in sources:  # where each source's children imported napari_lightmic from
        where = sorted({w for (_, name), cell in cells.items() if name == source.name
                        for w in cell.where})
        lines.append(f"- `{source.name}` imported napari_lightmic from: {', '.join(where)}")
    lines += ["", *report(rows, sources, cells, args.runs)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
