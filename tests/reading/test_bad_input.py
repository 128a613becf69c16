"""Bad input raises LightmicReadError naming the file and the cause, never anything else."""

import numpy as np
import pytest
from PIL import Image

from napari_lightmic import LightmicReadError, open_image
from tests.conftest import real_file


def expect_error(path, *words):
    with pytest.raises(LightmicReadError) as info:
        open_image(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert "\n" not in message
    return info.value


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nothing.czi", "no such file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.nd2"
    path.write_bytes(b"")
    expect_error(path, "empty")


def test_misnamed_file_says_what_it_really_is(tmp_path):
    path = tmp_path / "really-a-png.czi"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path, format="PNG")
    expect_error(path, "named as CZI", "PNG")


def test_non_image_file(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("not an image at all")
    expect_error(path, "not a TIFF")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n")
    expect_error(path, "unsupported")


def test_folder_that_is_not_zarr(tmp_path):
    folder = tmp_path / "plain.zarr"
    folder.mkdir()
    expect_error(folder, "not a Zarr")


def test_unknown_scene_names_the_choices(opened):
    source = opened(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"))
    with pytest.raises(LightmicReadError, match="TR1"):
        source.scene("nope")
    with pytest.raises(LightmicReadError, match="3 scene"):
        source.scene(7)
    assert source.scene("TR2").index == 2 and source.scene("1").name == "P1"


@pytest.mark.parametrize("relpath", [
    "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    "lif/testdata_2channel_xz.lif",
    "lsm/test.lsm",
    "nd2/example-zstack.nd2",
])
def test_truncated_vendor_files_are_refused_at_open(tmp_path, relpath):
    content = real_file(relpath).read_bytes()
    path = tmp_path / real_file(relpath).name
    path.write_bytes(content[: len(content) * 9 // 10])
    expect_error(path, "truncated" if not relpath.endswith(".nd2") else "ND2")


@pytest.mark.parametrize("kind", ["ome", "imagej", "plain"])
def test_truncated_stacks_are_refused_not_shown_as_one_plane(tmp_path, kind):
    import tifffile

    path = tmp_path / ("stack.ome.tif" if kind == "ome" else "stack.tif")
    options = {"ome": {"ome": True}, "imagej": {"imagej": True}, "plain": {}}[kind]
    tifffile.imwrite(path, np.ones((20, 64, 64), np.uint16), metadata={"axes": "ZYX"},
                     **options)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    expect_error(path, "truncated")


def test_xml_with_entities_is_refused(tmp_path):
    import tifffile

    xml = ('<?xml version="1.0"?><!DOCTYPE OME [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
           '<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="4" SizeY="4" '
           'SizeZ="1" SizeC="1" SizeT="1"><Channel ID="Channel:0:0" Name="&x;"/>'
           '<TiffData/></Pixels></Image></OME>')
    path = tmp_path / "hostile.ome.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), description=xml, metadata=None)
    expect_error(path, "DTD")


def test_vendor_files_are_not_modified(tmp_path, opened):
    """Writable copies (the shared originals are read-only) keep their bytes and times."""
    import hashlib
    import os
    import shutil

    for relpath in ("czi/DAPI_GFP.czi", "lif/testdata_2channel_xz.lif", "nd2/example-zstack.nd2",
                    "lsm/test.lsm", "ims/Minimal_IMS_File.ims"):
        path = tmp_path / real_file(relpath).name
        shutil.copyfile(real_file(relpath), path)
        os.chmod(path, 0o644)
        before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        source = opened(path)
        scene = source.scenes[0]
        np.asarray(scene.data[(0,) * (scene.data.ndim - 2)])
        source.close()
        after = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        assert after == before, relpath
