"""OME-TIFF tiles: each compression's TIFF tags (the predictor with deflate, zstd and LZW), read
back bit-identical, every pyramid level, by tifffile and by Bio-Formats 7.3."""

import subprocess
import sys

import numpy as np
import pytest
import tifffile

from napari_lightmic.writing.common import halve_yx

# compression name -> (TIFF compression code, predictor): deflate 8 (Adobe), zstd 50000
TAGS = {"zlib": (8, 2), "zstd": (50000, 2), "lzw": (5, 2), "none": (1, 1)}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Cells-like uint16 planes with noise, not a multiple of the tile size (edge tiles)."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:700, :1100]
    base = (2000 + 1500 * np.sin(yy / 37.0) * np.cos(xx / 53.0)).astype(np.uint16)
    data = np.stack([base + rng.integers(0, 60, base.shape, dtype=np.uint16)
                     for _ in range(3)])
    data[:, 0, :3] = [0, 65535, 1]  # differences that wrap around
    path = tmp_path_factory.mktemp("src") / "cells.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"})
    return path, data


def lightmic(*args):
    done = subprocess.run([sys.executable, "-m", "napari_lightmic", *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("compression", sorted(TAGS))
def test_each_compression_reads_back_bit_identical(source, tmp_path, compression):
    path, data = source
    out = tmp_path / "out.ome.tif"
    lightmic("convert", path, out, "--compression", compression, "--pyramid-levels", "3")
    code, predictor = TAGS[compression]
    with tifffile.TiffFile(out) as tif:
        series = tif.series[0]
        assert len(series.levels) == 3
        expected = data
        for level in series.levels:
            for frame in level.pages:
                page = frame.aspage()  # every IFD's own tags, not the first one's
                assert (page.compression, page.predictor) == (code, predictor)
                tile = tuple(min(512, -(-n // 16) * 16) for n in level.shape[-2:])
                assert (page.tilelength, page.tilewidth) == tile
            np.testing.assert_array_equal(level.asarray().reshape(expected.shape), expected)
            expected = halve_yx(expected, "ZYX")


@pytest.mark.interop
@pytest.mark.parametrize("compression", ["zlib", "zstd"])
def test_bioformats_reads_each_compression_back(source, tmp_path, compression):
    """Bio-Formats 7.3 decodes the tiles (predictor and all) to the source's pixels."""
    from tests.interop import envs
    from tests.interop.bioformats import convert

    try:
        bioformats = envs.java(), envs.bioformats_jar()
    except envs.Unavailable as exc:
        pytest.skip(f"Bio-Formats unavailable: {exc}")
    path, data = source
    out = tmp_path / "out.ome.tif"
    lightmic("convert", path, out, "--compression", compression, "--pyramid-levels", "2")
    copy = tmp_path / "bioformats.ome.tif"
    convert(*bioformats, out, copy)
    with tifffile.TiffFile(copy) as tif:
        np.testing.assert_array_equal(tif.series[0].asarray().reshape(data.shape), data)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "uint32", "int32"])
def test_the_predictor_differences_a_view_into_one_reused_buffer(dtype):
    """TIFF's horizontal differencing (wrapping around) of a tile that is a view into the band
    read, written straight into the encoding thread's own buffer: no copy of the tile, no new
    array per tile."""
    import imagecodecs

    from napari_lightmic.writing.ome_tiff import _predicted

    info = np.iinfo(dtype)
    band = np.random.default_rng(1).integers(info.min, info.max, (600, 1100), dtype=dtype,
                                             endpoint=True)
    first, second = band[:512, :512], band[:512, 512:1024]
    assert not first.flags.c_contiguous
    got = _predicted(first)
    np.testing.assert_array_equal(got, imagecodecs.delta_encode(first, axis=-1))
    np.testing.assert_array_equal(imagecodecs.delta_decode(got.copy(), axis=-1), first)
    again = _predicted(second)
    assert again is got  # the same buffer, reused
    np.testing.assert_array_equal(again, imagecodecs.delta_encode(second, axis=-1))


def test_read_ahead_keeps_order_raises_the_producers_error_and_stops_when_closed():
    """The bands made on their own thread: in order, at most `depth` ahead, an error raised
    where they are used, and a caller that stops early stops the producer (no thread left)."""
    import threading

    from napari_lightmic.writing.ome_tiff import _ahead

    made = []

    def items(n, fail_at=None):
        for i in range(n):
            if i == fail_at:
                raise OSError("disk gone")
            made.append(i)
            yield i

    assert list(_ahead(items(50), 3)) == list(range(50))

    with pytest.raises(OSError, match="disk gone"):
        list(_ahead(items(10, fail_at=4), 2))

    made.clear()
    stream = _ahead(items(1000), 2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "lightmic-read-ahead"]
    assert len(made) <= 3 + 2 + 1  # what was taken, the queue, the one waiting for room


def test_a_write_that_fails_halfway_leaves_no_thread_reading_and_no_file(source, tmp_path,
                                                                         monkeypatch):
    """tifffile failing while it writes (a full disk): the read-ahead and the encoders'
    feeder stop before the write's error reaches the caller, even while the error is held."""
    import threading

    from napari_lightmic.errors import WriteError
    from napari_lightmic.writing import convert

    path, _ = source
    real = tifffile.TiffWriter.write

    def failing(self, data, *args, **kwargs):
        if hasattr(data, "__next__"):
            next(data), next(data)  # the stream runs, then the disk is full
            raise OSError(28, "No space left on device")
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffWriter, "write", failing)
    # little read ahead, so that both threads still have work when the write fails
    from napari_lightmic.writing import ome_tiff

    monkeypatch.setattr(ome_tiff, "AHEAD_BYTES", 700 * 1100 * 2)
    monkeypatch.setattr(ome_tiff, "IN_FLIGHT", 2)
    target = tmp_path / "out.ome.tif"
    with pytest.raises(WriteError, match="No space left") as caught:
        convert(path, target)
    assert caught.value is not None  # the error (and its traceback) still held here
    assert not [t for t in threading.enumerate() if t.name == "lightmic-read-ahead"]
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == []
