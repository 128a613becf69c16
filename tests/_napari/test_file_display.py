"""What the file says, as napari shows it: axis units and labels, layer names, colours and
contrast, through `viewer.open` as a user opens a file (issue 11, items 4, 5, 7)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import real_file

PLUGIN = "napari-lightmic"
NO_TIME_STEP = "The file records no time step"


def units(layer) -> list[str]:
    return [str(u) for u in layer.units]


def notes(layer) -> tuple[str, ...]:
    ref = layer.metadata["lightmic"]
    return ref.session.effective_scene(ref.scene).notes


# -- item 4: axes and units a microscopist recognises -----------------------------------------

def test_time_without_a_recorded_step_is_not_in_pixels(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"), plugin=PLUGIN)
    assert len(layers) == 2
    for layer in layers:
        assert layer.axis_labels == ("T", "Z", "Y", "X")
        # T counts time points: a step of one, no unit; lengths stay in µm
        assert units(layer) == ["dimensionless", "micrometer", "micrometer", "micrometer"]
        assert layer.scale[0] == 1
        assert any(NO_TIME_STEP in note for note in notes(layer))
    assert str(viewer.layers.units[-1]) == "micrometer"  # the scale bar's unit


def test_micromanager_time_without_step_is_not_in_pixels(make_napari_viewer,
                                                         micromanager_dataset):
    viewer = make_napari_viewer()
    path = micromanager_dataset / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
    layers = viewer.open(path, plugin=PLUGIN)
    first = layers[0]
    assert first.axis_labels[0] == "T"
    assert units(first)[0] == "dimensionless"
    assert "pixel" not in units(first)
    assert any(NO_TIME_STEP in note for note in notes(first))


def test_a_recorded_time_step_is_kept(make_napari_viewer):
    viewer = make_napari_viewer()
    layer = viewer.open(real_file("nd2/example-timelapse.nd2"), plugin=PLUGIN)[0]
    assert layer.axis_labels[0] == "T" and units(layer)[0] == "second"
    assert layer.scale[0] == pytest.approx(0.50016, rel=1e-4)
    assert not any(NO_TIME_STEP in note for note in notes(layer))


def test_airyscan_raw_axis_is_named_and_the_data_called_unprocessed(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("czi/LSM880_AiryScan.czi"), plugin=PLUGIN)
    assert len(layers) == 8
    for layer in layers:
        assert layer.axis_labels == ("Airyscan detector element", "Y", "X")
        assert layer.data.shape[0] == 32
        assert units(layer)[0] == "dimensionless"
        assert any("Unprocessed Airyscan raw data" in note for note in notes(layer))


def test_bigdataviewer_layer_is_named_after_its_setup(make_napari_viewer):
    viewer = make_napari_viewer()
    layer = viewer.open(real_file("hdf5/bdv/demoSlice.xml"), plugin=PLUGIN)[0]
    # the channel attribute is named '1' (its id): the setup's name says more
    assert layer.name == "demoSlice.tif channel 1"
    # the XML's voxel unit is 'pixel': the file gives no physical unit
    assert units(layer)[-2:] == ["pixel", "pixel"]


def test_bigdataviewer_voxel_unit_is_shown_in_micrometres(make_napari_viewer, tmp_path):
    folder = real_file("hdf5/bdv/demoSlice.xml").parent
    shutil.copy(folder / "demoSlice.h5", tmp_path / "demoSlice.h5")
    xml = (folder / "demoSlice.xml").read_text().replace("<unit>pixel</unit>",
                                                         "<unit>micron</unit>")
    (tmp_path / "demoSlice.xml").write_text(xml)
    viewer = make_napari_viewer()
    layer = viewer.open(tmp_path / "demoSlice.xml", plugin=PLUGIN)[0]
    assert units(layer)[-2:] == ["micrometer", "micrometer"]
    np.testing.assert_allclose(layer.scale[-2:], [0.015, 0.015], rtol=1e-6)


# -- items 5 and 7: contrast and colour from the file -----------------------------------------

def colormap_rgb(layer) -> tuple[int, ...]:
    return tuple(int(v) for v in np.round(np.asarray(layer.colormap.colors[-1][:3]) * 255))


def test_zen_display_setting_is_the_contrast(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"), plugin=PLUGIN)
    # DisplaySetting High 0.05983 and 0.24976 of Gray16's range, Low absent (0)
    assert tuple(layers[0].contrast_limits) == pytest.approx((0, 3921))
    assert tuple(layers[1].contrast_limits) == pytest.approx((0, 16368))
    # and its Gamma (libCZI's curve is x ** gamma, as napari's)
    assert [layer.gamma for layer in layers] == pytest.approx([0.8, 0.8])
    # Layers > Visualize > Reset contrast… gives both back after the user changed them
    from napari._app_model import get_app_model

    layers[0].contrast_limits, layers[0].gamma = (100, 200), 1.5
    viewer.layers.selection = {layers[0]}
    get_app_model().commands.execute_command("napari-lightmic.reset_display_range").result()
    assert tuple(layers[0].contrast_limits) == pytest.approx((0, 3921))
    assert layers[0].gamma == pytest.approx(0.8)


def test_zen_black_channel_in_the_dye_colour_and_its_display_range(make_napari_viewer):
    viewer = make_napari_viewer()
    layer = viewer.open(real_file("czi/xyz__multiple_images.czi"), plugin=PLUGIN)[0]
    assert layer.name.startswith("ChA")
    # ZEN black leaves the channel white; it records the emission (578.6 nm, yellow)
    assert colormap_rgb(layer) == (0xFA, 0xFF, 0x00)
    # Low 0.15259 and High 0.34108 of 0..65535
    assert tuple(layer.contrast_limits) == pytest.approx((10000, 22353))


def test_nis_elements_lut_is_the_contrast(make_napari_viewer):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file("nd2/example-multichannel.nd2"), plugin=PLUGIN)
    assert [tuple(layer.contrast_limits) for layer in layers] == [
        (8949, 16588), (1172, 7090), (276, 2432), (113, 567)]


def shown_plane(viewer, layer) -> np.ndarray:
    """The plane napari shows of a 3D layer: at the viewer's current step."""
    return np.asarray(layer.data[viewer.dims.current_step[0]])


def test_lambda_sweep_is_not_dark_at_the_step_napari_opens_at(make_napari_viewer):
    viewer = make_napari_viewer()
    path = real_file("lif/LeicaLASX_wavelength-sweep_example.lif")
    layer = viewer.open(path, plugin=PLUGIN)[0]  # x_y_lambdaEmi, 20 emission steps
    assert layer.axis_labels[0] == "λ"
    assert viewer.dims.current_step[0] == 9  # napari opens at the middle step
    # the first step peaks at 81, the middle one at 15: a range from the first step alone
    # (0..73) shows the middle one almost black
    low, high = layer.contrast_limits
    assert low == 0
    assert np.percentile(shown_plane(viewer, layer), 99.9) >= 0.8 * high


def test_lambda_excitation_sweep_is_not_saturated_at_the_step_napari_opens_at(
        make_napari_viewer):
    from napari_lightmic._napari.view import view

    viewer = make_napari_viewer()
    path = real_file("lif/LeicaLASX_wavelength-sweep_example.lif")
    layer = view(path, scene="x_y_lambdaExc", viewer=viewer)[0]
    assert layer.axis_labels[0] == "Λ"
    # the first excitation step peaks at 22, the middle one at 67: a range from the first
    # step alone saturates most of the middle one
    plane = shown_plane(viewer, layer)
    assert np.mean(plane >= layer.contrast_limits[1]) < 0.01


def test_reset_to_the_file_display_range_from_the_layers_menu(make_napari_viewer):
    from napari._app_model import get_app_model

    from tests._napari.test_menus import click

    viewer = make_napari_viewer()
    layers = viewer.open(real_file("nd2/example-multichannel.nd2"), plugin=PLUGIN)
    for layer in layers[:2]:
        layer.contrast_limits = (0, 60000)
    layers[3].contrast_limits = (0, 100)
    viewer.layers.selection = {layers[0], layers[1]}
    click(viewer.window.layers_menu, "napari-lightmic.reset_display_range",
          "napari/layers/visualize")
    assert tuple(layers[0].contrast_limits) == (8949, 16588)
    assert tuple(layers[1].contrast_limits) == (1172, 7090)
    assert tuple(layers[3].contrast_limits) == (0, 100)  # not selected: left as it is
    viewer.layers.selection = {layers[3]}
    get_app_model().commands.execute_command("napari-lightmic.reset_display_range").result()
    assert tuple(layers[3].contrast_limits) == (113, 567)


def test_reset_gives_an_estimated_layer_its_estimate_back(make_napari_viewer):
    from napari._app_model import get_app_model

    viewer = make_napari_viewer()
    layer = viewer.open(real_file("lsm/test.lsm"), plugin=PLUGIN)[0]  # records no range
    opened_with = tuple(layer.contrast_limits)
    layer.contrast_limits = (1, 2)
    viewer.layers.selection = {layer}
    get_app_model().commands.execute_command("napari-lightmic.reset_display_range").result()
    assert tuple(layer.contrast_limits) == pytest.approx(opened_with)
