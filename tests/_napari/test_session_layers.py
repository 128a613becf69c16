"""Layers and the Metadata dock follow the session they show: an edit made anywhere (here,
from the console) reaches every layer of the scene and the dock's fields."""

from napari_lightmic._napari.layer_ref import LayerRef, ref_of
from napari_lightmic.widgets.metadata import MetadataPanel
from tests.conftest import real_file

PLUGIN = "napari-lightmic"
CZI = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"


def test_layers_and_dock_follow_edits_made_on_the_session(make_napari_viewer, vendor_copy):
    viewer = make_napari_viewer()
    layers = viewer.open(vendor_copy(CZI), plugin=PLUGIN)
    refs = [ref_of(layer) for layer in layers]
    assert all(isinstance(ref, LayerRef) for ref in refs)
    assert [ref.channel for ref in refs] == [0, 1] and {ref.scene for ref in refs} == {0}
    session = refs[0].session
    assert refs[1].session is session
    panel = MetadataPanel(viewer)
    session.edit("scenes.0.channels.1.name", "GFP")  # not through the dock
    assert [layer.name for layer in viewer.layers] == ["LED555", "GFP"]
    assert panel.channel_fields[1]["name"].value == "GFP"
    session.edit("scenes.0.physical_pixel_sizes.X", "0.5")
    assert viewer.layers[0].scale[-1] == 0.5 and viewer.layers[1].scale[-1] == 0.5
    session.edit("rembi.study.title", "Spindles")
    assert panel.rembi_fields["rembi.study.title"].value == "Spindles"
    assert "Edited" in panel.status.value


def test_a_duplicated_layer_refers_to_the_same_session(make_napari_viewer):
    """Layers > Duplicate Layer, through napari's own command."""
    from napari._app_model import get_app_model

    viewer = make_napari_viewer()
    layer = viewer.open(real_file(CZI), plugin=PLUGIN)[0]
    viewer.layers.selection.active = layer
    get_app_model().commands.execute_command("napari.layer.duplicate").result()
    twin = viewer.layers[f"{layer.name} copy"]
    assert twin is not layer
    assert ref_of(twin).session is ref_of(layer).session
    assert (ref_of(twin).scene, ref_of(twin).channel) == (0, 0)
