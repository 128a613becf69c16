"""XZ scans in the open formats: planes are Y by X there, so an XZ scan's Z is stored as Y
(and an XZ stack's Y steps as Z), as Bio-Formats reads the source. The arrays, the NGFF
axes and the OME-XML describe the same image, and it is Bio-Formats' image of the source."""

import json

import numpy as np
import pytest
import tifffile
import zarr
from ome_types import from_xml

from napari_lightmic.writing import WriteOptions, validate, write
from tests.conftest import TESTDATA, real_file

LIF = "lif/testdata_2channel_xz.lif"


@pytest.mark.parametrize("target", ["xz.ome.zarr", "xz04.ome.zarr", "xz.ome.tif"])
def test_xz_scans_are_written_as_bio_formats_reads_them(tmp_path, target, opened):
    truth = json.loads((TESTDATA / "truth.json").read_text())[LIF]["series"]
    source = opened(real_file(LIF))
    out = write(source, tmp_path / target, "all",
                WriteOptions(ngff_version="0.4" if "04" in target else "0.5"))
    assert validate(out) == []
    back = opened(out)
    if target.endswith(".zarr"):
        xml = (out / "OME" / "METADATA.ome.xml").read_text()
        root = zarr.open_group(str(out), mode="r")
    else:
        xml = tifffile.TiffFile(out).ome_metadata
    images = from_xml(xml).images
    for k, (want, scene, image) in enumerate(zip(truth, back.scenes, images)):
        sizes = {a: scene.sizes.get(a, 1) for a in "TCZYX"}
        assert sizes == want["sizes"], scene.name
        pixels = image.pixels
        assert {"T": pixels.size_t, "C": pixels.size_c, "Z": pixels.size_z,
                "Y": pixels.size_y, "X": pixels.size_x} == want["sizes"], scene.name
        for axis in "XYZ":
            expected = want["physical"][axis]
            assert scene.physical_pixel_sizes.get(axis) == (
                None if expected is None else pytest.approx(expected)), (scene.name, axis)
            assert getattr(pixels, f"physical_size_{axis.lower()}") == (
                None if expected is None else pytest.approx(expected)), (scene.name, axis)
        if target.endswith(".zarr"):
            group = root[str(k)]
            attrs = group.attrs.get("ome", group.attrs)
            axes = [a["name"] for a in attrs["multiscales"][0]["axes"]]
            assert axes[-2:] == ["y", "x"] and len(axes) == group["0"].ndim
        assert any("XZ scan" in note for note in scene.notes)
    # the pixels: plane k of the XZ stack is the source's plane at Y step k
    xzy = source.scene("xzy")  # T C Y Z X
    assert xzy.dims == "TCYZX"
    copy = back.scenes[1]
    np.testing.assert_array_equal(np.asarray(copy.data[0, 1, 7]), np.asarray(xzy.data[0, 1, 7]))
    xzt = source.scene("xzt")  # T C Z X
    np.testing.assert_array_equal(np.asarray(back.scenes[0].data[5, 0, 0]),
                                  np.asarray(xzt.data[5, 0]))


def test_notes_survive_a_copy_of_a_copy(tmp_path, opened):
    source = opened(real_file(LIF))
    first = opened(write(source, tmp_path / "a.ome.zarr", "xzy"))
    second = opened(write(first, tmp_path / "b.ome.tif"))
    third = opened(write(second, tmp_path / "c.ome.zarr"))
    for copy in (first, second, third):
        assert sum("XZ scan" in n for n in copy.scenes[0].notes) == 1, copy.scenes[0].notes
