import numpy as np
import pytest
from PIL import Image

from tests.conftest import real_file


def test_png_rgb_is_one_rgb_scene(tmp_path, opened):
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[5:10, :, 1] = 100
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    scene = opened(path).scenes[0]
    assert scene.rgb and scene.dims.endswith("YXS")
    assert scene.sizes["Y"] == 20 and scene.sizes["X"] == 30
    plane = np.asarray(scene.data).reshape(20, 30, 3)
    np.testing.assert_array_equal(plane, rgb)


def test_jpeg_is_flagged_lossy(tmp_path, opened):
    path = tmp_path / "snap.jpg"
    Image.fromarray(np.full((16, 16), 128, np.uint8)).save(path, quality=90)
    source = opened(path)
    assert source.format.lossy and "lossy" in source.format.advice
    assert source.scenes[0].size("X") == 16


def test_nd2_single_plane_has_no_invented_z_step(opened):
    scene = opened(real_file("nd2/example-multichannel.nd2")).scenes[0]
    assert scene.sizes["Z"] == 1
    assert scene.physical_pixel_sizes["Z"] is None and "Z" not in scene.units
    assert scene.channel_names == ["Mono", "DAPI", "FITC BP", "TRITC BP"]
    # Colours are the file's; the emission wavelengths come along.
    assert scene.channel_colors[1] == "#0033FF"
    assert scene.channels[2].emission_nm == pytest.approx(512)


def test_nd2_z_stack_keeps_its_step(opened):
    scene = opened(real_file("nd2/example-zstack.nd2")).scenes[0]
    assert scene.sizes["Z"] == 11
    assert scene.physical_pixel_sizes["Z"] == pytest.approx(6.0)



def test_nd2_planes_read_from_many_threads(tmp_path, opened):
    from concurrent.futures import ThreadPoolExecutor

    scene = opened(real_file("nd2/example-zstack.nd2")).scenes[0]
    expected = np.asarray(scene.data)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda z: np.asarray(scene.data[0, 0, z].compute(
            scheduler="synchronous")), list(range(11)) * 4))
    for i, plane in enumerate(got):
        np.testing.assert_array_equal(plane, expected[0, 0, i % 11])
