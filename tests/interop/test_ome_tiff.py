"""OME-TIFF outputs (every scene) read by tifffile, with its OME-XML parsed independently,
and by Bio-Formats 7.3, against the plugin's read of the source."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from . import envs, ome_xml
from .bioformats import convert, image_info
from .conftest import FILES, NAMELESS, case

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def bioformats():
    try:
        return envs.java(), envs.bioformats_jar()
    except envs.Unavailable as exc:
        pytest.skip(f"Bio-Formats unavailable: {exc}")


@pytest.mark.parametrize("key", FILES)
def test_tifffile(key, converted, written):
    out = converted(key, "tiff")
    want = written(key)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        images = ome_xml.images(tif.ome_metadata)
        assert len(images) == len(want) == len(tif.series), "images"
        for image, series, exp in zip(images, tif.series, want):
            assert image.get("Name") == exp.scene.name
            ome_xml.check_pixels(image, exp, names=key not in NAMELESS)
            assert series.dtype == exp.dtype
            levels = series.levels
            assert len(levels) == len(exp.level_shapes), "SubIFD levels"
            for level, shape in zip(levels, exp.level_shapes):
                assert tuple(level.shape[-2:]) == shape[-2:]
                assert level.dtype == exp.dtype
            data = series.asarray()
            np.testing.assert_array_equal(data.reshape(exp.shape), exp.pixels)


@pytest.mark.parametrize("key", FILES)
def test_bioformats(key, converted, written, bioformats):
    out = converted(key, "tiff")
    want = written(key)
    info = image_info(*bioformats, out)
    assert info["series_count"] == len(want), "series"
    assert info["resolutions"] == [len(e.level_shapes) for e in want], "resolutions"
    images = ome_xml.images(info["ome_xml"])
    assert len(images) == len(want)
    for image, exp in zip(images, want):
        assert image.get("Name") == exp.scene.name
        ome_xml.check_pixels(image, exp, names=key not in NAMELESS)


@pytest.mark.parametrize("key", FILES)
def test_bioformats_pixels(key, converted, written, bioformats, tmp_path):
    """Bio-Formats decodes every plane (deflate tiles with the predictor) to the source's
    pixels: its bfconvert copy, uncompressed, read back by tifffile."""
    out = converted(key, "tiff")
    want = written(key)
    copy = tmp_path / "bioformats.ome.tif"
    convert(*bioformats, out, copy)
    with tifffile.TiffFile(copy) as tif:
        assert len(tif.series) == len(want)
        for series, exp in zip(tif.series, want):
            np.testing.assert_array_equal(series.asarray().reshape(exp.shape), exp.pixels)


@pytest.mark.parametrize("key", [case(key) for key in sorted(NAMELESS)])
@pytest.mark.parametrize("variant", ["tiff", "all"])
def test_no_invented_channel_names(key, variant, converted):
    """A file that records no channel names exports none in its OME-XML: no 'Channel 0'
    made up (the omero labels may carry that display default)."""
    from .conftest import ngff_images, zarr_attrs
    from .expect import INVENTED_NAME

    out = converted(key, variant)
    if variant == "tiff":
        with tifffile.TiffFile(out) as tif:
            names = [n for image in ome_xml.images(tif.ome_metadata)
                     for n in ome_xml.channel_names(image)]
    else:
        names = [n for image in ome_xml.images((out / "OME" / "METADATA.ome.xml").read_text())
                 for n in ome_xml.channel_names(image)]
        # the omero labels are what a viewer shows: "Channel 0" is their display default
        for group in ngff_images(out)[1]:
            assert all(c.get("label") for c in zarr_attrs(group)["omero"]["channels"])
    invented = [n for n in names if n and INVENTED_NAME.match(n)]
    assert not invented, f"invented channel names {invented}"


@pytest.mark.parametrize("key", ["lif/testdata_2channel_xz.lif"])
def test_time_increment_read_back(key, converted, written, opened):
    """The T step written as TimeIncrement comes back when the plugin opens the OME-TIFF."""

    out = converted(key, "tiff")
    back = opened(out)
    try:
        for scene, exp in zip(back.scenes, written(key)):
            value, unit = exp.time_increment
            assert scene.physical_pixel_sizes.get("T") == (
                None if value is None else pytest.approx(value)), scene.name
            if value is not None:
                assert scene.units.get("T") == unit
    finally:
        back.close()
