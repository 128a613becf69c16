"""Whole folders: one `lightmic convert DIR --output-dir OUT` against loops of single conversions.

    python benchmarks/batch.py [--files 200] [--dir /tmp/lightmic-batch-bench]
                               [--bfconvert-jar JAR] [--peers-python PEERS_VENV/bin/python]

Makes up to 200 small files (2 channels x 5 z x 512 x 512 uint16, smooth cell-like images with
noise): half CZI written with pylibCZIrw, half OME-TIFF written with tifffile, in DIR/files
(kept between runs, with the checksum of the pixels each holds). `--files N` takes the first
N of them (alternately CZI and OME-TIFF) into a folder of their own, then times, each as a
user runs it, with the inputs in the page cache:

  lightmic batch      `lightmic convert FOLDER --output-dir OUT --workers 2`: one batch on a
                      2-worker dask LocalCluster, start-up paid once per worker
  lightmic loop       a shell for-loop of `lightmic convert FILE OUT/NAME.ome.zarr`
  bfconvert loop      a shell for-loop of Bio-Formats' ImageConverter
                      (`java -cp JAR loci.formats.tools.ImageConverter -noflat FILE OUT.ome.tif`)
  eubi-bridge-lite    `eubi to_zarr FOLDER --output_path OUT --max_processes 2` (its peers
                      venv, `pip install eubi-bridge-lite`), when --peers-python is given

and checks a sample of each method's outputs (`--check`, default 10): each opens (with
napari_lightmic's readers), its full-resolution image is 2 x 5 x 512 x 512 and the SHA-1 of
its pixels is the source's. Prints a Markdown table: wall seconds, files/s, MB/s (input bytes
on disk per second) and the files/s of each method against the bfconvert loop and the
lightmic loop. Then the start-up of the command line: the total import time of
`napari_lightmic.cli` (`python -X importtime`) and the wall time of `lightmic --help`, each
the median of 5 fresh processes.

Run it with the checkout's sources first on the path (`PYTHONPATH=src`): the `lightmic`
command beside this interpreter is run with the same environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = sys.executable
SHAPE = (2, 5, 512, 512)  # C, Z, Y, X
JAR = "/work/main/.bioformats/bioformats_package.jar"


def _name(i: int) -> str:
    return f"cells_{i:03d}.czi" if i % 2 == 0 else f"cells_{i:03d}.ome.tif"


def _stem(name: str) -> str:
    return name.split(".", 1)[0]


def _pixels(i: int, bases: list[np.ndarray]) -> np.ndarray:
    rng = np.random.default_rng(1000 + i)
    data = np.roll(bases[i % len(bases)], 37 * i, axis=-1)
    return data + rng.integers(0, 40, data.shape, dtype=np.uint16)


def _sha1(data: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(data, dtype=np.uint16).tobytes()).hexdigest()


def make_inputs(folder: Path, count: int) -> dict[str, str]:
    """The first `count` files in `folder` (made if missing), with the SHA-1 of their pixels."""
    from pylibCZIrw import czi as pyczi

    from napari_lightmic.synthetic import cells, write_ome_tiff

    folder.mkdir(parents=True, exist_ok=True)
    sums_path = folder / "checksums.json"
    sums: dict[str, str] = json.loads(sums_path.read_text()) if sums_path.exists() else {}
    missing = [i for i in range(count) if _name(i) not in sums or not (folder / _name(i)).exists()]
    if missing:
        bases = [cells(SHAPE[1:], n_cells=30, seed=s)[:2] for s in range(4)]
        print(f"making {len(missing)} input files in {folder}", file=sys.stderr, flush=True)
    for i in missing:
        data = _pixels(i, bases)
        path = folder / _name(i)
        path.unlink(missing_ok=True)
        if path.suffix == ".czi":
            with pyczi.create_czi(str(path), exist_ok=True) as doc:
                for c in range(SHAPE[0]):
                    for z in range(SHAPE[1]):
                        doc.write(data[c, z][..., None], plane={"C": c, "Z": z})
                doc.write_metadata(document_name=_stem(path.name),
                                   channel_names={0: "DAPI", 1: "GFP"}, scale_x=0.2e-6,
                                   scale_y=0.2e-6, scale_z=0.5e-6)
        else:
            write_ome_tiff(path, data, axes="CZYX")
        sums[path.name] = _sha1(data)
        sums_path.write_text(json.dumps(sums, indent=1))
    return {_name(i): sums[_name(i)] for i in range(count)}


def subset(files: Path, names: list[str], folder: Path) -> None:
    """`folder` holding just `names` (hard links to the files made once)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in names:
        os.link(files / name, folder / name)


def _warm(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(64 * 2**20):
                pass


def methods(inputs: Path, out: Path, lightmic: str, jar: str | None,
            peers: str | None) -> dict[str, tuple[list[str], str]]:
    """Each method's command line, and the suffix of the output a file `NAME.x` becomes."""
    loop = ('status=0; for f in "$1"/*; do n=$(basename "$f"); n=${n%%%%.*}; '
            '%s || status=1; done; exit $status')
    runs = {
        "lightmic batch (2 workers)": (
            [lightmic, "convert", str(inputs), "--output-dir", str(out), "--workers", "2"],
            ".ome.zarr"),
        "lightmic loop": (
            ["bash", "-c", loop % f'"{lightmic}" convert "$f" "$2/$n.ome.zarr"', "loop",
             str(inputs), str(out)], ".ome.zarr"),
    }
    if jar:
        runs["bfconvert loop"] = (
            ["bash", "-c", loop % f'java -cp "{jar}" loci.formats.tools.ImageConverter '
             '-noflat "$f" "$2/$n.ome.tif" > /dev/null', "loop", str(inputs), str(out)],
            ".ome.tif")
    if peers:
        eubi = str(Path(peers).with_name("eubi"))
        runs["eubi-bridge-lite (2 processes)"] = (
            [eubi, "to_zarr", str(inputs), "--output_path", str(out), "--max_processes", "2"],
            ".zarr")
    return runs


def _output(out: Path, name: str, suffix: str) -> Path | None:
    stem = _stem(name)
    for candidate in (out / f"{stem}{suffix}", *sorted(out.rglob(f"{stem}.*"))):
        if candidate.exists() and candidate.name.endswith(suffix):
            return candidate
    return None


def check(out: Path, names: list[str], sums: dict[str, str], suffix: str) -> str:
    """How many of the outputs of `names` open, with the right shape and the source's pixels."""
    from napari_lightmic import open_image

    good, problems = 0, []
    for name in names:
        path = _output(out, name, suffix)
        if path is None:
            problems.append(f"{_stem(name)}: no output")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zarr on a peer's extra folders
                with open_image(path) as source:
                    scene = source.scenes[0]
                    data = np.asarray(scene.data)
                    dims = scene.dims
        except Exception as error:  # noqa: BLE001 - a benchmark reports any failure
            problems.append(f"{path.name}: {type(error).__name__}: {error}"[:100])
            continue
        extra = tuple(i for i, a in enumerate(dims) if a not in "CZYX" and data.shape[i] == 1)
        data, dims = data.squeeze(axis=extra), "".join(a for a in dims if a in "CZYX")
        if sorted(dims) != sorted("CZYX"):
            problems.append(f"{path.name}: axes {scene.dims} {scene.shape}")
            continue
        data = data.transpose([dims.index(a) for a in "CZYX"])
        if data.shape != SHAPE:
            problems.append(f"{path.name}: shape {data.shape}")
        elif _sha1(data) != sums[name]:
            problems.append(f"{path.name}: pixels differ")
        else:
            good += 1
    text = f"{good}/{len(names)}"
    return text + (" (" + "; ".join(problems[:2]) + ")" if problems else "")


def run(command: list[str], timeout: int) -> tuple[float | None, str]:
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"over {timeout} s"
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        lines = [x for x in (result.stderr + result.stdout).splitlines() if x.strip()]
        return seconds, f"exit {result.returncode}: " + (lines[-1] if lines else "")[:100]
    return seconds, ""


def _median_wall(runs: int, command: list[str]) -> float:
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def startup(lightmic: str, runs: int = 5) -> None:
    """The import time of napari_lightmic.cli and the wall time of `lightmic --help`."""
    ours, totals = [], []
    for _ in range(runs):
        err = subprocess.run([HERE, "-X", "importtime", "-c", "import napari_lightmic.cli"],
                             capture_output=True, text=True, check=True).stderr
        # the cumulative time of each top-level import (no indent before its name): the
        # interpreter's own start-up (encodings, site) and napari_lightmic.cli's
        top = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| (\S+)", err, re.MULTILINE)
        totals.append(sum(int(us) for us, _ in top) / 1e3)
        ours.append(sum(int(us) for us, name in top if name.startswith("napari_lightmic")) / 1e3)
    help_wall = _median_wall(runs, [lightmic, "--help"])
    print(f"\n`python -X importtime -c \"import napari_lightmic.cli\"`: "
          f"{statistics.median(ours):.0f} ms for napari_lightmic.cli and what it imports, "
          f"{statistics.median(totals):.0f} ms with the interpreter's start-up imports "
          f"(medians of {runs} processes)")
    print(f"`lightmic --help`: {help_wall:.2f} s wall (median of {runs} processes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=200, help="how many files (at most 200)")
    parser.add_argument("--dir", default="/tmp/lightmic-batch-bench")
    parser.add_argument("--bfconvert-jar", default=JAR if Path(JAR).exists() else None)
    parser.add_argument("--peers-python", help="the python of a venv with eubi-bridge-lite")
    parser.add_argument("--check", type=int, default=10, help="outputs checked per method")
    parser.add_argument("--only", help="comma-separated words of the method names to run")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per method")
    args = parser.parse_args()
    if not 1 <= args.files <= 200:
        parser.error("--files: 1 to 200")
    lightmic = str(Path(HERE).with_name("lightmic"))
    root = Path(args.dir)
    sums = make_inputs(root / "files", args.files)
    names = list(sums)
    inputs = root / f"inputs-{args.files}"
    subset(root / "files", names, inputs)
    paths = [inputs / n for n in names]
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    step = max(1, len(names) // args.check)
    sample = names[::step][:args.check]
    out = root / "out"
    rows = {}
    for label, (command, suffix) in methods(inputs, out, lightmic, args.bfconvert_jar,
                                            args.peers_python).items():
        if args.only and not any(w.strip() in label for w in args.only.split(",")):
            continue
        shutil.rmtree(out, ignore_errors=True)
        if "batch" not in label:
            out.mkdir(parents=True)
        _warm(paths)
        print(f"running {label} ...", file=sys.stderr, flush=True)
        seconds, error = run(command, args.timeout)
        rows[label] = (seconds, error, check(out, sample, sums, suffix) if seconds else "")
    shutil.rmtree(out, ignore_errors=True)

    def rate(label: str) -> float | None:
        seconds, error, checked = rows.get(label, (None, "", ""))
        return args.files / seconds if seconds and not error else None

    bf, loop = rate("bfconvert loop"), rate("lightmic loop")
    print(f"\n{args.files} files ({(args.files + 1) // 2} CZI, {args.files // 2} OME-TIFF, "
          f"2 x 5 x 512 x 512 uint16, {size_mb:.0f} MB in all), {os.cpu_count()} cores\n")
    print("| method | wall s | files/s | MB/s | × bfconvert loop | × lightmic loop "
          "| outputs checked |")
    print("|---|---|---|---|---|---|---|")
    for label, (seconds, error, checked) in rows.items():
        r = rate(label)
        if r is None:
            wall = f"{seconds:.1f}" if seconds else ""
            print(f"| {label} | {wall} | failed: {error} | | | | {checked} |")
            continue
        assert seconds is not None
        versus = [f"{r / base:.1f}x" if base else "" for base in (bf, loop)]
        print(f"| {label} | {seconds:.1f} | {r:.2f} | {size_mb / seconds:.1f} | "
              f"{versus[0]} | {versus[1]} | {checked} |", flush=True)
    startup(lightmic)


if __name__ == "__main__":
    main()
