"""The Metadata panel with real files in a real viewer: each section, edits reaching the layers,
EDAM search, completeness, privacy, the sidecar and the IDR export."""

import json

import pytest
import tifffile

from napari_lightmic.widgets.metadata import MetadataDock, MetadataPanel
from tests._napari.test_reader import _keep
from tests.conftest import real_file

PLUGIN = "napari-lightmic"
CZI = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"


def panel_for(viewer, path):
    viewer.open(path, plugin=PLUGIN)
    return MetadataPanel(viewer)


def test_nd2_objective_and_channel_wavelengths(make_napari_viewer):
    panel = panel_for(make_napari_viewer(), real_file("nd2/example-multichannel.nd2"))
    assert "Objective: Plan Apo λ 20x (20×, NA 0.75)" in panel.acquisition.value
    assert "Imaging mode: WideField" in panel.acquisition.value
    dapi = panel.channel_fields[1]
    assert (dapi["name"].value, dapi["excitation_nm"].value, dapi["emission_nm"].value) == \
        ("DAPI", "405", "450")
    assert panel.channel_fields[3]["emission_nm"].value == "595"
    assert panel.edam_choice.native.currentText() == "Widefield fluorescence microscopy"


def test_czi_file_and_instrument_sections(make_napari_viewer):
    panel = panel_for(make_napari_viewer(), real_file(CZI))
    assert "CZI (Carl Zeiss)" in panel.file_info.value
    assert "proprietary format, lossless" in panel.file_info.value
    assert "keep an OME-TIFF or OME-Zarr copy" in panel.advice.value
    assert panel.advice.native.isVisibleTo(panel.native)
    acq = panel.acquisition.value
    assert "Instrument: Carl Zeiss Castor.Stand" in acq and "Detector: Axiocam 506" in acq
    assert "Plan-Apochromat 50x/1.2 (50×, NA 1.2, Water)" in acq
    assert "Acquired: 2016-02-12 09:41:02" in acq
    assert panel.rembi_fields["rembi.image_acquisition.instrument"].value == \
        "Carl Zeiss Castor.Stand"  # REMBI prefilled from the file


def test_open_format_gives_no_advice(make_napari_viewer):
    panel = panel_for(make_napari_viewer(),
                      real_file("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff"))
    assert "open format" in panel.file_info.value
    assert not panel.advice.native.isVisibleTo(panel.native)


def test_lif_channel_names(make_napari_viewer):
    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file("lif/testdata_2channel_xz.lif"))
    assert [f["name"].value for f in panel.channel_fields] == ["Leica/FITC", "Leica/TRITC"]
    assert "HC PL APO CS2 63x/1.30 GLYC" in panel.acquisition.value


def test_image_edit_updates_scale_and_units_of_every_channel(make_napari_viewer):
    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file(CZI))
    x_row = [row for row in panel.image_section if row.label == "X size"][0]
    x_row[0].value = "0.2"
    x_row[1].value = "nm"
    for layer in viewer.layers:  # layers show every length in µm, so files overlay
        assert layer.scale[-1] == pytest.approx(0.0002)
        assert str(layer.units[-1]) == "micrometer"
    assert panel.scene.physical_pixel_sizes["X"] == 0.2
    assert panel.scene.units["X"] == "nm"
    x_row[0].value = "-1"
    assert "Not applied" in panel.status.value and "greater than 0" in panel.status.value
    assert viewer.layers[0].scale[-1] == pytest.approx(0.0002)


def test_channel_edit_renames_and_recolours_the_layer(make_napari_viewer):
    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file(CZI))
    fields = panel.channel_fields[1]
    fields["name"].value = "Tubulin"
    fields["color"].value = "#ff00ff"
    layer = [lyr for lyr in viewer.layers if lyr.metadata["lightmic"].channel == 1][0]
    assert layer.name == "Tubulin"
    assert layer.colormap.colors[-1][:3] == pytest.approx([1.0, 0.0, 1.0])
    fields["color"].value = "yellow"
    assert "scenes.0.channels.1.color" in panel.status.value and "#RRGGBB" in panel.status.value
    assert layer.colormap.colors[-1][:3] == pytest.approx([1.0, 0.0, 1.0])
    offered = panel.fix_button.native
    assert offered.isVisibleTo(panel.button_bar.native) and offered.text() == "Use #FFFF00"
    panel.fix_button.native.click()  # the fix offered, taken with a click
    assert layer.colormap.colors[-1][:3] == pytest.approx([1.0, 1.0, 0.0])
    assert fields["color"].value.upper() == "#FFFF00"
    assert not offered.isVisibleTo(panel.button_bar.native)
    fields["emission_nm"].value = "5"
    assert "100–3000 nm" in panel.status.value


@pytest.mark.parametrize("typed,label", [("confocal", "Confocal microscopy"),
                                         ("light sheet", "Light-sheet microscopy")])
def test_edam_type_ahead_stores_label_and_iri(make_napari_viewer, typed, label):
    panel = panel_for(make_napari_viewer(), real_file(CZI))
    panel.edam_search.value = typed
    assert label in [panel.edam_choice.native.itemText(i)
                     for i in range(panel.edam_choice.native.count())]
    assert panel.edam_choice.native.currentText() == label  # the best match is chosen
    method = panel.record.rembi.image_acquisition.imaging_method
    assert method.label == label and method.iri.startswith("http://edamontology.org/topic_")
    assert panel.edam_iri.value == method.iri


def test_completeness_follows_rembi_edits(make_napari_viewer):
    panel = panel_for(make_napari_viewer(), real_file(CZI))
    assert "4 of 12" in panel.complete.value
    panel.rembi_fields["rembi.study.title"].value = "Mitosis"
    panel.licence.value = "CC BY 4.0"
    panel.rembi_fields["rembi.biosample.ncbi_taxon"].value = "9606"
    assert "7 of 12" in panel.complete.value
    assert "Licence" not in panel.missing.value and "Organism" in panel.missing.value
    taxon = panel.rembi_fields["rembi.biosample.ncbi_taxon"]
    taxon.value = "unicorn"
    taxon.native.editingFinished.emit()  # Enter
    assert "Not applied" in panel.status.value and "7 of 12" in panel.complete.value
    assert "a number such as 9606 (Homo sapiens)" in panel.status.value
    taxon.value = "mouse"
    taxon.native.editingFinished.emit()  # looked up by name
    assert panel.record.rembi.biosample.ncbi_taxon == "10090"
    assert panel.rembi_fields["rembi.biosample.ncbi_taxon"].value == "10090"


def test_privacy_findings_and_removal_from_exports(make_napari_viewer, vendor_copy, tmp_path):
    from napari_lightmic.writing import convert

    path = vendor_copy("lsm/test.lsm")
    panel = panel_for(make_napari_viewer(), path)
    [box] = panel.finding_boxes.values()
    assert box.text == "name: Jefferis" and box.value  # ticked: removed once removal is on
    panel.remove_personal.native.click()
    assert panel.record.privacy.remove_on_export and "Marked" in panel.remove_personal.text
    assert panel.save()
    written = convert(path, tmp_path / "out.ome.tif").path  # as `lightmic convert` does
    assert "Jefferis" not in tifffile.TiffFile(written).pages[0].description


def test_edits_saved_beside_the_file_come_back_in_a_new_viewer(make_napari_viewer, vendor_copy):
    path = vendor_copy(CZI)
    before = path.read_bytes()
    panel = panel_for(make_napari_viewer(), path)
    panel.rembi_fields["rembi.study.title"].value = "Spindles"
    panel.channel_fields[0]["name"].value = "Chromosomes"
    saved = panel.save()
    assert saved.endswith(".czi.lightmic.json") and "Saved" in panel.status.value
    assert json.loads(open(saved).read())["rembi"]["study"]["title"] == "Spindles"
    viewer = make_napari_viewer()
    again = panel_for(viewer, path)
    assert again.rembi_fields["rembi.study.title"].value == "Spindles"
    assert "Chromosomes" in [layer.name for layer in viewer.layers]
    assert "edits loaded from the sidecar" in again.status.value
    assert path.read_bytes() == before


def test_malformed_sidecar_is_reported_not_overwritten(make_napari_viewer, vendor_copy,
                                                       notifications):
    path = vendor_copy(CZI)
    bad = path.with_name(path.name + ".lightmic.json")
    bad.write_text('{"lightmic_metadata": "1", "rembi": {"study": {"title": ')
    panel = panel_for(make_napari_viewer(), path)
    assert any("not valid JSON" in str(n.message) for n in notifications)
    assert "not valid JSON" in panel.status.value
    panel.rembi_fields["rembi.study.title"].value = "x"
    assert panel.save() is None and "left untouched" in panel.status.value
    assert bad.read_text().endswith('"title": ')


def test_panel_follows_the_selected_layer(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open(real_file(CZI), plugin=PLUGIN)
    viewer.open(real_file("lif/testdata_2channel_xz.lif"), plugin=PLUGIN)
    panel = MetadataPanel(viewer)
    assert panel.source.format.name == "LIF"
    viewer.layers.selection.active = viewer.layers[0]
    assert panel.source.format.name == "CZI"
    assert [f["name"].value for f in panel.channel_fields] == ["LED555", "LED470"]


def test_idr_export_from_the_panel(make_napari_viewer, tmp_path):
    panel = panel_for(make_napari_viewer(), real_file(CZI))
    panel.rembi_fields["rembi.study.title"].value = "Spindles"
    written = panel.export_idr(str(tmp_path / "idr"))
    assert len(written) == 3 and "Exported 3 files" in panel.status.value
    study = open(written[0], encoding="utf-8").read()
    assert "Study Title\tSpindles" in study


def test_panel_is_in_the_layers_metadata_menu():
    from importlib.resources import files

    import yaml

    manifest = yaml.safe_load(files("napari_lightmic").joinpath("napari.yaml").read_text())
    menu = manifest["contributions"]["menus"]["napari/layers/metadata"]
    assert {"command": "napari-lightmic.metadata_panel"} in menu
    assert "napari-lightmic.metadata_panel" in [
        w["command"] for w in manifest["contributions"]["widgets"]]


def test_screenshot_panel_beside_a_czi(make_napari_viewer, qtbot):
    """What a user sees: the CZI, and the panel with REMBI partly filled and its completeness."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 1000)
    viewer.open(real_file(CZI), plugin=PLUGIN)
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Metadata")
    assert isinstance(dock, MetadataDock)
    panel = dock.panel
    panel.rembi_fields["rembi.study.title"].value = "Mitotic spindles in HeLa cells"
    panel.rembi_fields["rembi.biosample.organism"].value = "Homo sapiens"
    panel.rembi_fields["rembi.biosample.ncbi_taxon"].value = "9606"
    panel.licence.value = "CC BY 4.0"
    dock.scroll_area.ensureWidgetVisible(panel.complete.native, 0, 380)
    qtbot.wait(200)
    assert "8 of 12" in panel.complete.value
    shot = viewer.screenshot(canvas_only=False, flash=False)
    panel_shot = dock.grab().toImage()
    assert panel_shot.width() >= 380 and panel.complete.native.isVisible()
    # the panel shows the field text and the canvas the image: both are far from uniform
    rgb = shot[..., :3]
    right = rgb[:, int(rgb.shape[1] * 0.72):]
    assert right.std() > 20 and (right.max(axis=-1) > 200).sum() > 500  # light text on dark
    _keep(shot, "napari-metadata-panel.png")


def test_scenes_of_one_file_share_one_record(make_napari_viewer, vendor_copy):
    from napari_lightmic._napari.view import view

    path = vendor_copy("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    viewer = make_napari_viewer()
    first = view(path, scene=0, viewer=viewer)
    second = view(path, scene=1, viewer=viewer)
    assert first[0].metadata["lightmic"].session is second[0].metadata["lightmic"].session
    panel = MetadataPanel(viewer)
    viewer.layers.selection.active = first[0]
    panel.rembi_fields["rembi.study.title"].value = "Wells"
    panel.channel_fields[0]["name"].value = "Hoechst"
    viewer.layers.selection.active = second[0]
    assert panel.scene.index == 1
    assert panel.rembi_fields["rembi.study.title"].value == "Wells"
    assert panel.channel_fields[0]["name"].value == "DAPI"  # scene 1 keeps its own channels
    panel.channel_fields[1]["name"].value = "GFP"
    saved = json.loads(open(panel.save()).read())
    assert saved["rembi"]["study"]["title"] == "Wells"
    assert saved["scenes"]["0"]["channels"]["0"]["name"] == "Hoechst"
    assert saved["scenes"]["1"]["channels"]["1"]["name"] == "GFP"


def test_clearing_an_edit_restores_the_files_value(make_napari_viewer):
    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file(CZI))
    layer = [lyr for lyr in viewer.layers if lyr.metadata["lightmic"].channel == 0][0]
    panel.channel_fields[0]["name"].value = "GFP"
    assert layer.name == "GFP"
    panel.channel_fields[0]["name"].value = ""
    assert layer.name == "LED555" and panel.scene.channels[0].name == "LED555"
    x_row = [row for row in panel.image_section if row.label == "X size"][0]
    x_row[0].value = "0.5"
    x_row[0].value = ""
    assert layer.scale[-1] == pytest.approx(0.0905767, rel=1e-4)


def test_save_and_export_wait_for_a_file(make_napari_viewer, tmp_path):
    panel = MetadataPanel(make_napari_viewer())
    assert not panel.save_button.enabled and not panel.export_button.enabled
    assert panel.save() is None and panel.export_idr(str(tmp_path)) == []
    assert "Select a layer" in panel.status.value


def test_scene_picker_and_later_scenes_share_the_source(make_napari_viewer, vendor_copy):
    from napari_lightmic._napari.view import view
    from tests.widgets.test_scenes import docked_picker

    path = vendor_copy("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    viewer = make_napari_viewer()
    viewer.open(path, plugin=PLUGIN)
    first = viewer.layers[0].metadata["lightmic"].session
    picker = docked_picker(viewer)
    assert picker.session is first
    panel = MetadataPanel(viewer)
    panel.rembi_fields["rembi.study.title"].value = "Wells"
    assert panel.save()
    assert picker.open_scenes([1])[0].metadata["lightmic"].session is first
    assert view(path, scene=2, viewer=viewer)[0].metadata["lightmic"].session is first


def test_renamed_layer_keeps_its_brackets_when_saved(make_napari_viewer):
    from napari_lightmic._napari.save import source_of_selection

    viewer = make_napari_viewer()
    viewer.open(real_file(CZI), plugin=PLUGIN)
    layer = [lyr for lyr in viewer.layers if lyr.metadata["lightmic"].channel == 1][0]
    layer.name = "GFP [488 nm]"
    viewer.layers.selection.active = layer
    source, index, _ = source_of_selection(viewer)
    assert source.scenes[index].channels[1].name == "GFP [488 nm]"
    assert layer.metadata["lightmic"].effective_scene.channels[1].name == "LED470"  # view unchanged


def layer_of_channel(viewer, c):
    return [lyr for lyr in viewer.layers if lyr.metadata["lightmic"].channel == c][0]


def test_colour_swatch_shows_the_colour_and_opens_qts_colour_dialog(make_napari_viewer,
                                                                   monkeypatch):
    from qtpy.QtGui import QColor
    from qtpy.QtWidgets import QColorDialog

    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file(CZI))
    swatch = panel.swatches[1]
    colour = panel.scene.channels[1].color
    assert colour and colour in swatch.native.styleSheet()  # the file's colour shown
    asked = []

    def get_color(initial, parent=None, title=""):
        asked.append((initial.name().upper(), title))
        return QColor("#00ffaa")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(get_color))
    swatch.native.click()
    assert asked == [(colour.upper(), "Colour of LED470")]
    assert panel.session.record.scenes[0].channels[1].color == "#00FFAA"
    assert panel.scene.channels[1].color == "#00FFAA"
    assert panel.channel_fields[1]["color"].value.upper() == "#00FFAA"
    assert "#00FFAA" in swatch.native.styleSheet()
    assert layer_of_channel(viewer, 1).colormap.colors[-1][:3] == \
        pytest.approx([0.0, 1.0, 170 / 255])
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor()))
    swatch.native.click()  # cancelled: nothing changes
    assert panel.scene.channels[1].color == "#00FFAA"


def test_each_finding_has_its_tick_box_and_a_preview(make_napari_viewer, vendor_copy,
                                                    tmp_path):
    from napari_lightmic.writing import convert

    path = vendor_copy(CZI)
    panel = panel_for(make_napari_viewer(), path)
    session = panel.session
    texts = [box.text for box in panel.finding_boxes.values()]
    assert texts == [f"{f.kind}: {f.value}" for f in session.privacy_findings]
    assert "name: M1SRH" in texts and "user folder: zeiss" in texts
    assert all(box.value for box in panel.finding_boxes.values())
    assert "removal is off" in panel.preview.value
    panel.remove_personal.native.click()
    assert panel.preview.value.count("[removed]") == len(texts)
    zeiss = [f for f in session.privacy_findings if f.value == "zeiss"][0]
    panel.finding_boxes[zeiss.id].native.click()  # untick: kept
    assert not panel.finding_boxes[zeiss.id].value
    assert "D:\\Users\\zeiss… (kept)" in panel.preview.value
    assert "C:\\Users\\<b>[removed]</b>…" in panel.preview.value
    assert panel.preview.value.count("[removed]") == len(texts) - 1
    saved = json.loads(open(panel.save()).read())
    assert zeiss.id not in saved["privacy"]["removed"] and len(saved["privacy"]["removed"]) \
        == len(texts) - 1
    written = convert(path, tmp_path / "out.ome.tif").path
    xml = tifffile.TiffFile(written).pages[0].description
    assert "M1SRH" not in xml and "Users\\zeiss" in xml


def test_edam_search_text_is_not_carried_to_another_file(make_napari_viewer):
    viewer = make_napari_viewer()
    panel = panel_for(viewer, real_file(CZI))
    panel.edam_search.value = "confocal"
    viewer.open(real_file("lif/testdata_2channel_xz.lif"), plugin=PLUGIN)
    assert panel.source.format.name == "LIF"
    assert panel.edam_search.value == ""
    assert panel.record.rembi.image_acquisition.imaging_method is None or \
        panel.edam_choice.native.currentText() == \
        panel.record.rembi.image_acquisition.imaging_method.label


def test_dock_refits_the_canvas_marks_unsaved_edits_and_keeps_save_in_reach(
        make_napari_viewer, vendor_copy, qtbot):
    import numpy as np

    from tests._napari.test_menus import METADATA, click

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 900)
    viewer.open(vendor_copy(CZI), plugin=PLUGIN)
    click(viewer.window.layers_menu, METADATA, "napari/layers/metadata")  # as a user opens it
    [(name, dock)] = [(n, w) for n, w in viewer.window.dock_widgets.items()
                      if isinstance(w, MetadataDock)]
    wrapper = viewer.window._wrapped_dock_widgets[name]
    qtbot.waitUntil(wrapper.isVisible, timeout=5000)
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.waitUntil(lambda: abs(viewer.canvas.size[1] - canvas.width()) <= 2, timeout=5000)

    def fits():
        extent = np.asarray(viewer.layers.extent.world[1][-2:]) - \
            np.asarray(viewer.layers.extent.world[0][-2:])
        shown = extent * viewer.scene.camera.zoom  # canvas pixels the image takes
        return bool(np.all(shown <= np.asarray(viewer.canvas.size) + 1))

    qtbot.waitUntil(fits, timeout=5000)  # the image is not cut off behind the dock
    panel = dock.panel
    # Save and Export sit below the scrolling sections, visible without scrolling
    assert panel.save_button.native.isVisible() and panel.export_button.native.isVisible()
    assert not dock.scroll_area.isAncestorOf(panel.save_button.native)
    assert "unsaved" not in wrapper.windowTitle()
    panel.rembi_fields["rembi.study.title"].value = "Spindles"
    assert wrapper.windowTitle().endswith("• unsaved edits")
    assert wrapper.title.title.text().endswith("• unsaved edits")  # napari's title bar
    panel.save_button.native.click()
    assert "unsaved" not in wrapper.windowTitle() and "unsaved" not in wrapper.title.title.text()


def _scrolled_to(dock, widget):
    from qtpy.QtWidgets import QApplication

    dock.scroll_area.ensureWidgetVisible(widget.native, 0, 10)
    QApplication.processEvents()  # the scrolled area laid out before the grab


def test_screenshot_colour_swatches(make_napari_viewer, qtbot):
    """The channels with their colour swatches (click one for Qt's colour dialog)."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 1000)
    viewer.open(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"), plugin=PLUGIN)
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Metadata")
    dock.panel.channel_fields[1]["color"].value = "#FFAA00"
    _scrolled_to(dock, dock.panel.channel_section)
    assert dock.panel.swatches[1].native.isVisible()
    shot = viewer.screenshot(canvas_only=False, flash=False)
    _keep(shot, "napari-metadata-colour.png")


def test_screenshot_privacy_findings(make_napari_viewer, vendor_copy, qtbot):
    """The findings, each with its tick box, and what an export will contain."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 1000)
    viewer.open(vendor_copy(CZI), plugin=PLUGIN)
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Metadata")
    panel = dock.panel
    panel.remove_personal.native.click()
    zeiss = [f for f in panel.session.privacy_findings if f.value == "zeiss"][0]
    panel.finding_boxes[zeiss.id].native.click()
    _scrolled_to(dock, panel.preview)
    assert panel.finding_section.native.isVisible()
    shot = viewer.screenshot(canvas_only=False, flash=False)
    _keep(shot, "napari-metadata-privacy.png")
