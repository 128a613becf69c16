import json

import dask.array as da
import numpy as np
import pytest
import zarr

from napari_lightmic import open_image
from napari_lightmic.synthetic import write_ome_tiff
from napari_lightmic.writing import WriteOptions
from napari_lightmic.writing.common import WriteError, halve_yx
from napari_lightmic.writing.ome_zarr import write_ome_zarr
from tests.conftest import real_file


@pytest.fixture
def cells(tmp_path):
    data = np.random.default_rng(0).integers(0, 4000, (3, 5, 600, 700), dtype=np.uint16)
    path = write_ome_tiff(tmp_path / "cells.ome.tif", data, physical=(0.8, 0.1, 0.1))
    with open_image(path) as source:
        yield source, data


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_pixels_sizes_names_colours_survive(cells, tmp_path, version, opened):
    source, data = cells
    out = write_ome_zarr(source, source.scenes, tmp_path / "cells.ome.zarr",
                         WriteOptions(ngff_version=version))
    back = opened(out).scenes[0]
    assert back.dims == "TCZYX" and back.shape == (1, 3, 5, 600, 700)
    np.testing.assert_array_equal(np.asarray(back.data[0]), data)
    assert back.physical_pixel_sizes == pytest.approx({"Z": 0.8, "Y": 0.1, "X": 0.1})
    assert back.units == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert back.channel_names == ["DAPI", "GFP", "mCherry"]
    assert back.channel_colors == ["#0000FF", "#00FF00", "#FF00FF"]
    # A pyramid down to about 256 px, each level half the one above.
    assert [lvl.shape[-2:] for lvl in back.levels] == [(600, 700), (300, 350), (150, 175)]
    # Independently of this plugin: zarr sees the NGFF layout and the codec.
    group = zarr.open_group(str(out), mode="r")
    attrs = dict(group.attrs["ome"]) if version == "0.5" else dict(group.attrs)
    assert [a["name"] for a in attrs["multiscales"][0]["axes"]] == ["t", "c", "z", "y", "x"]
    assert group["0"].metadata.zarr_format == (3 if version == "0.5" else 2)
    assert (out / "OME" / "METADATA.ome.xml").exists()


def test_chunks_are_a_few_megabytes_and_zstd(cells, tmp_path):
    source, _ = cells
    out = write_ome_zarr(source, source.scenes, tmp_path / "c.ome.zarr")
    meta = json.loads((out / "0" / "zarr.json").read_text())
    chunk = meta["chunk_grid"]["configuration"]["chunk_shape"]
    assert chunk == [1, 1, 1, 600, 700] or chunk[-2:] == [1024, 1024]
    codecs = json.dumps(meta["codecs"])
    assert "blosc" in codecs and "zstd" in codecs


def test_sharding_and_other_codecs(cells, tmp_path, opened):
    source, data = cells
    out = write_ome_zarr(source, source.scenes, tmp_path / "s.ome.zarr",
                         WriteOptions(shard=True, compression="zlib"))
    meta = json.loads((out / "0" / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "sharding_indexed"
    np.testing.assert_array_equal(np.asarray(opened(out).scenes[0].data[0, 2, 4]), data[2, 4])


def test_several_scenes_use_the_bioformats2raw_layout(tmp_path, opened):
    source = opened(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"))
    out = write_ome_zarr(source, source.scenes, tmp_path / "s3.ome.zarr")
    back = opened(out)
    assert [s.shape for s in back.scenes] == [s.shape for s in source.scenes]
    assert [s.name for s in back.scenes] == ["TR1", "P1", "TR2"]
    for a, b in zip(source.scenes, back.scenes):
        np.testing.assert_array_equal(np.asarray(a.data), np.asarray(b.data))
    assert len(back.ome.images) == 3
    # The vendor's own metadata is kept as an annotation of the OME-XML.
    assert any("ImageDocument" in (a.value or "") for a in back.ome.structured_annotations)


def test_existing_target_is_kept_unless_overwrite(cells, tmp_path):
    source, _ = cells
    target = tmp_path / "x.ome.zarr"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(WriteError, match="exists"):
        write_ome_zarr(source, source.scenes, target)
    assert (target / "keep.txt").read_text() == "mine"
    write_ome_zarr(source, source.scenes, target, WriteOptions(overwrite=True))
    assert not (target / "keep.txt").exists() and (target / "0").is_dir()


def test_a_failed_write_leaves_nothing_at_the_target(cells, tmp_path):
    source, _ = cells
    target = tmp_path / "broken.ome.zarr"

    def fail(done, total):
        if done > total / 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_ome_zarr(source, source.scenes, target, progress=fail)
    assert not target.exists()
    assert list(tmp_path.glob(".broken.ome.zarr*")) == []


def test_rgb_and_folded_axes(tmp_path, opened):
    rgb = opened(real_file("tiff/Fluorescence_RGB.tif"))
    out = write_ome_zarr(rgb, rgb.scenes, tmp_path / "rgb.ome.zarr")
    back = opened(out).scenes[0]
    assert back.channel_names == ["Red", "Green", "Blue"]
    original = np.asarray(rgb.scenes[0].data)[0, 0, 0]
    np.testing.assert_array_equal(np.moveaxis(np.asarray(back.data)[0, :, 0], 0, -1), original)
    airy = opened(real_file("czi/LSM880_AiryScan.czi"))
    out = write_ome_zarr(airy, airy.scenes, tmp_path / "airy.ome.zarr")
    back = opened(out).scenes[0]
    assert back.sizes["T"] == 32  # H folded into T, as Bio-Formats does
    np.testing.assert_array_equal(np.asarray(back.data[5, 3, 0]),
                                  np.asarray(airy.scenes[0].data[5, 0, 3, 0]))


def test_ome_tiff_of_large_planes_is_written_band_by_band(tmp_path, monkeypatch, opened):
    """Planes too large to hold are read and halved a band of tile rows at a time; the file
    is the same as when each plane is read whole."""
    import tifffile

    from napari_lightmic.writing import ome_tiff, write

    data = np.random.default_rng(3).integers(0, 60000, (2, 4500, 300), dtype=np.uint16)
    path = tmp_path / "tall.ome.tif"  # tiled, taller than a page read whole
    tifffile.imwrite(path, data, tile=(256, 256), ome=True, metadata={"axes": "CYX"})
    whole = write(opened(path), tmp_path / "whole.ome.tif", 0, WriteOptions(pyramid_levels=3))
    monkeypatch.setattr(ome_tiff, "BAND_BYTES", 600 * 300 * 2)  # bands of 512 rows
    image = ome_tiff.as_5d(opened(path).scenes[0])
    assert ome_tiff.band_rows(image) == 512
    banded = write(opened(path), tmp_path / "banded.ome.tif", 0,
                WriteOptions(pyramid_levels=3))
    with tifffile.TiffFile(whole) as a, tifffile.TiffFile(banded) as b:
        assert len(a.series[0].levels) == len(b.series[0].levels) == 3
        for la, lb in zip(a.series[0].levels, b.series[0].levels):
            np.testing.assert_array_equal(la.asarray(), lb.asarray())
        np.testing.assert_array_equal(b.series[0].levels[0].asarray().reshape(data.shape), data)


def test_ome_tiff_bands_keep_deep_pyramid_levels_exact(tmp_path, monkeypatch, opened):
    """Bands are aligned to 2 ** (levels - 1) rows, so even the smallest level equals the 2x2
    mean of the level above."""
    import tifffile

    from napari_lightmic.reading import tiff as tiff_reader
    from napari_lightmic.writing import ome_tiff, write
    from napari_lightmic.writing.common import halve_yx

    data = np.random.default_rng(5).integers(0, 255, (1, 2999, 1100), dtype=np.uint8)
    path = tmp_path / "tall.ome.tif"
    tifffile.imwrite(path, data, tile=(256, 256), ome=True, metadata={"axes": "CYX"})
    monkeypatch.setattr(ome_tiff, "BAND_BYTES", 1)
    monkeypatch.setattr(tiff_reader, "WHOLE_PAGE_SIDE", 256)  # source chunks of 256 rows
    # 11 levels: bands of 2 ** 10 rows, more than a tile's 512
    assert ome_tiff.band_rows(ome_tiff.as_5d(opened(path).scenes[0]), 11) == 1024
    out = write(opened(path), tmp_path / "out.ome.tif", 0, WriteOptions(pyramid_levels=11))
    with tifffile.TiffFile(out) as tif:
        levels = [level.asarray().reshape(level.shape[-2:]) for level in tif.series[0].levels]
    assert len(levels) == 11 and levels[-1].shape == (3, 2)
    np.testing.assert_array_equal(levels[0], data[0])
    for above, below in zip(levels, levels[1:]):
        np.testing.assert_array_equal(below, halve_yx(above, "YX"))


def test_ngff_04_chunk_keys_are_nested(cells, tmp_path):
    """NGFF 0.2-0.4 require "/" chunk keys; with "." a zarr-2 client that does not honour
    .zarray's separator (ome-zarr < 0.11) reads every chunk as missing: all zeros."""
    source, data = cells
    out = write_ome_zarr(source, source.scenes, tmp_path / "v04.ome.zarr",
                         WriteOptions(ngff_version="0.4"))
    zarrays = sorted(out.rglob(".zarray"))
    assert len(zarrays) == 3
    for path in zarrays:
        assert json.loads(path.read_text())["dimension_separator"] == "/", path
    assert (out / "0" / "0" / "0" / "0" / "0" / "0").is_file()
    # Read the chunk as a "/"-assuming zarr-2 client does: by its nested key, decoded alone.
    import numcodecs

    meta = json.loads((out / "0" / ".zarray").read_text())
    raw = (out / "0" / "0" / "0" / "0" / "0" / "0").read_bytes()
    chunk = np.frombuffer(numcodecs.get_codec(meta["compressor"]).decode(raw),
                          dtype=meta["dtype"]).reshape(meta["chunks"])
    np.testing.assert_array_equal(chunk[0, 0, 0], data[0, 0, :meta["chunks"][3],
                                                        :meta["chunks"][4]])


def test_a_readers_blocks_are_read_without_a_dask_graph(cells, tmp_path, monkeypatch):
    """A scene that is a reader's lazy array is written from its chunks, not through dask."""
    from napari_lightmic.writing import ome_zarr

    def refused(*args, **kwargs):
        raise AssertionError("a block computed through dask")

    monkeypatch.setattr(ome_zarr, "compute", refused)
    source, data = cells
    out = write_ome_zarr(source, source.scenes, tmp_path / "direct.ome.zarr")
    np.testing.assert_array_equal(zarr.open_array(str(out / "0"), mode="r")[0], data)
    level1 = zarr.open_array(str(out / "1"), mode="r")[0]
    assert level1.shape == (3, 5, 300, 350)
    np.testing.assert_array_equal(level1, halve_yx(data, "CZYX"))  # the blocks in place


class Recorded:
    """A chunked array that notes every key it is read with."""

    def __init__(self, data):
        self.data, self.shape, self.dtype, self.keys = data, data.shape, data.dtype, []

    def __getitem__(self, key):
        self.keys.append(key)
        return self.data[key]


@pytest.mark.parametrize("moved", [
    lambda d: d, lambda d: d.transpose((0, 1, 3, 2)), lambda d: d.transpose((2, 3, 0, 1)),
    lambda d: d[None], lambda d: d[:, None].transpose((1, 0, 2, 3, 4)),
    lambda d: d.transpose((1, 0, 2, 3))[None, None]])
def test_direct_reads_ask_the_chunks_dask_asks(moved):
    """The same chunk keys (whole chunks, as dask reads them) and the same pixels."""
    from napari_lightmic.scene.axes import ChunkOrigin, chunked_array
    from napari_lightmic.scene.chunked import ChunkedArray
    from napari_lightmic.writing.ome_zarr import _dask_reads

    source = Recorded(np.arange(2 * 3 * 50 * 70, dtype=np.uint16).reshape(2, 3, 50, 70))
    lazy = moved(chunked_array(source, (1, 2, 16, 32), ChunkOrigin("made.tif", "TCYX")))
    assert isinstance(lazy, ChunkedArray)  # what the writer reads straight (`read`)
    data, direct = lazy.to_dask(), lazy.read
    regions = [tuple(slice(0, n) for n in data.shape),
               tuple(slice(1, 2) if n < 10 else slice(5, 37) for n in data.shape),
               tuple(slice(0, 1) if n < 10 else slice(16, 32) for n in data.shape)]
    for region in regions:
        source.keys.clear()
        expected, asked = _dask_reads(data)(region), sorted(map(str, source.keys))
        source.keys.clear()
        got = direct(region)
        assert sorted(map(str, source.keys)) == asked
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_anything_but_a_readers_array_is_read_through_dask():
    from napari_lightmic.scene.axes import ChunkOrigin, chunked_array
    from napari_lightmic.scene.chunked import ChunkedArray

    lazy = chunked_array(np.zeros((2, 40, 40), np.uint16), (1, 16, 16), ChunkOrigin("f", "CYX"))
    assert isinstance(lazy[None, 1], ChunkedArray)
    data = lazy.to_dask()
    for other in (lazy[:, 1:], data.astype("f4"), data.rechunk((1, 8, 8)), data + 1,
                  lazy[None][:, :, ::2], da.zeros((2, 40, 40), chunks=16)):
        assert not isinstance(other, ChunkedArray)


def test_a_damaged_plane_fails_the_write_naming_the_plane(tmp_path, opened):
    from napari_lightmic.errors import LightmicReadError
    from tests.reading.test_read_errors import deflate_tiled_ome_tiff

    path, _ = deflate_tiled_ome_tiff(tmp_path)
    source = opened(path)
    with pytest.raises(LightmicReadError) as caught:
        write_ome_zarr(source, source.scenes, tmp_path / "damaged.ome.zarr")
    assert caught.value.path == str(path)
    assert caught.value.cause.startswith("plane T=0, C=0, Z=2 cannot be decoded: ")
    assert not (tmp_path / "damaged.ome.zarr").exists()
