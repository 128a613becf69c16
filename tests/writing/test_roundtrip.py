"""Every shared vendor file converted to OME-Zarr and OME-TIFF: nothing the target can hold is
lost. Read back with this plugin and, independently, with zarr and tifffile."""

import json

import numpy as np
import pytest
import tifffile
import zarr

from napari_lightmic.session import Session
from napari_lightmic.writing import validate, write
from napari_lightmic.writing.common import as_5d
from tests.conftest import TESTDATA, real_file

FILES = (sorted(json.loads((TESTDATA / "truth.json").read_text()))
         if (TESTDATA / "truth.json").exists() else [])


@pytest.mark.parametrize("relpath", FILES)
@pytest.mark.parametrize("target", ["out.ome.zarr", "out.ome.tif"])
def test_roundtrip(relpath, target, tmp_path, opened):
    source = opened(real_file(relpath))
    out = write(source, tmp_path / target, "all")
    assert validate(out) == []
    fields = _plate_fields(out)
    # a plate (wells recorded, as in WellD6-7_S2.czi) opens as its mosaic: its fields are the
    # scenes written
    scenes = ([opened(out / path).scenes[0] for path in fields] if fields
              else opened(out).scenes)
    assert len(scenes) == len(source.scenes)
    for original, copy in zip(source.scenes, scenes):
        # What a scene looks like in an open format: T, C, (Z,) Y, X (writing.common.as_5d).
        want = as_5d(original)
        pixels = np.asarray(want.data)
        got = np.asarray(copy.data)
        assert got.shape == pixels.shape or got.size == pixels.size
        np.testing.assert_array_equal(got.reshape(pixels.shape), pixels)
        assert copy.channel_names == [c.name for c in want.channels]
        assert copy.channel_colors == [c.color for c in want.channels]
        for note in want.notes:  # what the writer did is said in the copy too
            assert note in copy.notes, note
        for axis in "TXYZ":
            size = want.physical.get(axis)
            ours = copy.physical_pixel_sizes.get(axis)
            unit = want.units.get(axis)
            if unit == "pixel" and target.endswith(".zarr"):
                # NGFF units are lengths: a size in pixels is stored without its unit, and a
                # size of one pixel is no size at all.
                assert ours == (None if size == 1.0 else pytest.approx(size)), axis
                continue
            if size is None:
                assert ours is None, axis
            else:
                assert ours == pytest.approx(size, rel=1e-6), axis
                assert copy.units.get(axis) == unit, axis
    # Independently of this plugin.
    first = np.asarray(as_5d(source.scenes[0]).data)
    if target.endswith(".zarr"):
        root = zarr.open_group(str(out), mode="r")
        array = (root[fields[0]]["0"] if fields else
                 root["0"] if "0" in root.array_keys() else root["0"]["0"])
        np.testing.assert_array_equal(array[...].reshape(first.shape), first)
    else:
        with tifffile.TiffFile(out) as tif:
            assert tif.is_ome
            np.testing.assert_array_equal(tif.series[0].asarray().reshape(first.shape), first)


def _plate_fields(out) -> list[str]:
    """The image paths of an OME-Zarr plate (its OME series), in scene order; [] if no plate."""
    if not str(out).endswith(".zarr"):
        return []
    root = zarr.open_group(str(out), mode="r")
    attrs = dict(root.attrs).get("ome", dict(root.attrs))
    if "plate" not in attrs:
        return []
    ome = dict(root["OME"].attrs)
    return list(ome.get("ome", ome)["series"])


@pytest.mark.parametrize("relpath", ["tiff/CH1_16bit.tif", "tiff/CH3_Fluorescence_8bit.tif"])
@pytest.mark.parametrize("target", ["out.ome.zarr", "out.ome.tif"])
def test_no_invented_channel_names(relpath, target, tmp_path, opened):
    """A file that records no channel names gets none in the OME-XML of its copies (the
    layers and the `omero` labels still show 'Channel 0')."""
    from ome_types import from_xml

    source = opened(real_file(relpath))
    assert not any(c.named for c in source.scenes[0].channels)
    out = write(source, tmp_path / target)
    xml = (tifffile.TiffFile(out).ome_metadata if target.endswith(".tif")
           else (out / "OME" / "METADATA.ome.xml").read_text())
    channels = from_xml(xml).images[0].pixels.channels
    assert channels and all(c.name is None for c in channels)
    back = opened(out).scenes[0]
    assert back.channel_names == source.scenes[0].channel_names  # 'Channel 0', ...
    assert not any(c.named for c in back.channels)  # and a copy of the copy invents none


def test_recorded_and_renamed_channel_names_are_written(tmp_path, opened):
    from ome_types import from_xml

    session = Session(opened(real_file("tiff/CH3_Fluorescence_8bit.tif")))
    session.edit("scenes.0.channels.1.name", "GFP")
    out = write(session.effective_source(), tmp_path / "renamed.ome.tif")
    names = [c.name for c in from_xml(tifffile.TiffFile(out).ome_metadata).images[0]
             .pixels.channels]
    assert names == [None, "GFP", None]
    czi = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"))
    out = write(czi, tmp_path / "czi.ome.tif")
    assert [c.name for c in from_xml(tifffile.TiffFile(out).ome_metadata).images[0]
            .pixels.channels] == czi.scenes[0].channel_names
