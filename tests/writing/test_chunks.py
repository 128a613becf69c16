"""Chunks written straight to the store are the very bytes zarr would write."""

import numpy as np
import pytest
import zarr

from napari_lightmic.writing.chunks import ChunkWriter
from napari_lightmic.writing.common import halve_yx
from napari_lightmic.writing.ome_zarr import _codecs


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("compression", ["zstd", "lz4", "zlib", "none"])
def test_same_bytes_as_zarr(tmp_path, fmt, compression):
    data = np.random.default_rng(1).integers(0, 4000, (3, 300, 500), dtype=np.uint16)
    arrays = []
    for name in ("by_zarr", "direct"):
        group = zarr.open_group(str(tmp_path / name), mode="w", zarr_format=fmt)
        arrays.append(group.create_array("0", shape=data.shape, chunks=(1, 128, 256),
                                         dtype=data.dtype, fill_value=0,
                                         config={"write_empty_chunks": True},
                                         **_codecs(compression, fmt, data.dtype)))
    arrays[0][:] = data
    assert ChunkWriter.usable(arrays[1])
    writer = ChunkWriter(arrays[1])
    for z in range(3):  # regions of 2 x 2 chunks, with partial chunks at the edges
        for y in range(0, 300, 256):
            for x in range(0, 500, 512):
                region = (slice(z, z + 1), slice(y, min(y + 256, 300)), slice(x, min(x + 512, 500)))
                writer[region] = data[region]
    files = sorted(p.relative_to(tmp_path / "by_zarr") for p in (tmp_path / "by_zarr").rglob("*")
                   if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zgroup",
                                                     ".zattrs"))
    assert len(files) == 3 * 3 * 2
    for rel in files:
        direct, by_zarr = ((tmp_path / side / rel).read_bytes() for side in ("direct", "by_zarr"))
        if compression == "zlib":  # gzip stores the time of writing in bytes 4-8 of its header
            direct, by_zarr = direct[:4] + direct[8:], by_zarr[:4] + by_zarr[8:]
        assert direct == by_zarr
    np.testing.assert_array_equal(arrays[1][:], data)


@pytest.mark.parametrize("fmt", [2, 3])
def test_chunk_folders_are_made_once_before_writing(tmp_path, fmt, monkeypatch):
    """Every chunk's folder exists once the writer is made: writing chunks makes none."""
    import os
    from pathlib import Path

    data = np.random.default_rng(5).integers(0, 4000, (2, 3, 300, 500), dtype=np.uint16)
    group = zarr.open_group(str(tmp_path / "w"), mode="w", zarr_format=fmt)
    create = {"chunk_key_encoding": {"name": "v2", "separator": "/"}} if fmt == 2 else {}
    array = group.create_array("0", shape=data.shape, chunks=(1, 1, 128, 256), dtype=data.dtype,
                               fill_value=0, config={"write_empty_chunks": True},
                               **_codecs("zstd", fmt, data.dtype), **create)
    writer = ChunkWriter(array)
    prefix = "c/" if fmt == 3 else ""
    for t in range(2):
        for c in range(3):
            for y in range(3):
                assert (tmp_path / "w" / "0" / f"{prefix}{t}/{c}/{y}").is_dir()

    def refused(*args, **kwargs):
        raise AssertionError("a folder made while writing chunks")

    monkeypatch.setattr(os, "makedirs", refused)
    monkeypatch.setattr(os, "mkdir", refused)
    monkeypatch.setattr(Path, "mkdir", refused)
    for t in range(2):
        for c in range(3):
            for y in range(0, 300, 256):
                region = (slice(t, t + 1), slice(c, c + 1), slice(y, min(y + 256, 300)),
                          slice(0, 500))
                writer[region] = data[region]
    monkeypatch.undo()
    np.testing.assert_array_equal(array[:], data)


def test_sharded_arrays_go_through_zarr(tmp_path):
    group = zarr.open_group(str(tmp_path / "s"), mode="w", zarr_format=3)
    array = group.create_array("0", shape=(64, 64), chunks=(32, 32), shards=(64, 64),
                               dtype="u2")
    assert not ChunkWriter.usable(array)


INTEGERS = ["uint8", "int8", "uint16", "int16", "uint32", "int32"]


@pytest.mark.parametrize("dtype", [*INTEGERS, "float32"])
@pytest.mark.parametrize("shape", [(2, 37, 51), (1, 130, 64), (3, 1, 1)])
def test_two_by_two_means_round_half_to_even(dtype, shape):
    rng = np.random.default_rng(2)
    if dtype == "float32":
        block = rng.random(shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        block = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    padded = np.pad(block, [(0, 0), (0, shape[1] % 2), (0, shape[2] % 2)],
                    mode="edge").astype(np.float64)
    mean = (padded[:, ::2, ::2] + padded[:, 1::2, ::2] + padded[:, ::2, 1::2]
            + padded[:, 1::2, 1::2]) / 4
    got = halve_yx(block, "CYX")
    assert got.dtype == block.dtype and got.shape == mean.shape
    if dtype == "float32":
        np.testing.assert_allclose(got, mean, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, np.rint(mean).astype(dtype))
    # Y and X need not be the last axes
    moved = halve_yx(np.moveaxis(block, 0, -1), "YXC")
    np.testing.assert_array_equal(np.moveaxis(moved, -1, 0), got)


@pytest.mark.parametrize("dtype", INTEGERS)
def test_integer_means_break_ties_to_even_near_every_value(dtype):
    """Sums with every remainder of four, around zero and the ends of the type."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    base = np.concatenate([np.arange(-6, 7), [info.min, info.min + 1, info.max - 1, info.max]])
    base = np.clip(base, info.min, info.max)
    values = rng.choice(base, (4, 64, 64)).astype(dtype)
    block = values.astype(np.float64)
    mean = (block[:, ::2, ::2] + block[:, 1::2, ::2] + block[:, ::2, 1::2]
            + block[:, 1::2, 1::2]) / 4
    assert {(s * 4) % 4 for s in mean.ravel()} == {0.0, 1.0, 2.0, 3.0}
    np.testing.assert_array_equal(halve_yx(values, "CYX"), np.rint(mean).astype(dtype))


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "uint32"])
def test_integer_means_need_no_float_copy_of_the_block(dtype):
    """The sums stay integers, a strip at a time: the peak is about the halved block."""
    import tracemalloc

    block = np.random.default_rng(4).integers(0, 200, (1, 2048, 2048)).astype(dtype)
    tracemalloc.start()
    try:
        halved = halve_yx(block, "CYX")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * halved.nbytes


@pytest.mark.parametrize("target", ["out.ome.zarr", "out.ome.tif"])
@pytest.mark.parametrize("ngff", ["0.4", "0.5"])
def test_big_endian_source_is_written_with_its_values(tmp_path, target, ngff, opened):
    """bioformats2raw writes '>u2'; a copy must hold the same numbers, not swapped bytes."""
    import tifffile

    from napari_lightmic.writing import WriteOptions, write

    data = (np.arange(300 * 400, dtype=np.uint16).reshape(1, 1, 1, 300, 400) % 4000)
    group = zarr.open_group(str(tmp_path / "be.ome.zarr"), mode="w", zarr_format=2)
    group.create_array("0", shape=data.shape, chunks=(1, 1, 1, 256, 256), dtype=">u2",
                       fill_value=0)[:] = data
    group.attrs["multiscales"] = [{"version": "0.4", "name": "be", "axes": [
        {"name": n, "type": t} for n, t in zip("tczyx", ["time", "channel", "space", "space",
                                                         "space"])],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1, 1, 1, 1, 1]}]}]}]
    out = write(opened(tmp_path / "be.ome.zarr"), tmp_path / target, 0,
                WriteOptions(ngff_version=ngff))
    if target.endswith(".zarr"):
        back = zarr.open_group(str(out), mode="r")["0"][:]
    else:
        back = tifffile.imread(out)
    np.testing.assert_array_equal(np.asarray(back).reshape(data.shape), data)
