"""Conversion speed and peak memory against the peers and the read + compress floor.

    PYTHONPATH=src python benchmarks/convert.py --peers-python PEERS_VENV/bin/python \\
        [--runs 3] [--src before=/tmp/before/src] [--peers bfconvert,...] [--scale 0.05]

Inputs (made once in --dir, default /tmp/lightmic-bench): a ~2 GB and a ~1 GB tiled OME-TIFF
(TCZYX 2 x 2 x 64 (32) x 2048 x 2048 uint16, 512 x 512 tiles; the same generator, half the
planes) and a ~1 GB CZI mosaic (2 channels x 8 z, 6 x 5 overlapping 1024 x 1024 tiles), all
smooth cell-like images with noise (compressible, as real data are). `--scale 0.05` makes
them 1/20 the size (fewer planes) in /tmp/lightmic-bench-s0.05: the whole pipeline in a few
minutes, for checking the benchmark, not for figures.

Every row is a whole process, run as a user runs it, with its input in the page cache:

  lightmic zstd         `lightmic convert IN OUT.ome.zarr --pyramid-levels 4`: its default,
                        blosc-zstd level 2, byte shuffle, 256 KiB blocks, NGFF 0.5
  lightmic lz4          the same with `--compression lz4` (blosc-lz4 level 2)
  lightmic → OME-TIFF   `lightmic convert IN OUT.ome.tif --pyramid-levels 4` (zlib)
  eubi zstd             eubi-bridge-lite `eubi to_zarr IN --output_path OUT
                        --compressor_params {cname: zstd, clevel: 2, shuffle: 1, blocksize:
                        262144}`: lightmic's codec, level and shuffle (eubi-bridge-lite 0.3.2
                        drops the block size: blosc picks its own, as the notes read back);
                        its other defaults (zarr v2 / NGFF 0.4, its chunks, its pyramid: Y, X
                        and Z halved down to 64 px)
  eubi lz4              `eubi to_zarr` with its defaults (blosc-lz4 level 5, shuffle,
                        blosc's own block size)
  floor zstd, floor lz4 a python process that reads every page of the OME-TIFF as lightmic
                        does (tifffile, one page per task, single-threaded decoding) and
                        compresses the level-0 chunks (1024 x 1024) with the numcodecs Blosc
                        codec lightmic writes, on one thread per core, writing nothing: the
                        read + compress floor (OME-TIFF inputs only)
  floor zstd + write    the same, writing each compressed chunk as a file of a folder (as
                        a zarr writer must, without its pyramid): what writing alone costs on
                        the machine

eubi-bridge-lite is given `--as_mosaic True` on the CZI (else it writes the first tile only).
The `lightmic` command is the one beside this interpreter, run with this process's
environment (so `PYTHONPATH=src` measures the checkout); the header says which sources it
imports. `--src NAME=DIR` (repeatable) adds rows `lightmic (NAME)` running `python -m
napari_lightmic convert ...` with PYTHONPATH=DIR, the `src` folder of another version (e.g.
`git archive 02de3dc src | tar -x -C /tmp/before` gives DIR=/tmp/before/src): before and
after in one run. Optional rows (`--peers` adds them, `--only` picks the rows):

  omezarrwriter   bioio-ome-zarr OMEZarrWriter, get_default_config_for_viz, zstd level 5
  ome-zarr-py     ome-zarr-py write_image, 4 levels, its default codec
  tifffile        whole image read (lightmic's reader), tiled zlib pyramid by tifffile
  bfconvert       Bio-Formats ImageConverter, 4 resolutions, zlib (about 100-170 s a run;
                  the jar is fetched by tests/interop/envs.py unless --bfconvert-jar)

Runs are interleaved: `--runs` rounds, each running every method once on every input, so
that a slow spell of the machine falls on all methods alike, not on one method's repeats. The
table gives the median wall seconds, the range, MB/s (input bytes / median), `× eubi same
codec` (eubi's median / the row's, same codec: above 1 is faster than eubi), the median
peak RSS (`/usr/bin/time -v`: the largest single process of the tree) and the size written.

Every output is checked after each run and then removed: OME-Zarr opened with zarr, OME-TIFF
with tifffile (series 0): the number of levels, the level-0 shape (TCZYX, singleton axes
dropped) equal to the source's, and the SHA-1 of the level-0 pixels (uint16 planes in T, C, Z
order) equal to the source's. The source's SHA-1 is computed once per input (and kept beside
it, by size and time), by tifffile for the OME-TIFF and pylibCZIrw for the CZI (each plane's
whole mosaic bounding box); eubi's levels are checked against its own rule (halving while Y
and X stay at least 64 px). The floor's check is that it read every plane. A failed check is
the row's `checked` cell, with the run it failed in: no figure without its check.

The goal of the issue is each extra GiB within 1.4x of the read + compress floor: from the
two OME-TIFF sizes the slope (t_2GB - t_1GB) / (GiB_2GB - GiB_1GB) of every method, and the
lightmic and eubi slopes over the floor's of the same codec. The output (stdout; progress on
stderr) is Markdown: a header (date, machine, versions), the table, the slopes, and what each
method wrote, read back from its output: levels (where the pyramids differ), level 0's chunks
and codec.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = sys.executable
ROOT = Path(__file__).resolve().parents[1]
TIFF_PLANES = (2, 2, 64)  # T, C, Z of the 2 GB OME-TIFF; the 1 GB one has half the Z
CZI_Z = 8


# -- inputs -----------------------------------------------------------------------------


def _planes(scale: float) -> tuple[int, int]:
    """Z of the large and the small OME-TIFF at a scale: the small one half the large one."""
    z_large = max(2, 2 * round(TIFF_PLANES[2] / 2 * scale))
    return z_large, z_large // 2


def make_inputs(folder: Path, scale: float = 1.0,
                names: tuple[str, ...] | None = None) -> dict[str, Path]:
    """The inputs, made in `folder` if missing: name -> path.

    "OME-TIFF 2 GB", "OME-TIFF 1 GB" and "CZI 1 GB" (at `scale`, fewer planes); `names` makes
    only those.
    """
    import tifffile
    from pylibCZIrw import czi as pyczi

    from napari_lightmic.synthetic import cells

    z_large, z_small = _planes(scale)
    czi_z = max(1, round(CZI_Z * scale))
    paths = {"OME-TIFF 2 GB": folder / "conv-2GB.ome.tif",
             "OME-TIFF 1 GB": folder / "conv-1GB.ome.tif",
             "CZI 1 GB": folder / "conv-1GB.czi"}
    paths = {k: v for k, v in paths.items() if names is None or k in names}
    base = None
    if not all(p.exists() for p in paths.values()):
        base = cells((1, 2048, 2048), n_cells=400, seed=3)[:, 0]  # 3 channels of 2048^2

    def write_tiff(path: Path, z: int) -> None:
        rng = np.random.default_rng(0)
        t, c = TIFF_PLANES[:2]

        def tiles():
            for i in range(t * c * z):
                plane = np.roll(base[i % 2], 7 * i, axis=1)
                plane = plane + rng.integers(0, 40, plane.shape, dtype=np.uint16)
                for y in range(0, 2048, 512):
                    for x in range(0, 2048, 512):
                        yield plane[y:y + 512, x:x + 512]

        part = path.with_name(path.name + ".part")
        tifffile.imwrite(part, tiles(), shape=(t, c, z, 2048, 2048), dtype=np.uint16,
                         tile=(512, 512), ome=True, bigtiff=True,
                         metadata={"axes": "TCZYX", "PhysicalSizeX": 0.1,
                                   "PhysicalSizeY": 0.1, "PhysicalSizeZ": 0.5})
        part.replace(path)

    for name, z in (("OME-TIFF 2 GB", z_large), ("OME-TIFF 1 GB", z_small)):
        if name in paths and not paths[name].exists():
            write_tiff(paths[name], z)
    czi = paths.get("CZI 1 GB")
    if czi is not None and not czi.exists():
        rng = np.random.default_rng(1)
        part = czi.with_name("part-" + czi.name)
        with pyczi.create_czi(str(part), exist_ok=True) as doc:
            for c in range(2):
                for z in range(czi_z):
                    for j in range(5):
                        for i in range(6):
                            tile = base[c, :1024, :1024] + rng.integers(0, 40, (1024, 1024),
                                                                        dtype=np.uint16)
                            doc.write(tile[..., None], location=(i * 922, j * 922),
                                      plane={"C": c, "Z": z})
            doc.write_metadata(document_name="conv", channel_names={0: "A", 1: "B"},
                               scale_x=0.1e-6, scale_y=0.1e-6, scale_z=0.5e-6)
        part.replace(czi)
    return paths


# -- pixels, plane by plane ---------------------------------------------------------------


class Planes:
    """Level 0 of an image as TCZYX planes, read one (or one chunk deep) at a time."""

    shape: tuple[int, int, int, int, int]  # T, C, Z, Y, X
    dtype: np.dtype
    levels: list[tuple[int, ...]]  # every level's shape, TCZYX
    chunks: str = ""  # level 0's chunks, as written (OME-Zarr)

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _tczyx(axes: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape in T, C, Z, Y, X order (1 for an absent axis); ValueError for other axes."""
    sizes = dict(zip(axes.upper(), shape))
    other = {a: n for a, n in sizes.items() if a not in "TCZYX" and n != 1}
    if other or len(sizes) != len(axes) or "Y" not in sizes or "X" not in sizes:
        raise ValueError(f"axes {axes} {tuple(shape)} are not TCZYX")
    return tuple(sizes.get(a, 1) for a in "TCZYX")


def squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


class TiffPlanes(Planes):
    """Series 0 of a TIFF through tifffile: one page per plane."""

    def __init__(self, path: Path) -> None:
        import tifffile

        self.tif = tifffile.TiffFile(path)
        series = self.tif.series[0]
        level = series.levels[0]
        self.axes = level.axes
        self.shape = _tczyx(level.axes, level.shape)
        self.dtype = np.dtype(level.dtype)
        self.levels = [_tczyx(lv.axes, lv.shape) for lv in series.levels]
        self.lead = [a for a in level.axes if a not in "YX"]
        self.lead_shape = [n for a, n in zip(level.axes, level.shape) if a not in "YX"]
        self.pages = list(level.pages)
        if len(self.pages) != int(np.prod(self.lead_shape)) or any(
                p is None for p in self.pages):
            raise ValueError(f"{len(self.pages)} pages for {level.axes} {level.shape}")

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        at = {"T": t, "C": c, "Z": z}
        flat = int(np.ravel_multi_index([at.get(a, 0) for a in self.lead], self.lead_shape)) \
            if self.lead else 0
        return self.pages[flat].asarray().reshape(self.shape[3:])

    def close(self) -> None:
        self.tif.close()


def _zarr_image(path: Path) -> tuple[Any, dict]:
    """The zarr group holding the multiscales image at or under `path`, and its multiscale."""
    import zarr

    candidates = [path] if (path / "zarr.json").exists() or (path / ".zgroup").exists() \
        else sorted(p for p in path.iterdir() if p.is_dir())
    for root in candidates:
        group = zarr.open_group(str(root), mode="r")
        for g in (group, group.get("0")):
            if g is None:
                continue
            attrs = g.attrs.asdict()
            multiscales = attrs.get("ome", {}).get("multiscales") or attrs.get("multiscales")
            if multiscales:
                return g, multiscales[0]
    raise ValueError(f"no OME-Zarr image in {path}")


def _codec(codec: Any) -> str:  # noqa: ANN401 - a zarr v3 or numcodecs codec
    """A compressor as written: blosc's codec, level, shuffle and block size, else its repr."""
    if not hasattr(codec, "cname"):
        return repr(codec)

    def plain(v: Any) -> Any:  # noqa: ANN401 - an enum (zarr v3) or its value (numcodecs)
        return getattr(v, "value", v)

    shuffle = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}.get(plain(codec.shuffle),
                                                                  plain(codec.shuffle))
    blocks = f"{codec.blocksize // 1024} KiB blocks" if codec.blocksize else "auto blocks"
    return f"blosc-{plain(codec.cname)} level {codec.clevel}, {shuffle}, {blocks}"


class ZarrPlanes(Planes):
    """Level 0 of an OME-Zarr image through zarr, read one chunk deep in Z at a time."""

    def __init__(self, path: Path) -> None:
        group, multiscale = _zarr_image(path)
        axes = "".join(a["name"][0].upper() for a in multiscale["axes"])
        arrays = [group[d["path"]] for d in multiscale["datasets"]]
        self.array, self.axes = arrays[0], axes
        self.shape = _tczyx(axes, self.array.shape)
        self.dtype = np.dtype(self.array.dtype)
        self.levels = [_tczyx(axes, a.shape) for a in arrays]
        self.chunks = (f"zarr v{self.array.metadata.zarr_format}, chunks {axes.lower()} "
                       f"{'x'.join(map(str, self.array.chunks))}, "
                       f"{' + '.join(map(_codec, self.array.compressors)) or 'uncompressed'}")
        self.depth = self.array.chunks[axes.index("Z")] if "Z" in axes else 1
        self._key: tuple | None = None
        self._slab: np.ndarray | None = None

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        at = {"T": t, "C": c}
        z0 = z - z % self.depth
        if self._key != (t, c, z0):
            index = tuple(at[a] if a in at else slice(z0, z0 + self.depth) if a == "Z"
                          else slice(None) for a in self.axes)
            slab = np.asarray(self.array[index])
            self._slab = slab.reshape(-1, *self.shape[3:])
            self._key = (t, c, z0)
        return self._slab[z - z0]


class CziPlanes(Planes):
    """A CZI through pylibCZIrw: every plane's whole mosaic bounding box, composed by libCZI."""

    def __init__(self, path: Path) -> None:
        from pylibCZIrw import czi as pyczi

        self.doc = pyczi.CziReader(str(path))
        box = self.doc.total_bounding_box_no_pyramid
        self.rect = self.doc.total_bounding_rectangle_no_pyramid
        self.starts = {a: box[a][0] for a in "TCZ" if a in box}
        sizes = [box[a][1] - box[a][0] if a in box else 1 for a in "TCZ"]
        self.shape = (*sizes, self.rect.h, self.rect.w)
        self.dtype = np.dtype(np.uint16)
        self.levels = [self.shape]

    def plane(self, t: int, c: int, z: int) -> np.ndarray:
        at = {a: i + self.starts[a] for a, i in zip("TCZ", (t, c, z)) if a in self.starts}
        return self.doc.read(roi=self.rect, plane=at)[..., 0]

    def close(self) -> None:
        self.doc.close()


def sha1_of(planes: Planes) -> str:
    """SHA-1 of the level-0 pixels, uint16 planes in T, C, Z order."""
    digest = hashlib.sha1()
    for t, c, z in np.ndindex(*planes.shape[:3]):
        digest.update(np.ascontiguousarray(planes.plane(t, c, z), dtype="<u2").data)
    return digest.hexdigest()


@dataclass
class Source:
    """What every output of an input must match."""

    shape: tuple[int, ...]  # TCZYX, singletons dropped
    sha1: str


def source_of(path: Path) -> Source:
    """The input's shape and level-0 SHA-1, read independently of lightmic; cached beside it
    (by size and time of modification)."""
    stat = path.stat()
    cache = path.with_name(path.name + ".sha1.json")
    stamp = [stat.st_size, stat.st_mtime_ns]
    if cache.exists():
        known = json.loads(cache.read_text())
        if known.get("stamp") == stamp:
            return Source(tuple(known["shape"]), known["sha1"])
    planes = CziPlanes(path) if path.suffix == ".czi" else TiffPlanes(path)
    try:
        source = Source(squeezed(planes.shape), sha1_of(planes))
    finally:
        planes.close()
    cache.write_text(json.dumps({"stamp": stamp, "shape": source.shape, "sha1": source.sha1}))
    return source


@dataclass
class Checked:
    """The check of one output: "ok" or the reason it failed; what was written."""

    status: str
    levels: list[tuple[int, ...]] = field(default_factory=list)
    chunks: str = ""


def check_output(path: Path, kind: str, source: Source,
                 levels: int | Callable[[tuple[int, ...]], int] | None) -> Checked:
    """Open an output as its peers would and compare it with the source, plane by plane."""
    if callable(levels):
        levels = levels(source.shape)
    if not path.exists():
        return Checked("no output written")
    try:
        planes = ZarrPlanes(path) if kind == "zarr" else TiffPlanes(path)
    except Exception as exc:  # noqa: BLE001 - whatever fails to open is the check's answer
        return Checked(f"does not open: {str(exc)[:80]}")
    try:
        done = Checked("", planes.levels, planes.chunks)
        if levels is not None and len(planes.levels) != levels:
            done.status = f"{len(planes.levels)} levels, not {levels}"
        elif squeezed(planes.shape) != source.shape:
            done.status = f"level 0 is {squeezed(planes.shape)}, not {source.shape}"
        elif planes.dtype != np.uint16:
            done.status = f"level 0 is {planes.dtype}, not uint16"
        elif sha1_of(planes) != source.sha1:
            done.status = "level-0 pixels differ from the source's (SHA-1)"
        else:
            done.status = "ok"
        return done
    except Exception as exc:  # noqa: BLE001
        return Checked(f"reading failed: {str(exc)[:80]}")
    finally:
        planes.close()


# -- the methods ----------------------------------------------------------------------------


FLOOR = r'''
import sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np, tifffile
from numcodecs import Blosc
import os
path, cname, clevel, blocksize, side, threads = sys.argv[1:7]
out = sys.argv[7] if len(sys.argv) > 7 else None  # a folder: each chunk written as a file
clevel, blocksize, side, threads = int(clevel), int(blocksize), int(side), int(threads)
codec = Blosc(cname=cname, clevel=clevel, shuffle=Blosc.SHUFFLE, blocksize=blocksize)
with tifffile.TiffFile(path) as tif:
    tif.filehandle.set_lock(True)
    pages = list(tif.series[0].levels[0].pages)
    def one(page):
        plane = page.asarray(maxworkers=1)
        size = 0
        for y in range(0, plane.shape[0], side):
            for x in range(0, plane.shape[1], side):
                encoded = codec.encode(np.ascontiguousarray(plane[y:y + side, x:x + side]))
                size += len(encoded)
                if out is not None:
                    with open(os.path.join(out, f"{page.index}.{y}.{x}"), "wb") as fh:
                        fh.write(encoded)
        return size
    with ThreadPoolExecutor(threads) as pool:
        sizes = list(pool.map(one, pages))
print(len(sizes), sum(sizes))
'''

OMEZARRWRITER = r'''
import sys
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
scene = open_image(sys.argv[1]).scenes[0]
data = np.asarray(scene.data)
opts = dict(tile=(512, 512), compression="zlib", photometric="minisblack")
with tifffile.TiffWriter(sys.argv[2], bigtiff=True, ome=True) as tif:
    tif.write(data, subifds=3, metadata={"axes": scene.dims}, **opts)
    for k in (2, 4, 8):
        tif.write(data[..., ::k, ::k], subfiletype=1, **opts)
'''

Command = Callable[[Path, Path, bool], list[str]]  # (source, output, is a mosaic) -> argv


@dataclass(frozen=True)
class Method:
    """One row of the table: how to run it and what it must write."""

    key: str  # its name for --only and --peers
    name: str  # its row
    group: str  # the codec it is compared within
    kind: str  # "zarr", "tiff" or "floor": what is checked
    output: str  # the file or folder written, in the output folder
    command: Command
    # levels it must write, or the rule giving them from the source's shape; None: any
    levels: int | Callable[[tuple[int, ...]], int] | None = 4
    env: dict[str, str] | None = None  # None: this process's environment
    tiff_only: bool = False  # the floor reads OME-TIFF only
    codec: str = ""  # zstd or lz4: eubi's and the floor's row of the same codec
    writes: bool = False  # a floor that also writes its chunks (files of a folder)


ZSTD, LZ4 = "OME-Zarr, blosc-zstd", "OME-Zarr, blosc-lz4"
OTHER_ZARR, TIFF = "OME-Zarr, other codecs", "OME-TIFF"
GROUPS = (ZSTD, LZ4, OTHER_ZARR, TIFF)
DEFAULT = ("lightmic-zstd", "eubi-zstd", "floor-zstd", "floor-write-zstd", "lightmic-lz4",
           "eubi-lz4", "floor-lz4", "lightmic-tiff")
OPTIONAL = ("omezarrwriter", "ome-zarr-py", "tifffile", "bfconvert")


def lightmic_codec() -> dict[str, Any]:
    """What lightmic writes to OME-Zarr by default: the floor compresses the same way."""
    from napari_lightmic.writing.ome_zarr import BLOCKSIZE, CLEVEL, chunk_shape

    side = chunk_shape((2048, 2048), "YX", np.uint16)[0]
    return {"clevel": CLEVEL, "blocksize": BLOCKSIZE, "side": side}


def eubi_levels(shape: tuple[int, ...]) -> int:
    """eubi-bridge-lite's default pyramid: halving Y and X (and Z) while the smaller of Y and X
    stays at least 64 (its min_dimension_size)."""
    return 1 + int(np.log2(min(shape[-2:]) / 64))


def methods(peers: str | None, jar: Callable[[], str] | None,
            sources: list[tuple[str, str]]) -> list[Method]:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # for the peers
    codec = lightmic_codec()
    found: list[Method] = []

    def lightmic(suffix: str, key: str, group: str, name: str, extra: list[str],
                 codec_name: str = "") -> None:
        for label, src in [("", None), *sources]:
            if src is None:
                base = [str(Path(HERE).with_name("lightmic")), "convert"]
                env = None
            else:
                base = [HERE, "-m", "napari_lightmic", "convert"]
                env = {**clean, "PYTHONPATH": src}
            tag = f"lightmic ({label})" if label else "lightmic"
            found.append(Method(
                key, f"{tag} {name}", group, "tiff" if suffix == ".ome.tif" else "zarr",
                f"{key}-{label or 'this'}{suffix}",
                lambda s, o, m, base=base: [*base, str(s), str(o), "--pyramid-levels", "4",
                                            *extra],
                env=env, codec=codec_name))

    lightmic(".ome.zarr", "lightmic-zstd", ZSTD, "zstd", [], "zstd")
    lightmic(".ome.zarr", "lightmic-lz4", LZ4, "lz4", ["--compression", "lz4"], "lz4")
    lightmic(".ome.tif", "lightmic-tiff", TIFF, "→ OME-TIFF", [])
    if peers:
        eubi = str(Path(peers).with_name("eubi"))
        zstd = json.dumps({"cname": "zstd", "clevel": codec["clevel"], "shuffle": 1,
                           "blocksize": codec["blocksize"]})

        def to_zarr(*extra: str) -> Command:
            return lambda s, o, m: [eubi, "to_zarr", str(s), "--output_path", str(o), *extra,
                                    *(["--as_mosaic", "True"] if m else [])]

        found += [
            Method("eubi-zstd", "eubi zstd", ZSTD, "zarr", "eubi-zstd",
                   to_zarr("--compressor_params", zstd), levels=eubi_levels, env=clean,
                   codec="zstd"),
            Method("eubi-lz4", "eubi lz4 (its default)", LZ4, "zarr", "eubi-lz4", to_zarr(),
                   levels=eubi_levels, env=clean, codec="lz4"),
            Method("omezarrwriter", "OMEZarrWriter (zstd 5)", OTHER_ZARR, "zarr",
                   "bioio.ome.zarr", lambda s, o, m: [peers, "-c", OMEZARRWRITER, str(s),
                                                       str(o)], levels=None, env=clean),
            Method("ome-zarr-py", "ome-zarr-py", OTHER_ZARR, "zarr", "omezarrpy.ome.zarr",
                   lambda s, o, m: [peers, "-c", OME_ZARR_PY, str(s), str(o)], env=clean),
        ]
    for cname in ("zstd", "lz4"):
        found.append(Method(
            f"floor-{cname}", f"floor {cname} (read + compress level 0)",
            ZSTD if cname == "zstd" else LZ4, "floor", "nothing",
            lambda s, o, m, cname=cname: [
                HERE, "-c", FLOOR, str(s), cname, str(codec["clevel"]), str(codec["blocksize"]),
                str(codec["side"]), str(os.cpu_count() or 1)],
            levels=None, env=clean, tiff_only=True, codec=cname))
    found.append(Method(
        "floor-write-zstd", "floor zstd + write (read, compress and write level 0)", ZSTD,
        "floor", "floor-chunks",
        lambda s, o, m: [HERE, "-c", FLOOR, str(s), "zstd", str(codec["clevel"]),
                         str(codec["blocksize"]), str(codec["side"]), str(os.cpu_count() or 1),
                         str(o)],
        levels=None, env=clean, tiff_only=True, codec="zstd", writes=True))
    found.append(Method("tifffile", "tifffile (zlib)", TIFF, "tiff", "tifffile.ome.tif",
                        lambda s, o, m: [HERE, "-c", TIFFFILE, str(s), str(o)]))
    if jar is not None:
        found.append(Method(
            "bfconvert", "bfconvert (zlib)", TIFF, "tiff", "bf.ome.tif",
            lambda s, o, m: ["java", "-Xmx4g", "-cp", jar(), "loci.formats.tools.ImageConverter",
                             "-overwrite", "-noflat", "-pyramid-resolutions", "4",
                             "-pyramid-scale", "2", "-tilex", "512", "-tiley", "512",
                             "-compression", "zlib", str(s), str(o)], env=clean))
    return found


# -- running ----------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float | None = None
    rss_mb: float | None = None
    out_mb: float | None = None
    error: str = ""
    checked: Checked | None = None


def measure(command: list[str], env: dict[str, str] | None, timeout: int) -> tuple[Run, str]:
    """Run a command under /usr/bin/time -v: its wall time, peak RSS, or why it failed."""
    start = time.perf_counter()
    try:
        result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True,
                                text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return Run(error=f"over {timeout} s"), ""
    seconds = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        cut = next((i for i, line in enumerate(lines) if line.startswith("Command ")),
                   len(lines))
        tail = lines[:cut][-1:] or [f"exit {result.returncode}"]
        return Run(error=tail[0][:100]), result.stdout
    return Run(seconds, int(rss.group(1)) / 1024 if rss else None), result.stdout


def _warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(64 * 2**20):
            pass


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run_once(method: Method, source: Path, src: Source, out: Path, timeout: int) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    target = out / method.output
    if method.key.startswith("eubi") or method.writes:
        target.mkdir()  # eubi writes its image into the folder it is given, the floor its chunks
    _warm(source)  # every method starts with the input in the page cache
    run, stdout = measure(method.command(source, target, source.suffix == ".czi"),
                          method.env, timeout)
    if not run.error:
        if method.kind == "floor":
            expected = int(np.prod(src.shape[:-2]))
            numbers = stdout.split()
            planes = int(numbers[0]) if numbers else 0
            run.out_mb = int(numbers[1]) / 1e6 if len(numbers) > 1 else None
            status = "ok" if planes == expected else f"{planes} planes read, not {expected}"
            run.checked = Checked(status)
        else:
            run.out_mb = _size_mb(target) if target.exists() else None
            run.checked = check_output(target, method.kind, src, method.levels)
    shutil.rmtree(out, ignore_errors=True)
    return run


# -- the report --------------------------------------------------------------------------------


def _imports(env: dict[str, str] | None) -> tuple[str, Path, str]:
    """The napari_lightmic a process with `env` imports: version, folder, git commit."""
    where = subprocess.run(
        [HERE, "-c", "import napari_lightmic, importlib.metadata as m; "
         "print(m.version('napari-lightmic'), napari_lightmic.__file__)"],
        capture_output=True, text=True, env=env).stdout.split()
    version, path = (where + ["?", "?"])[:2]
    tree = Path(path).parent
    commit = subprocess.run(["git", "-C", str(tree), "describe", "--always"],
                            capture_output=True, text=True).stdout.strip()
    if not commit:
        return version, tree, "no git"
    changed = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "."],
                             capture_output=True, text=True).stdout.strip()
    return version, tree, commit + (", with changes" if changed else "")


def header(inputs: dict[str, Path], peers: str | None, sources: list[tuple[str, str]],
           runs: int, scale: float) -> list[str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    ram = f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?"
    lightmic = str(Path(HERE).with_name("lightmic"))
    version, tree, commit = _imports(None)
    ours = subprocess.run(
        [HERE, "-c", "import zarr, tifffile, numcodecs, numcodecs.blosc as b; "
         "print(zarr.__version__, tifffile.__version__, numcodecs.__version__, "
         "b.VERSION_STRING)"], capture_output=True, text=True).stdout.split()
    lines = [
        f"# Conversion benchmark, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "",
        f"- machine: {os.cpu_count()} cores ({cpu}), {ram} RAM, {platform.platform()}",
        f"- lightmic {version}: `{lightmic}`, importing {tree} ({commit})",
    ]
    for name, src in sources:
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        version, tree, commit = _imports({**clean, "PYTHONPATH": src})
        lines.append(f"- lightmic ({name}) {version}: `python -m napari_lightmic` with "
                     f"PYTHONPATH={src}, importing {tree} ({commit})")
    if len(ours) == 4:
        lines.append(f"- this venv: zarr {ours[0]}, tifffile {ours[1]}, numcodecs {ours[2]} "
                     f"(blosc {ours[3]})")
    if peers:
        theirs = subprocess.run(
            [peers, "-c", "import importlib.metadata as m; print(*(m.version(p) for p in "
             "('eubi-bridge-lite', 'zarr', 'tifffile', 'tensorstore', 'numcodecs')))"],
            capture_output=True, text=True).stdout.split()
        if len(theirs) == 5:
            lines.append(f"- peers venv: eubi-bridge-lite {theirs[0]}, zarr {theirs[1]}, "
                         f"tifffile {theirs[2]}, tensorstore {theirs[3]}, "
                         f"numcodecs {theirs[4]}")
    sizes = ", ".join(f"{name} {p.stat().st_size / 1e6:.0f} MB" for name, p in inputs.items())
    lines += [f"- inputs (scale {scale:g}): {sizes}",
              f"- {runs} interleaved runs per row, input in the page cache", ""]
    return lines


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def _checked(runs: list[Run]) -> str:
    bad = [(i, r) for i, r in enumerate(runs, 1)
           if r.error or r.checked is None or r.checked.status != "ok"]
    if not bad:
        return "ok" if len(runs) == 1 else f"ok ({len(runs)}/{len(runs)})"
    i, r = bad[0]
    why = f"failed: {r.error}" if r.error else r.checked.status if r.checked else "unchecked"
    return f"{len(bad)}/{len(runs)} failed; run {i}: {why}"


def table(results: dict[tuple[str, str], list[Run]], inputs: dict[str, Path],
          chosen: list[Method], labels: dict[str, str]) -> list[str]:
    lines = ["| codec | input | method | median s | range s | MB/s | × eubi same codec "
             "| peak RSS MB | written MB | checked |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for group in GROUPS:
        for name, path in inputs.items():
            mb = path.stat().st_size / 1e6
            eubi = {m.codec: _median(results.get((name, m.name), []))
                    for m in chosen if m.key.startswith("eubi")}
            for m in chosen:
                runs = results.get((name, m.name))
                if m.group != group or not runs:
                    continue
                median = _median(runs)
                if median is None:
                    lines.append(f"| {group} | {labels[name]} | {m.name} | — | | | | | | "
                                 f"{_checked(runs)} |")
                    continue
                times = [r.seconds for r in runs if r.seconds is not None]
                peer = eubi.get(m.codec) if m.codec else None
                ratio = f"{peer / median:.2f}x" if peer else "—"
                rss = [r.rss_mb for r in runs if r.rss_mb is not None]
                out = [r.out_mb for r in runs if r.out_mb is not None]
                lines.append(
                    f"| {group} | {labels[name]} | {m.name} | {_fmt(median)} | "
                    f"{_fmt(min(times))}–{_fmt(max(times))} | {mb / median:.0f} | {ratio} | "
                    f"{_num(rss)} | {_num(out)} | {_checked(runs)} |")
    return lines


def _num(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "?"


def _median(runs: list[Run]) -> float | None:
    """The median seconds, when every run finished (its check is shown beside); else None."""
    if not runs or any(r.seconds is None for r in runs):
        return None
    return statistics.median(r.seconds for r in runs)


def slopes(results: dict[tuple[str, str], list[Run]], inputs: dict[str, Path],
           chosen: list[Method]) -> list[str]:
    big, small = inputs.get("OME-TIFF 2 GB"), inputs.get("OME-TIFF 1 GB")
    if big is None or small is None:
        return []
    gib = (big.stat().st_size - small.stat().st_size) / 2**30
    slope = {}
    for m in chosen:
        a = _median(results.get(("OME-TIFF 2 GB", m.name), []))
        b = _median(results.get(("OME-TIFF 1 GB", m.name), []))
        if a is not None and b is not None:
            slope[m.name] = (a - b) / gib
    floors = {m.codec: slope.get(m.name) for m in chosen if m.kind == "floor" and not m.writes}
    written = {m.codec: slope.get(m.name) for m in chosen if m.kind == "floor" and m.writes}
    lines = ["", f"Each extra GiB (OME-TIFF 2 GB minus 1 GB: {gib:.3f} GiB; goal: lightmic "
             "within 1.4x of the floor of its codec; the floor + write row also writes "
             "its level-0 chunks, one file each, as a writer must):", "",
             "| method | s per extra GiB | GiB/s | × floor same codec | × floor + write |",
             "|---|---|---|---|---|"]
    for m in chosen:
        if m.name not in slope:
            continue
        s = slope[m.name]
        ratios = []
        for base in (floors, written):
            floor = base.get(m.codec) if m.codec else None
            ratios.append(f"{s / floor:.2f}x" if floor and m.kind != "floor" else "—")
        lines.append(f"| {m.name} | {s:.2f} | {1 / s if s > 0 else float('inf'):.2f} "
                     f"| {' | '.join(ratios)} |")
    return lines


def notes(results: dict[tuple[str, str], list[Run]], inputs: dict[str, Path],
          chosen: list[Method], labels: dict[str, str]) -> list[str]:
    """Where the pyramids (and chunks) of the methods differ, per input."""
    lines = ["", "What each method wrote (levels TCZYX, singletons dropped; level 0's chunks "
             "and codec as read back):", ""]
    for name in inputs:
        written: dict[tuple, list[str]] = {}  # what was written -> the methods that wrote it
        for m in chosen:
            for r in results.get((name, m.name), []):
                if r.checked and r.checked.levels:
                    key = (tuple(r.checked.levels), r.checked.chunks)
                    written.setdefault(key, []).append(m.name)
                    break
        if not written:
            continue
        reference = next(iter(written))[0]  # the first row's (lightmic's) pyramid
        lines.append(f"- {labels[name]}:")
        for (levels, chunks), names in written.items():
            halves_z = len(levels) > 1 and levels[1][2] < levels[0][2]
            differ = "" if levels == reference else " (**a different pyramid**)"
            volume = sum(int(np.prod(s)) for s in levels) / int(np.prod(levels[0]))
            shown = " → ".join("x".join(map(str, squeezed(s))) for s in levels)
            lines.append(f"  - {', '.join(names)}: {len(levels)} levels"
                         f"{', Z halved' if halves_z else ''}{differ}, {volume:.3f}x level 0's "
                         f"pixels: {shown}{'; ' + chunks if chunks else ''}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", help="where the inputs are made and kept (default "
                        "/tmp/lightmic-bench, /tmp/lightmic-bench-sSCALE when scaled)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="input size against the full benchmark's (fewer planes)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers-python", help="python of the venv with eubi-bridge-lite etc.")
    parser.add_argument("--bfconvert-jar", help="bioformats_package.jar (else fetched)")
    parser.add_argument("--src", action="append", default=[], metavar="NAME=DIR",
                        help="also run lightmic from another version's src folder")
    parser.add_argument("--only", help=f"comma-separated methods: {', '.join(DEFAULT)}, "
                        f"{', '.join(OPTIONAL)}")
    parser.add_argument("--peers", help=f"optional methods to add: {', '.join(OPTIONAL)}")
    parser.add_argument("--inputs", help="comma-separated inputs (default all): "
                        "'OME-TIFF 2 GB', 'OME-TIFF 1 GB', 'CZI 1 GB'")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()

    sources = []
    for item in args.src:
        name, _, src = item.partition("=")
        if not src or not (Path(src) / "napari_lightmic").is_dir():
            parser.error(f"--src {item}: NAME=DIR, DIR a folder holding napari_lightmic")
        sources.append((name, str(Path(src).resolve())))
    keys = [k.strip() for k in (args.only or ",".join(DEFAULT)).split(",") if k.strip()]
    keys += [k.strip() for k in (args.peers or "").split(",") if k.strip()]
    unknown = set(keys) - set(DEFAULT) - set(OPTIONAL)
    if unknown:
        parser.error(f"unknown methods {', '.join(sorted(unknown))}")

    def jar() -> str:
        if args.bfconvert_jar:
            return args.bfconvert_jar
        sys.path.insert(0, str(ROOT))
        from tests.interop.envs import bioformats_jar

        return str(bioformats_jar())

    chosen = [m for m in methods(args.peers_python, jar, sources) if m.key in keys]
    missing = set(keys) - {m.key for m in chosen}
    if missing:
        print(f"not run (no --peers-python): {', '.join(sorted(missing))}", file=sys.stderr)

    scaled = args.scale != 1.0
    folder = Path(args.dir or ("/tmp/lightmic-bench" + (f"-s{args.scale:g}" if scaled else "")))
    folder.mkdir(parents=True, exist_ok=True)
    wanted = tuple(n.strip() for n in args.inputs.split(",")) if args.inputs else None
    inputs = make_inputs(folder, args.scale, wanted)
    labels = {name: f"{name} ×{args.scale:g}" if scaled else name for name in inputs}
    print("\n".join(header(inputs, args.peers_python, sources, args.runs, args.scale)),
          flush=True)
    expect = {}
    for name, path in inputs.items():
        print(f"source SHA-1 of {path.name} ...", file=sys.stderr, flush=True)
        expect[name] = source_of(path)

    results: dict[tuple[str, str], list[Run]] = {}
    out = folder / "out"
    for run in range(1, args.runs + 1):
        for name, path in inputs.items():
            for m in chosen:
                if m.tiff_only and path.suffix == ".czi":
                    continue
                r = run_once(m, path, expect[name], out, args.timeout)
                results.setdefault((name, m.name), []).append(r)
                state = r.error or (r.checked.status if r.checked else "")
                print(f"run {run} | {labels[name]} | {m.name} | "
                      f"{_fmt(r.seconds) + ' s' if r.seconds else ''} | {state}",
                      file=sys.stderr, flush=True)
    lines = table(results, inputs, chosen, labels)
    lines += ["", "Peak RSS is the largest single process's (`/usr/bin/time -v`): eubi converts "
              "in a worker process it spawns, its parent's memory is not added."]
    lines += slopes(results, inputs, chosen)
    lines += notes(results, inputs, chosen, labels)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
