"""Damage found only when the pixels are read (issue 14, item 1).

A file whose structure opens but whose chunk of one plane cannot be decoded: the read of that
plane raises one `LightmicReadError` naming the file and the plane, never the codec's or the
library's own exception; the other planes read; `lightmic convert` fails that job with one
line and leaves no output; `lightmic info` (no pixels) is unaffected. Each case is a cause of
the issue's table, made in a temporary folder (shared files are copied, never changed).
"""

from __future__ import annotations

import os
import pickle
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.scene.axes import ChunkOrigin, GuardedChunks, chunked_array, tolerant
from napari_lightmic.scene.chunked import compute
from tests.conftest import real_file

# --- damaged files: each returns (path, the damaged plane's index in the scene's TCZYX) ---


def _zero_bytes(path: Path, offset: int, count: int, fill: bytes = b"\0") -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + count] = fill * count
    path.write_bytes(bytes(data))


def deflate_tiled_ome_tiff(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """An OME-TIFF of 4 Z planes in deflate tiles; one tile of plane Z=2 zeroed."""
    import tifffile

    path = tmp / "tiled.ome.tif"
    data = (np.arange(4 * 128 * 128) % 60000).astype(np.uint16).reshape(4, 128, 128)
    tifffile.imwrite(path, data, tile=(64, 64), compression="zlib", metadata={"axes": "ZYX"},
                     ome=True)
    _zero_tile(path, page=2, tile=1)
    return path, (0, 0, 2)


def _zero_tile(path: Path, page: int, tile: int) -> None:
    """Zero the stored bytes of one tile of one page of a tiled TIFF."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        stored = tif.pages[page]
        offset, count = stored.dataoffsets[tile], stored.databytecounts[tile]
    _zero_bytes(path, offset, count)


def wide_tiled_tiff(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """A page wider than is read whole (read tile by tile through zarr); one tile zeroed."""
    import tifffile

    path = tmp / "wide.tif"
    data = (np.arange(64 * 4200) % 250).astype(np.uint8).reshape(64, 4200)
    tifffile.imwrite(path, data, tile=(32, 128), compression="zlib")
    _zero_tile(path, page=0, tile=3)
    return path, (0, 0, 0)


def tiff_bits_per_sample_1000(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """A 3-page TIFF whose second page says BitsPerSample 1000."""
    import tifffile

    path = tmp / "bits.tif"
    data = (np.arange(3 * 40 * 50) % 200).astype(np.uint8).reshape(3, 40, 50)
    tifffile.imwrite(path, data, photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        where = tif.pages[1].tags["BitsPerSample"].valueoffset
    raw = bytearray(path.read_bytes())
    struct.pack_into("<H", raw, where, 1000)
    path.write_bytes(bytes(raw))
    return path, (0, 0, 1)


def lsm_compression_7(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """The shared LSM with its pages' Compression set to 7 (JPEG)."""
    import tifffile

    path = tmp / "compression7.lsm"
    shutil.copy(real_file("lsm/test.lsm"), path)
    with tifffile.TiffFile(path) as tif:
        where = [page.tags["Compression"].valueoffset for page in tif.pages]
    raw = bytearray(path.read_bytes())
    for offset in where:
        struct.pack_into("<H", raw, offset, 7)
    path.write_bytes(bytes(raw))
    return path, (0, 0, 0)


def _czi_compression(tmp: Path, name: str, subblocks: bool, directory: bool,
                     value: int) -> Path:
    """A copy of a shared CZI with the Compression field of its subblocks changed.

    The field (int32) is 18 bytes into a DirectoryEntryDV: in each ZISRAWSUBBLOCK segment
    (after its 32-byte header and 16 bytes of sizes), and in each entry of the
    ZISRAWDIRECTORY (after its header, entry count and 124 spare bytes).
    """
    path = tmp / f"compression{value}.czi"
    shutil.copy(real_file(f"czi/{name}"), path)
    raw = bytearray(path.read_bytes())
    if subblocks:
        at = raw.find(b"ZISRAWSUBBLOCK")
        while at >= 0:
            struct.pack_into("<i", raw, at + 32 + 16 + 18, value)
            at = raw.find(b"ZISRAWSUBBLOCK", at + 1)
    if directory:
        start = raw.find(b"ZISRAWDIRECTORY")
        count = struct.unpack_from("<i", raw, start + 32)[0]
        entry = start + 32 + 128
        for _ in range(count):
            struct.pack_into("<i", raw, entry + 18, value)
            entry += 32 + 20 * struct.unpack_from("<i", raw, entry + 28)[0]
    path.write_bytes(bytes(raw))
    return path


def test_czi_subblocks_that_contradict_the_directory_are_refused_at_open(tmp_path):
    """libCZI's 'SubBlock-directory and sub-block information do not match' at read time is
    now found at open, where the CZI's structure is checked (reading/czi_check.py)."""
    path = _czi_compression(tmp_path, "CellDivision_T3_Z5_CH2_X240_Y170.czi", True, False, 6)
    with pytest.raises(LightmicReadError, match="compression") as err:
        open_image(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def czi_compression_zstd(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """Uncompressed subblocks said (in both places) to be zstd: a zstd decoding error."""
    return _czi_compression(tmp, "CellDivision_T3_Z5_CH2_X240_Y170.czi", True, True, 6), \
        (0, 1, 2)


def _small_ome_zarr(path: Path, version: str) -> None:
    """2 channels x 3 Z planes of 32 x 32, a chunk per plane: blosc (0.4) or zstd (0.5)."""
    import zarr

    data = (np.arange(2 * 3 * 32 * 32) % 4000).astype(np.uint16).reshape(2, 3, 32, 32)
    axes = [{"name": "c", "type": "channel"}] + [{"name": a, "type": "space"} for a in "zyx"]
    multiscales = [{"version": version, "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1] * 4}]}]}]
    if version == "0.4":
        import numcodecs

        root = zarr.open_group(str(path), mode="w", zarr_format=2)
        root.attrs["multiscales"] = multiscales
        compressor = numcodecs.Blosc(cname="lz4")
    else:
        from zarr.codecs import ZstdCodec

        root = zarr.open_group(str(path), mode="w", zarr_format=3)
        root.attrs["ome"] = {"version": version, "multiscales": multiscales}
        compressor = ZstdCodec()
    array = root.create_array("0", shape=data.shape, chunks=(1, 1, 32, 32), dtype=data.dtype,
                              compressors=compressor)
    array[...] = data


def _garble(chunk: Path) -> None:
    chunk.write_bytes(b"\x02\x01" + b"\x37" * (chunk.stat().st_size - 2))


def ome_zarr_blosc_chunk(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """An OME-Zarr 0.4 (zarr v2, blosc) whose chunk of C=1, Z=2 is garbage."""
    path = tmp / "blosc.ome.zarr"
    _small_ome_zarr(path, "0.4")
    _garble(path / "0" / "1.2.0.0")
    return path, (0, 1, 2)


def ome_zarr_zstd_chunk(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """An OME-Zarr 0.5 (zarr v3, zstd) whose chunk of C=1, Z=2 is garbage."""
    path = tmp / "zstd.ome.zarr"
    _small_ome_zarr(path, "0.5")
    _garble(path / "0" / "c" / "1" / "2" / "0" / "0")
    return path, (0, 1, 2)


def _garble_h5_chunk(path: Path, dataset: str, index: int) -> None:
    import h5py

    with h5py.File(path, "r") as f:
        info = f[dataset].id.get_chunk_info(index)
    _zero_bytes(path, info.byte_offset, info.size, b"\xff")


def imaris_filter_failure(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """The shared Imaris file with its (gzip) chunk overwritten: HDF5's filter fails."""
    path = tmp / "damaged.ims"
    shutil.copy(real_file("ims/Minimal_IMS_File.ims"), path)
    _garble_h5_chunk(path, "DataSet/ResolutionLevel 0/TimePoint 0/Channel 0/Data", 0)
    return path, (0, 0, 0)


def hdf5_gzip_chunk(tmp: Path) -> tuple[Path, tuple[int, ...]]:
    """A plain HDF5 stack in gzip chunks of one plane; the chunk of Z=2 overwritten."""
    import h5py

    path = tmp / "stack.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("raw", data=np.arange(4 * 40 * 30, dtype=np.uint16).reshape(4, 40, 30),
                         chunks=(1, 40, 30), compression="gzip")
    _garble_h5_chunk(path, "raw", 2)
    return path, (0, 0, 2)


@dataclass(frozen=True)
class Damage:
    id: str
    make: Callable[[Path], tuple[Path, tuple[int, ...]]]
    plane: str  # how the error names the damaged plane


CASES = [
    Damage("ome-tiff-deflate-tile-zeroed", deflate_tiled_ome_tiff, "T=0, C=0, Z=2"),
    Damage("tiff-wide-page-tile-zeroed", wide_tiled_tiff, "T=0, C=0, Z=0"),
    Damage("tiff-bits-per-sample-1000", tiff_bits_per_sample_1000, "T=0, C=0, Z=1"),
    Damage("lsm-compression-7", lsm_compression_7, "T=0, C=0, Z=0"),
    Damage("czi-compression-zstd", czi_compression_zstd, "T=0, C=1, Z=2"),
    Damage("ome-zarr-blosc-chunk", ome_zarr_blosc_chunk, "T=0, C=1, Z=2"),
    Damage("ome-zarr-zstd-chunk", ome_zarr_zstd_chunk, "T=0, C=1, Z=2"),
    Damage("imaris-filter-failure", imaris_filter_failure, "T=0, C=0, Z=0"),
    Damage("hdf5-gzip-chunk", hdf5_gzip_chunk, "T=0, C=0, Z=2"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_damaged_plane_is_a_read_error_naming_the_file_and_plane(case, tmp_path):
    path, index = case.make(tmp_path)
    with open_image(path) as source:
        scene = source.scenes[0]
        assert scene.dims.endswith("TCZYX")
        with pytest.raises(LightmicReadError) as caught:
            compute(scene.data[index])
        err = caught.value
        assert err.path == str(path)
        assert f"plane {case.plane} cannot be decoded: " in err.cause
        assert "\n" not in str(err)
        assert type(err) is LightmicReadError  # not a library's exception, nor wrapped twice
        with pytest.raises(LightmicReadError):  # the whole scene, as a writer reads it
            compute(scene.data)


def test_the_planes_that_are_not_damaged_still_read(tmp_path):
    path, _ = deflate_tiled_ome_tiff(tmp_path)
    with open_image(path) as source:
        data = source.scenes[0].data
        for z in (0, 1, 3):
            plane = compute(data[0, 0, z])
            assert plane.shape == (128, 128) and plane.any()


def test_the_error_keeps_the_library_cause_on_one_line(tmp_path):
    path, _ = ome_zarr_zstd_chunk(tmp_path)
    with open_image(path) as source, pytest.raises(LightmicReadError) as caught:
        compute(source.scenes[0].data)
    assert caught.value.cause.startswith("plane T=0, C=1, Z=2 cannot be decoded: RuntimeError: ")
    assert isinstance(caught.value.__cause__, RuntimeError)  # the library's error, chained


# --- the guard itself ---


class Failing:
    """A chunked array whose every read raises what it is given."""

    shape, dtype, ndim = (3, 2, 4, 5), np.dtype(np.uint8), 4

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getitem__(self, key):
        raise self.exc


@pytest.mark.parametrize("exc", [ValueError("bad\nheader"), MemoryError(), OSError(5, "I/O"),
                                 RuntimeError("x" * 2000), ZeroDivisionError()],
                         ids=lambda e: type(e).__name__)
def test_any_library_failure_becomes_one_read_error(exc):
    data = chunked_array(Failing(exc), (1, 1, 4, 5), ChunkOrigin("/data/a.tif", "TZYX")).to_dask()
    with pytest.raises(LightmicReadError) as caught:
        compute(data[2, 1])
    cause = caught.value.cause
    assert cause.startswith(f"plane T=2, C=0, Z=1 cannot be decoded: {type(exc).__name__}")
    assert "\n" not in cause and len(cause) < 400
    assert caught.value.path == "/data/a.tif"


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)],
                         ids=lambda e: type(e).__name__)
def test_stopping_is_not_a_read_error(exc):
    guarded = GuardedChunks(Failing(exc), ChunkOrigin("a.tif", "TZYX"))
    with pytest.raises(type(exc)):
        guarded[(slice(0, 1), slice(0, 1), slice(0, 4), slice(0, 5))]


def test_the_plane_names_fixed_positions_stacks_and_extra_axes():
    imaris = ChunkOrigin("a.ims", "ZYX", (("T", 3), ("C", 1)))
    assert imaris.plane((slice(4, 5), slice(0, 8), slice(0, 8)), (9, 8, 8)) == "T=3, C=1, Z=4"
    stack = ChunkOrigin("a.tif", "IYX")  # an unnamed stack is Z, as canonical() reads it
    assert stack.plane((slice(2, 3), slice(None), slice(None)), (5, 8, 8)) == "T=0, C=0, Z=2"
    czi = ChunkOrigin("a.czi", "HTCZYX")
    key = (slice(1, 2), slice(0, 1), slice(1, 2), slice(0, 4), slice(None), slice(None))
    assert czi.plane(key, (2, 1, 2, 4, 8, 8)) == "H=1, T=0, C=1, Z=0-3"


def test_guarded_arrays_pickle_with_their_origin(tmp_path):
    path, index = ome_zarr_zstd_chunk(tmp_path)
    with open_image(path) as source:
        copy = pickle.loads(pickle.dumps(source.scenes[0].data))
    with pytest.raises(LightmicReadError) as caught:
        compute(copy[index])
    assert caught.value.path == str(path) and "C=1, Z=2" in caught.value.cause
    err = pickle.loads(pickle.dumps(caught.value))  # errors cross process boundaries too
    assert (type(err), err.path, err.cause) == (LightmicReadError, str(path), caught.value.cause)


def test_tolerant_copies_read_zeros_and_report_while_the_core_keeps_raising(tmp_path):
    path, _ = ome_zarr_zstd_chunk(tmp_path)
    reported: list[LightmicReadError] = []
    with open_image(path) as source:
        data = source.scenes[0].data
        shown = compute(tolerant(data, reported.append))
        assert shown.shape == data.shape
        assert not shown[0, 1, 2].any() and shown[0, 1, 1].any() and shown[0, 0, 2].any()
        assert [e.cause.split(" cannot")[0] for e in reported] == ["plane T=0, C=1, Z=2"]
        with pytest.raises(LightmicReadError):
            compute(data)


# --- the command line ---


def lightmic(*args: object) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lightmic")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "napari_lightmic"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("target", ["out.ome.zarr", "out.ome.tif"])
def test_convert_of_a_damaged_file_fails_in_one_line_and_leaves_nothing(tmp_path, target):
    path, _ = deflate_tiled_ome_tiff(tmp_path)
    before = sorted(os.listdir(tmp_path))
    done = lightmic("convert", path, tmp_path / target)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] or path.name in lines[0]
    assert "plane T=0, C=0, Z=2 cannot be decoded" in lines[0]
    assert "Traceback" not in done.stderr
    assert sorted(os.listdir(tmp_path)) == before  # no output, no partial sibling


def test_info_of_a_damaged_file_reads_no_pixels_and_succeeds(tmp_path):
    path, _ = deflate_tiled_ome_tiff(tmp_path)
    done = lightmic("info", path)
    assert done.returncode == 0, done.stderr
    assert "Z4" in done.stdout


def test_every_reader_reads_its_pixels_through_lazy_array():
    """The one place: no reader builds a dask array of a file's pixels any other way than
    `chunked_array` (and its `to_dask()`) (so no chunk read escapes the guard that
    names its file and plane)."""
    import re

    import napari_lightmic

    root = Path(napari_lightmic.__file__).parent
    other = re.compile(r"\bda\.(from_array|from_zarr|from_delayed|from_npy_stack|map_blocks)\b"
                       r"|\bdask\.delayed\b|\bda\.Array\(")
    offenders = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
                 if path.relative_to(root).as_posix() not in ("scene/axes.py",
                                                              "scene/chunked.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if other.search(line)]
    assert not offenders
