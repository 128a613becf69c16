"""Time from opening a file to its first displayed plane: in napari, and against the peers.

    python benchmarks/open_first_plane.py --first-file [--runs 5] [--src DIR,DIR...]
    python benchmarks/open_first_plane.py [--sizes small,large] [--dir /tmp/lightmic-bench]

--first-file: the shared vendor files (a CZI, a LIF, an ND2, an OME-TIFF, under
LIGHTMIC_TESTDATA or /work/shared/testdata) opened as napari opens a dropped file, each run
in a fresh interpreter that has already started napari (a `napari.Viewer(show=False)`, so
napari's own imports are not counted):

  reader        npe2 finds the plugin's reader and napari calls it with the path
                (`napari.plugins._npe2.read`): the layer data, contrast limits included;
                the plugin's share of the wait
  first plane   then the first plane of the first layer as napari's slicing reads it
                (`np.asarray(data[0, ..., :, :])`)

for the first file of the session and for a later one (a small OME-TIFF opened first).
Runs are interleaved (file after file, source after source) and the medians and ranges
printed. `--src` compares source trees (e.g. an export of the code before a change and
`src`): each run imports napari_lightmic from the tree named. Needs a display; without one
it runs itself under `xvfb-run`. The child is `npe2_first_plane.py`'s, shared with
`startup.py`.

Without --first-file:

Makes synthetic OME-TIFFs (tiled 512 x 512, TCZYX uint16) and CZI mosaics of about 100 MB and
2 GB, then measures, each in a fresh process so nothing is shared:

  lightmic        open_image + layer data (contrast from a small plane) + the displayed plane,
                  as the first file of a session (lazy imports of the readers included)
  lightmic warm   the same for a second file of the session
  bioio lazy      BioImage(path).dask_data, then the same plane (bioio's default chunks)
  bioio eager     BioImage(path).data: what napari-bioio does below 4 GB
  full read       tifffile.imread / pylibCZIrw read of every plane

and prints seconds and peak RSS. The page cache is warm (the files were just written).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from npe2_first_plane import FILES as FIRST_FILES
from npe2_first_plane import measure as measure_first_file
from npe2_first_plane import testdata_root

SIZES = {  # name: (T, C, Z, Y, X)
    "small": (1, 2, 6, 2048, 2048),      # ~100 MB
    "large": (2, 2, 64, 2048, 2048),     # ~2.1 GB
}
CZI_SIZES = {  # name: (C, Z, tiles_y, tiles_x) of 1024 x 1024 tiles with 10 % overlap
    "small": (2, 3, 3, 3),               # ~110 MB
    "large": (2, 16, 6, 7),              # ~2.8 GB
}


def make_ome_tiff(path: Path, shape) -> None:
    import tifffile

    if path.exists() and path.stat().st_size > 0:
        return
    t, c, z, y, x = shape
    rng = np.random.default_rng(0)
    plane = rng.integers(0, 4000, (y, x), dtype=np.uint16)

    def tiles():  # tiled writing takes the tiles of each plane in order
        for i in range(t * c * z):
            shifted = np.roll(plane, i, axis=1)
            for ty in range(0, y, 512):
                for tx in range(0, x, 512):
                    yield shifted[ty:ty + 512, tx:tx + 512]

    tifffile.imwrite(path, tiles(), shape=shape, dtype=np.uint16, ome=True, tile=(512, 512),
                     bigtiff=True, metadata={"axes": "TCZYX"})


def make_czi(path: Path, spec) -> None:
    from pylibCZIrw import czi as pyczi

    if path.exists():
        return
    c, z, ty, tx = spec
    tile = np.random.default_rng(0).integers(0, 4000, (1024, 1024, 1), dtype=np.uint16)
    step = 922  # 10 % overlap
    with pyczi.create_czi(str(path), exist_ok=True) as czi:
        for ci in range(c):
            for zi in range(z):
                for j in range(ty):
                    for i in range(tx):
                        czi.write(tile, location=(i * step, j * step), plane={"C": ci, "Z": zi})
        czi.write_metadata(document_name="bench", channel_names={0: "A", 1: "B"},
                           scale_x=0.2e-6, scale_y=0.2e-6, scale_z=1e-6)


CHILD = r'''
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
method, path = sys.argv[1], sys.argv[2]
# Imports are not part of the figure: napari has them loaded before a file is dropped on it.
from bioio import BioImage
import napari.utils.colormaps, tifffile
from pylibCZIrw import czi as pyczi
from napari_lightmic._napari.layers import scene_layer_data
from napari_lightmic.session import Session
from napari_lightmic.scene.axes import plane_index
import bioio_czi, bioio_ome_tiff
if method == "lightmic warm":  # a first, different file has been opened in this session
    from napari_lightmic.synthetic import cells, write_ome_tiff
    import tempfile, os
    first = write_ome_tiff(os.path.join(tempfile.mkdtemp(), "first.ome.tif"), cells((4, 64, 64)))
    session = Session.open(first)
    scene_layer_data(session, session.effective_scene(0))
    method = "lightmic"
start = time.perf_counter()
if method == "lightmic":
    session = Session.open(path)
    scene = session.effective_scene(0)
    scene_layer_data(session, scene)  # what the napari reader builds, contrast included
    np.asarray(scene.data[plane_index(scene.dims, scene.shape, 0)])
elif method == "bioio lazy":
    im = BioImage(path)
    np.asarray(im.dask_data[0, 0, im.dims.Z // 2])
elif method == "bioio eager":
    im = BioImage(path)
    im.data
elif method == "full read":
    if path.endswith(".czi"):
        with pyczi.open_czi(path) as czi:
            box = czi.total_bounding_box
            for c in range(*box["C"]):
                for z in range(*box["Z"]):
                    czi.read(plane={"C": c, "Z": z})
    else:
        tifffile.imread(path)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss}))
'''


def measure(method: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, method, str(path)],
                            capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1][:120]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def first_file(runs: int, sources: list[str], files: list[str]) -> None:
    import statistics

    root = testdata_root()
    times: dict[tuple[str, str, str, str], list[float]] = {}
    for run in range(runs):  # interleaved: a slow moment of the machine hits every row alike
        for name in files:
            for src in sources:
                for later in (False, True):
                    r = measure_first_file(root / name, src, later)
                    session = "later file" if later else "first file"
                    print(run, name, src, session, r, file=sys.stderr)
                    for what in ("reader", "first plane"):
                        if what in r:
                            times.setdefault((name, src, session, what), []).append(r[what])
    print(f"| file | source | session | reader (s) | first plane (s) |  ({runs} runs: median, "
          "range)")
    print("|---|---|---|---|---|")
    for name in files:
        for src in sources:
            for session in ("first file", "later file"):
                cells = []
                for what in ("reader", "first plane"):
                    values = times.get((name, src, session, what), [])
                    cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}–"
                                 f"{max(values):.2f})" if values else "failed")
                print(f"| {Path(name).name} | {src} | {session} | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first-file", action="store_true",
                        help="the shared vendor files through napari's npe2 reader call")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", default="src", help="source trees to compare, comma-separated")
    parser.add_argument("--files", default=",".join(FIRST_FILES))
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--dir", default="/tmp/lightmic-bench")
    parser.add_argument("--methods",
                        default="lightmic,lightmic warm,bioio lazy,bioio eager,full read")
    args = parser.parse_args()
    if args.first_file:
        first_file(args.runs, args.src.split(","), args.files.split(","))
        return
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes.split(","):
        tiff = folder / f"{size}.ome.tif"
        czi = folder / f"{size}-mosaic.czi"
        t0 = time.perf_counter()
        make_ome_tiff(tiff, SIZES[size])
        make_czi(czi, CZI_SIZES[size])
        print(f"# {size}: files ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for path in (tiff, czi):
            for method in args.methods.split(","):
                r = measure(method, path)
                rows.append((path.name, f"{path.stat().st_size / 1e6:.0f} MB", method, r))
                print(rows[-1], file=sys.stderr)
    print("| file | size | method | first plane (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, size, method, r in rows:
        if "error" in r:
            print(f"| {name} | {size} | {method} | failed: {r['error']} | |")
        else:
            print(f"| {name} | {size} | {method} | {r['seconds']:.2f} | {r['rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
