"""Whole folders of large files: one batch against the same conversions run back to back.

    python benchmarks/batch_large.py [--copies 4] [--runs 2] [--dir /tmp/lightmic-bench]

Takes the ~2 GB tiled OME-TIFF of `benchmarks/convert.py` (made there if missing) `--copies`
times (hard links in a folder of their own: each a file of its own to the batch; one copy in
the page cache serves them all, for both methods alike) and converts the folder to OME-Zarr
(the defaults: NGFF 0.5, blosc-zstd, the pyramid policy's levels), as a user runs it:

  back to back        `lightmic convert FILE OUT/NAME.ome.zarr`, one file after the other
  lightmic batch      `lightmic convert FOLDER --output-dir OUT --workers 2`: a 2-worker dask
                      LocalCluster, one task per file

The methods alternate, `--runs` times each; the table gives the median wall time, the range, the
total MB/s (input bytes per second) and the batch's MB/s against back to back. Peak memory is
each process's largest resident set, sampled every 0.1 s over the whole process tree: for back
to back the largest single conversion, for the batch the largest worker and the client. Every
output of the last run of each method is checked: it opens with napari_lightmic's readers, has
the source's shape and the same number of levels for both methods, and the SHA-1 of its
full-resolution pixels (plane by plane) is the source's.

Run it with the checkout's sources first on the path (`PYTHONPATH=src`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from convert import make_inputs  # noqa: E402 - the 2 GB input made as convert.py makes it

HERE = sys.executable


def sha1_of(path: Path) -> tuple[str, tuple[int, ...], int]:
    """SHA-1 of the full-resolution pixels, plane by plane; the shape; the number of levels."""
    from napari_lightmic import open_image

    digest = hashlib.sha1()
    with open_image(path) as source:
        scene = source.scenes[0]
        data = scene.data
        planes = data.reshape((-1, *data.shape[-2:]))
        for i in range(planes.shape[0]):
            digest.update(np.ascontiguousarray(planes[i].compute()).tobytes())
        return digest.hexdigest(), tuple(data.shape), len(scene.levels)


class PeakMemory:
    """The largest resident set of each process of a tree, sampled every 0.1 s."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                top = psutil.Process(self.root)
                processes = [top, *top.children(recursive=True)]
            except psutil.Error:
                processes = []
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    line = " ".join(process.cmdline())
                except psutil.Error:
                    continue
                if rss > self.peaks.get(process.pid, (0, ""))[0]:
                    self.peaks[process.pid] = (rss, line)
            self._stop.wait(0.1)

    def stop(self) -> dict[int, tuple[int, str]]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def run(command: list[str], timeout: int) -> tuple[float, dict[int, tuple[int, str]]]:
    """Wall seconds of `command` and the peak RSS of every process it ran."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    memory = PeakMemory(process.pid)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise SystemExit(f"{command[:3]} ran over {timeout} s") from None
    finally:
        peaks = memory.stop()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({process.returncode}):\n{output[-2000:]}")
    return seconds, peaks


def back_to_back(lightmic: str, inputs: list[Path], out: Path,
                 timeout: int) -> tuple[float, int, int]:
    """Wall seconds of the single conversions in turn; the largest one's peak RSS (twice)."""
    total, largest = 0.0, 0
    for path in inputs:
        seconds, peaks = run([lightmic, "convert", str(path),
                              str(out / (path.name.split(".")[0] + ".ome.zarr"))], timeout)
        total += seconds
        largest = max([largest, *(rss for rss, _ in peaks.values())])
    return total, largest, largest


def batch(lightmic: str, folder: Path, out: Path, timeout: int) -> tuple[float, int, int]:
    """Wall seconds of one batch; the largest worker's and the client's peak RSS."""
    seconds, peaks = run([lightmic, "convert", str(folder), "--output-dir", str(out),
                          "--workers", "2"], timeout)
    workers = [rss for rss, line in peaks.values() if "multiprocessing" in line]
    client = [rss for rss, line in peaks.values() if "multiprocessing" not in line]
    return seconds, max(workers, default=0), max(client, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2, help="runs of each method, alternating")
    parser.add_argument("--dir", default="/tmp/lightmic-bench")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per command")
    args = parser.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    source = make_inputs(root, names=("OME-TIFF 2 GB",))["OME-TIFF 2 GB"]
    folder = root / f"large-{args.copies}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    inputs = []
    for i in range(args.copies):
        os.link(source, folder / f"large_{i}.ome.tif")
        inputs.append(folder / f"large_{i}.ome.tif")
    with open(source, "rb") as fh:  # the input in the page cache for every method
        while fh.read(64 * 2**20):
            pass
    size_mb = source.stat().st_size * args.copies / 1e6
    lightmic = str(Path(HERE).with_name("lightmic"))
    results: dict[str, list[tuple[float, int, int]]] = {"back to back": [], "batch": []}
    outs = {"back to back": root / "large-out-single", "batch": root / "large-out-batch"}
    for run_number in range(args.runs):
        for label in results:
            out = outs[label]
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            print(f"run {run_number + 1}: {label} ...", file=sys.stderr, flush=True)
            if label == "batch":
                results[label].append(batch(lightmic, folder, out, args.timeout))
            else:
                results[label].append(back_to_back(lightmic, inputs, out, args.timeout))
            print(f"  {results[label][-1][0]:.1f} s", file=sys.stderr, flush=True)

    print("checking outputs ...", file=sys.stderr, flush=True)
    want, shape, _ = sha1_of(source)
    checked, levels = {}, {}
    for label, out in outs.items():
        found = sorted(out.glob("*.ome.zarr"))
        good = 0
        for path in found:
            digest, got_shape, n_levels = sha1_of(path)
            levels.setdefault(label, set()).add(n_levels)
            good += digest == want and got_shape == shape
        checked[label] = f"{good}/{args.copies}"
    single = statistics.median(s for s, _, _ in results["back to back"])
    print(f"\n{args.copies} × the {source.stat().st_size / 1e9:.2f} GB OME-TIFF of "
          f"benchmarks/convert.py ({size_mb:.0f} MB in all), {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB; {args.runs} runs each, "
          f"alternating\n")
    print("| method | wall s (median) | range | MB/s | × back to back | peak RSS per process "
          "| levels | outputs checked |")
    print("|---|---|---|---|---|---|---|---|")
    for label, rows in results.items():
        walls = [s for s, _, _ in rows]
        wall = statistics.median(walls)
        peak = max(p for _, p, _ in rows) / 2**30
        other = max(c for _, _, c in rows) / 2**30
        memory = (f"{peak:.2f} GiB (a conversion)" if label == "back to back" else
                  f"{peak:.2f} GiB (largest worker), client {other:.2f} GiB")
        print(f"| {label} | {wall:.1f} | {min(walls):.1f}–{max(walls):.1f} | "
              f"{size_mb / wall:.0f} | {single / wall:.2f}x | {memory} | "
              f"{','.join(map(str, sorted(levels.get(label, ()))))} | {checked[label]} |",
              flush=True)
    for out in outs.values():
        shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
