import numpy as np
import pytest

from napari_lightmic.widgets.scenes import ScenePicker
from tests._napari.test_reader import _keep
from tests.conftest import real_file

MULTI = "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"


def docked_picker(viewer):
    for dock in viewer.window.dock_widgets.values():
        widget = dock.widget() if hasattr(dock, "widget") else dock
        if isinstance(widget, ScenePicker):
            return widget
    return None


def test_picker_opens_itself_for_a_multi_scene_file(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open(real_file(MULTI), plugin="napari-lightmic")
    picker = docked_picker(viewer)
    assert picker is not None
    texts = [picker.scene_list.item(i).text() for i in range(picker.scene_list.count())]
    assert len(texts) == 3
    assert texts[0].startswith("0: TR1") and "Y122 × X295" in texts[0] and "1.6 µm" in texts[0]
    assert "10 tiles" in texts[0]
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    assert all(not picker.scene_list.item(i).icon().isNull() for i in range(3))


def test_single_scene_files_get_no_picker(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open(real_file("czi/DAPI_GFP.czi"), plugin="napari-lightmic")
    assert docked_picker(viewer) is None


def test_open_selected_and_all_at_stage_positions(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    picker = ScenePicker(viewer)
    picker.set_path(real_file(MULTI))
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    layers = picker.open_scenes([1])
    assert [layer.name for layer in layers] == ["DAPI [P1]", "EGFP [P1]"]
    viewer.layers.clear()
    picker.open_all_button.click()
    assert len(viewer.layers) == 6
    # Scenes sit where the stage put them: bounding-box corners times 1.6 µm.
    translates = {layer.name: tuple(layer.translate[-2:]) for layer in viewer.layers}
    assert translates["DAPI [TR1]"] == pytest.approx((0.0, 145 * 1.6))
    assert translates["DAPI [P1]"] == pytest.approx((213 * 1.6, 0.0))
    assert translates["DAPI [TR2]"] == pytest.approx((277 * 1.6, 293 * 1.6))


def test_thumbnail_is_a_colour_composite(opened):
    from napari_lightmic.scene.thumbnail import thumbnail

    scene = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")).scenes[0]
    thumb = thumbnail(scene)
    assert thumb.dtype == np.uint8 and thumb.shape[2] == 3 and max(thumb.shape[:2]) <= 96
    # Orange (LED555, #FF7E00) and green (LED470, #00FF33) both show, each on its own.
    r, g = thumb[..., 0].astype(int), thumb[..., 1].astype(int)
    assert ((g > 100) & (r < 50)).any()
    assert ((r > 100) & (g < r * 0.6)).any()


def test_screenshot_scene_picker_with_thumbnails(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    viewer.open(real_file(MULTI), plugin="napari-lightmic")
    picker = docked_picker(viewer)
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    qtbot.wait(200)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    assert shot.shape[0] > 400
    pixmap = picker.grab()
    assert pixmap.width() > 100
    _keep(shot, "napari-scene-picker.png")
