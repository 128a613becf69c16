import numpy as np
import pytest
from PIL import Image

from napari_lightmic import open_image
from tests.conftest import real_file
from tests.reading.zarr_fixtures import write_ome_zarr


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_scale_units_channels_and_windows(tmp_path, version):
    path = tmp_path / f"image-v{version}.ome.zarr"
    data = write_ome_zarr(path, version)
    source = open_image(path)
    assert source.format.name == "OME-Zarr"
    scene = source.scenes[0]
    assert scene.dims == "TCZYX" and scene.shape == (1, 2, 3, 64, 64)
    assert scene.physical_pixel_sizes == pytest.approx({"Z": 2.0, "Y": 0.25, "X": 0.25})
    assert scene.units == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.channel_colors == ["#0000FF", "#00FF00"]
    assert [c.contrast_limits for c in scene.channels] == [(10.0, 900.0), (20.0, 800.0)]
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[1, 2])


def test_png_rgb_is_one_rgb_scene(tmp_path):
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[5:10, :, 1] = 100
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    scene = open_image(path).scenes[0]
    assert scene.rgb and scene.dims.endswith("YXS")
    assert scene.sizes["Y"] == 20 and scene.sizes["X"] == 30
    plane = np.asarray(scene.data).reshape(20, 30, 3)
    np.testing.assert_array_equal(plane, rgb)


def test_jpeg_is_flagged_lossy(tmp_path):
    path = tmp_path / "snap.jpg"
    Image.fromarray(np.full((16, 16), 128, np.uint8)).save(path, quality=90)
    source = open_image(path)
    assert source.format.lossy and "lossy" in source.format.advice
    assert source.scenes[0].size("X") == 16


def test_nd2_single_plane_has_no_invented_z_step():
    scene = open_image(real_file("nd2/example-multichannel.nd2")).scenes[0]
    assert scene.sizes["Z"] == 1
    assert scene.physical_pixel_sizes["Z"] is None and "Z" not in scene.units
    assert scene.channel_names == ["Mono", "DAPI", "FITC BP", "TRITC BP"]
    # Colours are the file's; the emission wavelengths come along.
    assert scene.channel_colors[1] == "#0033FF"
    assert scene.channels[2].emission_nm == pytest.approx(512)


def test_nd2_z_stack_keeps_its_step():
    scene = open_image(real_file("nd2/example-zstack.nd2")).scenes[0]
    assert scene.sizes["Z"] == 11
    assert scene.physical_pixel_sizes["Z"] == pytest.approx(6.0)


def test_ome_zarr_multiscales_become_a_pyramid(tmp_path):
    path = tmp_path / "pyramid.ome.zarr"
    write_ome_zarr(path, "0.5")
    scene = open_image(path).scenes[0]
    assert [level.shape[-2:] for level in scene.levels] == [(64, 64), (32, 32)]
