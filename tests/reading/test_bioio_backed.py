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


@pytest.mark.parametrize("name", ["example-cerevisiae", "example-multichannel",
                                  "example-timelapse", "example-zstack"])
def test_nd2_instrument_is_the_stand_nis_elements_records(name, opened):
    # 'Microscope: Ti2 Microscope' (and 'Nikon Ti2, FilterChanger…') in the description
    source = opened(real_file(f"nd2/{name}.nd2"))
    microscope = source.ome.instruments[0].microscope
    assert (microscope.manufacturer, microscope.model) == ("Nikon", "Ti2 Microscope")
    assert source.acquisition.instrument.microscope.model == "Ti2 Microscope"
    assert source.acquisition.instrument.objectives  # bioio-nd2's objective is kept


def test_nd2_instrument_is_no_longer_missing_from_the_rembi_record():
    from tests.test_cli import lightmic

    done = lightmic("metadata", "--show", real_file("nd2/example-cerevisiae.nd2"))
    assert done.returncode == 0, done.stderr
    assert "image_acquisition.instrument: Nikon Ti2 Microscope" in done.stdout
    missing = done.stdout.rsplit("missing", 1)[-1]
    assert "Instrument" not in missing


def test_nd2_display_ranges_are_the_lut_nis_elements_stored(opened):
    scene = opened(real_file("nd2/example-multichannel.nd2")).scenes[0]
    assert [c.contrast_limits for c in scene.channels] == [
        (8949, 16588), (1172, 7090), (276, 2432), (113, 567)]
    # A LUT never adjusted (no low, high at the full range) is no display range.
    scene = opened(real_file("nd2/example-zstack.nd2")).scenes[0]
    assert scene.channels[0].contrast_limits is None
