import h5py
import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from tests.conftest import real_file


def test_bigdataviewer_uint16_restored_with_pyramid(opened):
    xml = real_file("hdf5/bdv/demoSlice.xml")
    scene = opened(xml).scenes[0]
    assert scene.dtype == "uint16" and scene.shape == (1, 1, 1, 397, 580)
    assert [level.shape[-2:] for level in scene.levels] == [(397, 580), (99, 145)]
    assert scene.units == {"X": "pixel", "Y": "pixel", "Z": "pixel"}
    with h5py.File(real_file("hdf5/bdv/demoSlice.h5"), "r") as f:
        stored = f["t00000/s00/0/cells"][0]
    np.testing.assert_array_equal(np.asarray(scene.data[0, 0, 0]), stored.view(np.uint16))


def test_bigdataviewer_h5_opened_directly_uses_its_xml(opened):
    source = opened(real_file("hdf5/bdv/demoSlice.h5"))
    assert source.format.name == "BigDataViewer"
    assert source.scenes[0].physical_pixel_sizes["X"] == pytest.approx(0.015)


def test_imaris_extents_give_pixel_sizes(opened):
    source = opened(real_file("ims/Minimal_IMS_File.ims"))
    scene = source.scenes[0]
    assert scene.sizes == {"T": 1, "C": 1, "Z": 1, "Y": 128, "X": 128}
    assert scene.dtype == "uint16"
    # Extents 3..10 µm over 128 pixels.
    assert scene.physical_pixel_sizes["X"] == pytest.approx(7 / 128)
    assert scene.units["X"] == "µm"
    assert np.asarray(scene.data[0, 0, 0]).any()


def write_imaris(path, levels=2):
    """A two-channel, two-time-point Imaris file with a pyramid, names and colours."""
    def text(value):
        return np.array([bytes([b]) for b in str(value).encode()], dtype="S1")

    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["ImarisDataSet"] = text("ImarisDataSet")
        for level in range(levels):
            size = 64 >> level
            for t in range(2):
                for c in range(2):
                    g = f.create_group(f"DataSet/ResolutionLevel {level}/TimePoint {t}/Channel {c}")
                    data = np.zeros((4, size + 3, size + 5), np.uint16)  # padded, as Imaris does
                    data[:, :size, :size] = rng.integers(1, 100, (4, size, size))
                    g.create_dataset("Data", data=data, chunks=(4, 16, 16))
                    for axis, n in zip("ZYX", (4, size, size)):
                        g.attrs[f"ImageSize{axis}"] = text(n)
        image = f.create_group("DataSetInfo/Image")
        for i, (lo, hi) in enumerate([(0, 32), (0, 16), (0, 8)]):
            image.attrs[f"ExtMin{i}"], image.attrs[f"ExtMax{i}"] = text(lo), text(hi)
        image.attrs["Unit"] = text("um")
        for c, (name, color) in enumerate([("DAPI", "0 0 1"), ("GFP", "0 1 0")]):
            ch = f.create_group(f"DataSetInfo/Channel {c}")
            ch.attrs["Name"], ch.attrs["Color"] = text(name), text(color)
            ch.attrs["ColorRange"] = text("0 80")


def test_imaris_channels_time_levels_and_padding(tmp_path, opened):
    path = tmp_path / "cells.ims"
    write_imaris(path)
    scene = opened(path).scenes[0]
    assert scene.shape == (2, 2, 4, 64, 64)  # padding cropped to ImageSize
    assert [level.shape for level in scene.pyramid] == [(2, 2, 4, 32, 32)]
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.channel_colors == ["#0000FF", "#00FF00"]
    assert scene.channels[0].contrast_limits == (0.0, 80.0)
    assert scene.physical_pixel_sizes == pytest.approx({"X": 0.5, "Y": 0.25, "Z": 2.0})


def test_imaris_channels_of_different_sizes_are_refused_naming_the_dataset(tmp_path):
    # the channels of a time point are one array: a channel whose ImageSize differs cannot
    # be one of them (read whole, its pixels would not fit; cut, they would be lost)
    from napari_lightmic.reading import LightmicReadError, open_image

    path = tmp_path / "uneven.ims"
    write_imaris(path, levels=1)
    with h5py.File(path, "r+") as f:
        g = f["DataSet/ResolutionLevel 0/TimePoint 1/Channel 1"]
        g.attrs["ImageSizeY"] = np.array([b"6", b"0"], dtype="S1")
    with pytest.raises(LightmicReadError) as err:
        open_image(path)
    assert str(path) in str(err.value)
    assert "TimePoint 1/Channel 1/Data" in str(err.value) and "does not match" in str(err.value)


def test_plain_hdf5_lists_image_datasets_with_element_size(tmp_path, opened):
    path = tmp_path / "volumes.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("raw", data=np.ones((5, 40, 30), np.uint8))
        f["raw"].attrs["element_size_um"] = [2.0, 0.5, 0.5]
        f.create_dataset("segmentation/labels", data=np.zeros((40, 30), np.uint32))
        f.create_dataset("table", data=np.zeros((3, 2)))
    source = opened(path)
    assert [s.name for s in source.scenes] == ["/raw", "/segmentation/labels"]
    raw = source.scenes[0]
    assert raw.sizes["Z"] == 5
    assert raw.physical_pixel_sizes == {"Z": 2.0, "Y": 0.5, "X": 0.5}


def test_external_links_are_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("secret", data=np.ones((16, 16)))
    path = tmp_path / "linking.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=np.zeros((16, 16)))
        f["borrowed"] = h5py.ExternalLink(str(other), "secret")
    with pytest.raises(LightmicReadError, match="other files"):
        open_image(path)


def test_virtual_datasets_reading_other_files_are_refused(tmp_path):
    other = tmp_path / "source.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("data", data=np.ones((16, 16)))
    layout = h5py.VirtualLayout(shape=(16, 16), dtype="f8")
    layout[:] = h5py.VirtualSource(str(other), "data", shape=(16, 16))
    path = tmp_path / "virtual.h5"
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("view", layout)
    with pytest.raises(LightmicReadError, match="virtual dataset"):
        open_image(path)


def test_bigdataviewer_channel_named_by_its_setup_not_its_number(opened):
    # <Channel><id>1</id><name>1</name>: a number; the setup is 'demoSlice.tif channel 1'
    scene = opened(real_file("hdf5/bdv/demoSlice.xml")).scenes[0]
    assert scene.channel_names == ["demoSlice.tif channel 1"]
