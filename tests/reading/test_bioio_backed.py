import numpy as np
from PIL import Image


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
