"""The ND2 reader (nd2, without bioio) on NIS-Elements' sample files."""

import numpy as np
import pytest

from tests.conftest import real_file


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
    assert source.acquisition.instrument.objectives  # the objective of nd2's OME is kept


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


ND2_FILES = ["example-cerevisiae", "example-multichannel", "example-timelapse",
             "example-zstack"]


@pytest.mark.parametrize("name", ND2_FILES)
def test_nd2_pixels_are_nd2s_own_reading(name, opened):
    # nd2's whole-file read (its own path to the pixels, not the frames this reader asks
    # for), in the scene's axis order
    import nd2

    path = real_file(f"nd2/{name}.nd2")
    scene = opened(path).scenes[0]
    with nd2.ND2File(path) as f:
        whole, dims = f.asarray(), "".join(f.sizes)
    order = [dims.index(a) for a in scene.dims if a in dims]
    expected = whole.transpose(order).reshape(scene.shape)
    np.testing.assert_array_equal(np.asarray(scene.data), expected)
    assert scene.dtype == str(expected.dtype)


def test_nd2_time_step_is_the_mean_frame_interval():
    # 53 frames: the interval of the frames' times, as the OME planes' DeltaT give it;
    # NIS-Elements' own figure for the loop (periodDiff.avg) agrees
    import nd2

    from napari_lightmic.reading import open_image

    path = real_file("nd2/example-timelapse.nd2")
    with open_image(path) as source:
        scene = source.scenes[0]
        assert scene.sizes["T"] == 53 and scene.units["T"] == "ms"
        assert "mean interval" in scene.notes[0]
        with nd2.ND2File(path) as f:
            assert scene.physical_pixel_sizes["T"] == pytest.approx(
                f.experiment[0].parameters.periodDiff.avg, rel=1e-6)
        # the OME nd2 makes says the same, when asked
        planes = source.ome.images[0].pixels.planes
        assert (planes[-1].delta_t - planes[0].delta_t) / 52 == pytest.approx(
            scene.physical_pixel_sizes["T"])


def test_nd2_pixels_pickle_as_the_path_and_read_in_another_process(tmp_path):
    import pickle
    import subprocess
    import sys

    from napari_lightmic.reading import open_image

    with open_image(real_file("nd2/example-zstack.nd2")) as source:
        pixels = source.scenes[0].pixels
        expected = np.asarray(source.scenes[0].data[0, 0, 7])
        blob = tmp_path / "pixels.pickle"
        blob.write_bytes(pickle.dumps(pixels))
    script = ("import pickle, sys, numpy as np\n"
              "from napari_lightmic.scene.chunked import read\n"
              "p = pickle.loads(open(sys.argv[1], 'rb').read())\n"
              "np.save(sys.argv[2], read(p, (0, 0, 7)))\n")
    done = subprocess.run([sys.executable, "-c", script, str(blob), str(tmp_path / "p.npy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


def test_nd2_file_is_closed_with_the_source():
    import gc
    import os

    import psutil

    from napari_lightmic.reading import open_image

    path = str(real_file("nd2/example-zstack.nd2"))
    real = os.path.realpath(path)  # as the system lists it (the data may be behind a link)

    def open_now():
        return sum(os.path.realpath(f.path) == real for f in psutil.Process().open_files())

    gc.collect()
    before = open_now()
    source = open_image(path)
    np.asarray(source.scenes[0].data[0, 0, 3])
    assert open_now() > before
    source.close()
    gc.collect()
    assert open_now() == before


class FakeNd2:
    """What the reader asks of an nd2.ND2File, for layouts no shared file has: each frame's
    pixels are its sequence index, as nd2 numbers frames (loops in `sizes` order)."""

    def __init__(self, sizes, frame_shape=None):
        from types import SimpleNamespace

        self.sizes, self.dtype, self.is_rgb = sizes, np.dtype("uint16"), "S" in sizes
        self.loops = [a for a in sizes if a not in "CYXS"]
        self.frame_shape = frame_shape or tuple(n for a, n in sizes.items() if a in "CYXS")
        self.metadata = SimpleNamespace(channels=[])
        self.experiment = []
        self.lock = __import__("threading").RLock()
        self.opened = self

    def voxel_size(self):
        from types import SimpleNamespace

        return SimpleNamespace(x=0.5, y=0.5, z=2.0)

    @property
    def loop_indices(self):
        shape = [self.sizes[a] for a in self.loops]
        return [dict(zip(self.loops, np.unravel_index(i, shape)))
                for i in range(int(np.prod(shape)))]

    def frame_metadata(self, index):
        raise ValueError("no frame metadata")

    def read_frame(self, index):
        size = int(np.prod(self.frame_shape))
        return (np.arange(size, dtype=np.uint16) % 7 + 10 * index).reshape(self.frame_shape)


def test_nd2_positions_are_scenes_and_frames_are_found_by_their_loop_indices():
    from napari_lightmic.reading.nd2 import _scenes
    from napari_lightmic.scene.chunked import read

    f = FakeNd2({"T": 2, "P": 3, "Z": 2, "C": 2, "Y": 4, "X": 5})
    scenes = _scenes(f, f, "/data/plate.nd2", [])
    assert [s.name for s in scenes] == [f"plate (Series {p})" for p in range(3)]
    for p, scene in enumerate(scenes):
        assert scene.dims == "TCZYX" and scene.shape == (2, 2, 2, 4, 5)
        for t in range(2):
            for z in range(2):
                index = np.ravel_multi_index((t, p, z), (2, 3, 2))  # nd2's frame number
                plane = read(scene.pixels, (t, 1, z))
                assert plane[0, 0] // 10 == index and plane.shape == (4, 5)
    assert scenes[0].physical_pixel_sizes == {"Z": 2.0, "Y": 0.5, "X": 0.5}


def test_nd2_custom_loop_is_an_axis_of_its_own_named_so():
    from napari_lightmic.reading.nd2 import CUSTOM_LOOP_AXIS, _scenes
    from napari_lightmic.scene.chunked import read

    f = FakeNd2({"U": 3, "Z": 2, "Y": 4, "X": 5})
    (scene,) = _scenes(f, f, "/data/loop.nd2", [])
    assert scene.dims == "UTCZYX" and scene.shape == (3, 1, 1, 2, 4, 5)
    assert scene.axis_label("U") == CUSTOM_LOOP_AXIS
    assert read(scene.pixels, (2, 0, 0, 1))[0, 0] // 10 == 2 * 2 + 1


@pytest.mark.parametrize("frame_shape", [(4, 5, 4), (2, 4, 5, 2)])
def test_nd2_components_nd2_keeps_last_are_the_channels(frame_shape):
    # 4 components of 1 channel, 2 of 2: nd2's sizes say C=4, its frames hold them last
    from napari_lightmic.reading.nd2 import as_frame

    frame = np.arange(int(np.prod(frame_shape)), dtype=np.uint16).reshape(frame_shape)
    out = as_frame(frame, (4, 4, 5))
    k = frame_shape[-1]
    for c in range(4):
        expected = frame[..., c % k] if frame.ndim == 3 else frame[c // k, ..., c % k]
        np.testing.assert_array_equal(out[c], expected)
    with pytest.raises(ValueError, match="sizes give"):
        as_frame(frame, (3, 4, 5))
