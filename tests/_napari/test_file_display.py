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
