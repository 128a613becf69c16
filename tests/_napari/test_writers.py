"""Saving from napari: File > Save as OME-Zarr… and the npe2 writers."""

import numpy as np
import pytest

from napari_lightmic._napari.save import save_as_ome_zarr
from tests.conftest import real_file

PLUGIN = "napari-lightmic"
CZI = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"


def wait(qtbot, worker):
    done = []
    worker.finished.connect(lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)


def test_save_as_writes_every_channel_with_the_layers_edits(make_napari_viewer, qtbot,
                                                            tmp_path, notifications, opened):
    viewer = make_napari_viewer()
    layers = viewer.open(real_file(CZI), plugin=PLUGIN)
    layers[0].name = "Chromosomes"
    layers[1].colormap = "magenta"
    viewer.layers.selection.active = layers[1]
    target = tmp_path / "cell.ome.zarr"
    wait(qtbot, save_as_ome_zarr(viewer, str(target)))
    scene = opened(target).scenes[0]
    assert scene.channel_names == ["Chromosomes", "LED470"]
    assert scene.channel_colors == ["#FF7E00", "#FF00FF"]
    original = opened(real_file(CZI)).scenes[0]
    np.testing.assert_array_equal(np.asarray(scene.data), np.asarray(original.data))
    assert any("Saved" in str(n.message) for n in notifications)


def test_replacing_needs_confirmation(make_napari_viewer, qtbot, tmp_path, opened):
    viewer = make_napari_viewer()
    viewer.open(real_file(CZI), plugin=PLUGIN)
    target = tmp_path / "exists.ome.zarr"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    assert save_as_ome_zarr(viewer, str(target), confirm=lambda path: False) is None
    assert (target / "mine.txt").exists()
    wait(qtbot, save_as_ome_zarr(viewer, str(target), confirm=lambda path: True))
    assert not (target / "mine.txt").exists()
    assert opened(target).scenes[0].channel_names == ["LED555", "LED470"]


def test_save_as_is_in_the_file_menu(make_napari_viewer):
    from napari._app_model import get_app_model

    make_napari_viewer()
    menu = get_app_model().menus.get_menu("napari/file/io_utilities")
    assert "napari-lightmic.save_as_ome_zarr" in [getattr(i, "command", None) and i.command.id
                                                  for i in menu]


def test_writer_recombines_channels_and_keeps_labels(make_napari_viewer, tmp_path, opened):
    viewer = make_napari_viewer()
    viewer.open(real_file(CZI), plugin=PLUGIN)
    labels = np.zeros((3, 5, 170, 240), np.uint16)
    labels[:, :, 50:100, 60:120] = 7
    viewer.add_labels(labels, name="cells", scale=viewer.layers[0].scale)
    target = tmp_path / "with-labels.ome.zarr"
    viewer.layers.save(str(target), plugin=PLUGIN)
    source = opened(target)
    scene = source.scenes[0]
    assert scene.channel_names == ["LED555", "LED470"] and scene.sizes["C"] == 2
    assert list(scene.labels) == ["cells"]
    np.testing.assert_array_equal(np.asarray(scene.labels["cells"])[:, 0], labels)
    # the colour napari shows label 7 in is the label image's (NGFF image-label colors)
    shown = viewer.layers["cells"].colormap.map(np.array([7]))[0]
    assert scene.label_colors == {"cells": {7: tuple(int(round(x * 255)) for x in shown)}}
    # And back in napari, as a labels layer over the image, in the same colour.
    reopened = make_napari_viewer().open(target, plugin=PLUGIN)
    kinds = {layer.name: type(layer).__name__ for layer in reopened}
    assert kinds == {"LED555": "Image", "LED470": "Image", "cells": "Labels"}
    cells = next(layer for layer in reopened if layer.name == "cells")
    np.testing.assert_allclose(cells.colormap.map(np.array([7]))[0], shown, atol=1 / 255)


def test_ome_tiff_writer(make_napari_viewer, tmp_path, opened):
    viewer = make_napari_viewer()
    viewer.open(real_file(CZI), plugin=PLUGIN)
    target = tmp_path / "cell.ome.tif"
    viewer.layers.save(str(target), plugin=PLUGIN)
    scene = opened(target).scenes[0]
    assert scene.channel_names == ["LED555", "LED470"]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.0905767, rel=1e-5)


def test_layers_of_five_dimensions_without_axis_names_are_refused_with_a_reason():
    import numpy as np

    from napari_lightmic._napari.layer_source import source_from_layers
    from napari_lightmic.errors import LightmicReadError

    data = np.zeros((2, 2, 2, 8, 8), np.uint8)
    with pytest.raises(LightmicReadError, match="5 dimensions"):
        source_from_layers([(data, {"name": "x"}, "image")])
    source, _, _ = source_from_layers([(data[0], {"name": "x", "axis_labels": "TZYX"}, "image")])
    assert source.scenes[0].dims == "TCZYX" and source.scenes[0].shape == (2, 1, 2, 8, 8)


def test_writer_invents_no_channel_names_and_keeps_renamed_ones(make_napari_viewer, tmp_path):
    import tifffile
    from ome_types import from_xml

    viewer = make_napari_viewer()
    layers = viewer.open(real_file("tiff/CH3_Fluorescence_8bit.tif"), plugin=PLUGIN)
    layers[1].name = "GFP"
    target = tmp_path / "layers.ome.tif"
    viewer.layers.save(str(target), plugin=PLUGIN)
    names = [c.name for c in from_xml(tifffile.TiffFile(target).ome_metadata).images[0]
             .pixels.channels]
    assert names == [None, "GFP", None]
