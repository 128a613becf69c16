import numpy as np
import tifffile

from tests.conftest import real_file


def test_xz_scan_planes_equal_imagej_reference(opened):
    source = opened(real_file("lif/testdata_2channel_xz.lif"))
    xzt = source.scene("xzt")
    assert xzt.dims == "TCZX"
    for ref_name, t, c in (("xz_c0_t0.tif", 0, 0), ("xz_c1_t8.tif", 8, 1)):
        reference = tifffile.imread(real_file(f"lif/reference_planes/{ref_name}"))
        plane = np.asarray(xzt.data[t, c])
        assert plane.shape == reference.shape
        np.testing.assert_array_equal(plane, reference)


def test_sweep_channels_are_named_after_their_detector(opened):
    source = opened(real_file("lif/LeicaLASX_wavelength-sweep_example.lif"))
    assert [s.channel_names for s in source.scenes] == [["HyD 1"]] * 3


def test_channel_names_come_from_the_dye_not_the_lut(opened):
    source = opened(real_file("lif/testdata_2channel_xz.lif"))
    for scene in source.scenes:
        assert scene.channel_names == ["Leica/FITC", "Leica/TRITC"]
        assert scene.channel_colors == ["#00FF00", "#FF0000"]


def test_lambda_sweeps_keep_their_wavelength_axis(opened):
    source = opened(real_file("lif/LeicaLASX_wavelength-sweep_example.lif"))
    emission, excitation, stack = source.scenes
    assert emission.dims == "λTCYX" and emission.sizes["λ"] == 20
    assert excitation.dims == "ΛTCYX" and excitation.sizes["Λ"] == 15
    assert stack.sizes == {"λ": 10, "T": 2, "C": 1, "Z": 11, "Y": 64, "X": 64}
    assert emission.units["λ"] == "nm"
    assert emission.physical_pixel_sizes["λ"] > 0
    # Every plane of the sweep is readable and they differ.
    planes = np.asarray(emission.data[:, 0, 0])
    assert planes.shape == (20, 64, 64)
    assert len({p.tobytes() for p in planes}) > 1


def test_tile_scan_offsets_come_from_stage_positions():
    """A LAS X 2x2 tile scan: 512 px tiles whose stage positions overlap by 30 px."""
    from types import SimpleNamespace

    from liffile.liffile import LifTileScanInfo

    from napari_lightmic.reading.lif import _tile_offsets

    pixel = 0.2e-6
    step = (512 - 30) * pixel
    tiles = np.zeros(4, dtype=[("field_y", "i4"), ("field_x", "i4"), ("pos_z", "f8"),
                               ("pos_y", "f8"), ("pos_x", "f8")])
    for i, (fy, fx) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        tiles[i] = (fy, fx, 0.0, 0.01 + fy * step, 0.02 + fx * step)
    image = SimpleNamespace(
        sizes={"M": 4, "Y": 512, "X": 512},
        coords={"Y": np.arange(512) * pixel, "X": np.arange(512) * pixel},
        tilescan=LifTileScanInfo(False, False, False, tiles),
    )
    offsets = _tile_offsets(image, "MYX")
    assert offsets.placed_by_stage
    assert offsets == [(50000, 100000), (50000, 100482), (50482, 100000), (50482, 100482)]
    # Without recorded positions the grid index places them edge to edge.
    tiles["pos_y"] = tiles["pos_x"] = 0
    offsets = _tile_offsets(image, "MYX")
    assert not offsets.placed_by_stage and offsets[3] == (512, 512)


def test_pixels_stay_in_the_file_until_a_plane_is_read(opened):
    """The lazy array keeps reading the memory-mapped file; it holds no copy of the image."""
    scene = opened(real_file("lif/testdata_2channel_xz.lif")).scene("xz")
    from napari_lightmic.reading.lif import MappedArray

    graph = dict(scene.data.__dask_graph__())
    # each chunk read through the guard that names a failed read (scene/axes.GuardedChunks)
    held = [getattr(v, "array", None) for v in graph.values()]
    holders = [v for v in held if isinstance(v, MappedArray)]
    assert holders and all(isinstance(h.mapped, np.memmap) for h in holders)
    copies = [v for v in graph.values()
              if isinstance(v, np.ndarray) and getattr(v, "filename", None) is None and v.size > 1]
    assert not copies
