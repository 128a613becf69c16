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
    fields["color"].value = "magenta"
    assert "scenes.0.channels.1.color" in panel.status.value
    assert layer.colormap.colors[-1][:3] == pytest.approx([1.0, 0.0, 1.0])
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
    panel.rembi_fields["rembi.biosample.ncbi_taxon"].value = "human"
    assert "Not applied" in panel.status.value and "7 of 12" in panel.complete.value


def test_privacy_findings_and_removal_from_exports(make_napari_viewer, vendor_copy, tmp_path):
    from napari_lightmic.writing import convert

    path = vendor_copy("lsm/test.lsm")
    panel = panel_for(make_napari_viewer(), path)
    assert "name: 'Jefferis'" in panel.findings.value
    panel.remove_personal.changed.emit(True)
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
    dock.ensureWidgetVisible(panel.complete.native, 0, 380)
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
