"""The Scenes dock as a user meets it: docked by opening a multi-scene file, clicked, typed in."""

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_lightmic._napari.view import view
from napari_lightmic.scene.thumbnail import THUMB_SIDE
from napari_lightmic.widgets.scenes import ScenePicker
from tests._napari.test_reader import _keep
from tests.conftest import real_file

PLUGIN = "napari-lightmic"
MULTI = "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"
WELLS = "czi/WellD6-7_S2.czi"  # two wells, D6 and D7, 9 mm apart on the stage
SWEEP = "lif/LeicaLASX_wavelength-sweep_example.lif"


def docked_picker(viewer):
    for dock in viewer.window.dock_widgets.values():
        widget = dock.widget() if hasattr(dock, "widget") else dock
        if isinstance(widget, ScenePicker):
            return widget
    return None


def opened_picker(viewer, relpath):
    """Open a file as a user does (the reader) and return the Scenes dock it brought up."""
    viewer.open(real_file(relpath), plugin=PLUGIN)
    picker = docked_picker(viewer)
    assert picker is not None
    return picker


def texts(picker):
    return [picker.scene_list.item(i).text() for i in range(picker.scene_list.count())]


def marked(picker):
    """The rows the list shows as open in the viewer (bold, 'open' in the text)."""
    rows = []
    for i in range(picker.scene_list.count()):
        item = picker.scene_list.item(i)
        bold = item.font().bold()
        assert bold == ("(open)" in item.text()), "the text and the font disagree"
        if bold:
            rows.append(i)
    return rows


def click(qtbot, picker, button):
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    read(qtbot, picker)


def key(qtbot, picker, which):
    qtbot.keyClick(picker.scene_list, which)
    read(qtbot, picker)


def read(qtbot, picker):
    """Wait for the scenes being read off the main thread to be added."""
    qtbot.waitUntil(picker.opening_done, timeout=30000)


def select(picker, *rows):
    picker.scene_list.clearSelection()
    for row in rows:
        picker.scene_list.item(row).setSelected(True)
    picker.scene_list.setCurrentRow(rows[-1])


def test_picker_opens_itself_for_a_multi_scene_file(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)
    rows = texts(picker)
    assert len(rows) == 3
    assert rows[0].startswith("0: TR1") and "Y122 × X295" in rows[0] and "1.6 µm" in rows[0]
    assert "10 tiles" in rows[0]
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    assert all(not picker.scene_list.item(i).icon().isNull() for i in range(3))


def test_title_is_the_file_name_and_the_path_a_tooltip(make_napari_viewer):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)
    path = str(real_file(MULTI))
    title = picker.file_label.text()
    assert title.splitlines()[0] == "S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"
    assert "3 scenes" in title and str(real_file(MULTI).parent) not in title
    assert path in picker.file_label.toolTip()


def test_single_scene_files_get_no_picker(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open(real_file("czi/DAPI_GFP.czi"), plugin=PLUGIN)
    assert docked_picker(viewer) is None


def test_open_all_adds_only_the_scenes_not_yet_open(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)  # scene 0 is open: 2 layers
    assert len(viewer.layers) == 2
    click(qtbot, picker, picker.open_all_button)
    names = [layer.name for layer in viewer.layers]
    assert len(names) == 6, names
    assert sorted(names) == sorted(f"{c} [{s}]" for c in ("DAPI", "EGFP")
                                   for s in ("TR1", "P1", "TR2"))
    click(qtbot, picker, picker.open_all_button)  # everything is open: nothing more
    assert len(viewer.layers) == 6
    # Scenes sit where the stage put them: bounding-box corners times 1.6 µm.
    translates = {layer.name: tuple(layer.translate[-2:]) for layer in viewer.layers}
    assert translates["DAPI [TR1]"] == pytest.approx((0.0, 145 * 1.6))
    assert translates["DAPI [P1]"] == pytest.approx((213 * 1.6, 0.0))
    assert translates["DAPI [TR2]"] == pytest.approx((277 * 1.6, 293 * 1.6))


def test_list_marks_the_scenes_in_the_viewer_as_layers_come_and_go(make_napari_viewer):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)
    assert marked(picker) == [0]
    view(real_file(MULTI), scene="TR2", viewer=viewer)  # added from elsewhere
    assert marked(picker) == [0, 2]
    viewer.layers.remove("DAPI [TR1]")  # one channel of scene 0 still shows it
    assert marked(picker) == [0, 2]
    viewer.layers.remove("EGFP [TR1]")
    assert marked(picker) == [2]
    assert "in the viewer" in picker.scene_list.item(2).toolTip()
    assert "in the viewer" not in picker.scene_list.item(0).toolTip()


def test_enter_opens_the_selected_scenes(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)
    select(picker, 1, 2)
    key(qtbot, picker, Qt.Key.Key_Return)
    names = [layer.name for layer in viewer.layers]
    assert {"DAPI [P1]", "EGFP [P1]", "DAPI [TR2]", "EGFP [TR2]"} <= set(names)
    assert len(names) == 6
    assert marked(picker) == [0, 1, 2]
    select(picker, 1)
    key(qtbot, picker, Qt.Key.Key_Enter)  # keypad Enter; already open
    assert len(viewer.layers) == 6


def test_scenes_are_read_off_the_main_thread(make_napari_viewer, qtbot, monkeypatch):
    """Opening from the dock reads planes (contrast) in a worker; the buttons wait for it."""
    import threading

    from napari_lightmic._napari import layers

    threads = []
    real = layers.scene_layer_data

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)
    monkeypatch.setattr(layers, "scene_layer_data", recorded)
    qtbot.mouseClick(picker.open_all_button, Qt.MouseButton.LeftButton)
    assert not picker.open_all_button.isEnabled() or picker.opening_done()
    read(qtbot, picker)
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert len(viewer.layers) == 6 and picker.open_all_button.isEnabled()


def test_thumbnail_slots_are_one_size(make_napari_viewer, qtbot):
    """Every row keeps a square slot of the thumbnail size, before and after thumbnails
    of different shapes arrive, so the text column does not move."""
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, MULTI)

    def slots():
        sizes = set()
        for i in range(picker.scene_list.count()):
            icon = picker.scene_list.item(i).icon()
            assert not icon.isNull()
            sizes.update((s.width(), s.height()) for s in icon.availableSizes())
        return sizes

    assert slots() == {(THUMB_SIDE, THUMB_SIDE)}
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    assert slots() == {(THUMB_SIDE, THUMB_SIDE)}


def test_rows_fit_the_dock_without_a_horizontal_scroll_bar(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    picker = opened_picker(viewer, MULTI)
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    qtbot.waitUntil(picker.scene_list.isVisible)
    listing = picker.scene_list
    assert not listing.horizontalScrollBar().isVisible()
    width = listing.viewport().width()
    for i in range(listing.count()):
        rect = listing.visualItemRect(listing.item(i))
        assert rect.right() <= width, (i, rect.width(), width)


def test_lambda_axes_are_explained(make_napari_viewer):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, SWEEP)
    emission, excitation, both = (picker.scene_list.item(i).toolTip() for i in range(3))
    assert "λ" in emission and "emission" in emission and "excitation" not in emission
    assert "Λ" in excitation and "excitation" in excitation
    assert "emission" in both and "T: time" not in both  # only the unusual axes


def test_go_to_scene_centres_on_a_well_9_mm_away(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    picker = opened_picker(viewer, WELLS)
    click(qtbot, picker, picker.open_all_button)
    viewer.reset_view()  # both wells: 9 mm wide, each 54 µm well a speck
    d7 = [layer for layer in viewer.layers if layer.name.endswith("[D7]")]
    assert d7 and d7[0].translate[-1] == pytest.approx(9000.0)
    select(picker, 1)
    click(qtbot, picker, picker.go_to_button)
    centre_y, centre_x = viewer.scene.camera.center[-2:]
    assert centre_x == pytest.approx(9000 + 544 * 0.1 / 2, abs=0.5)
    assert centre_y == pytest.approx(440 * 0.1 / 2, abs=0.5)
    # the well fills the canvas: its 54.4 µm span most of the canvas width or height
    canvas_h, canvas_w = viewer.canvas.size
    zoom = viewer.scene.camera.zoom
    shown = max(544 * 0.1 * zoom / canvas_w, 440 * 0.1 * zoom / canvas_h)
    assert 0.8 < shown <= 1.0


def test_go_to_scene_opens_a_scene_not_yet_open(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    picker = opened_picker(viewer, WELLS)
    select(picker, 1)
    click(qtbot, picker, picker.go_to_button)
    assert [layer.name for layer in viewer.layers][-1].endswith("[D7]")
    assert viewer.scene.camera.center[-1] == pytest.approx(9000 + 544 * 0.1 / 2, abs=0.5)


def test_thumbnail_is_a_colour_composite(opened):
    from napari_lightmic.scene.thumbnail import thumbnail

    scene = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")).scenes[0]
    thumb = thumbnail(scene)
    assert thumb.dtype == np.uint8 and thumb.shape[2] == 3 and max(thumb.shape[:2]) <= 96
    # Orange (LED555, #FF7E00) and green (LED470, #00FF33) both show, each on its own.
    r, g = thumb[..., 0].astype(int), thumb[..., 1].astype(int)
    assert ((g > 100) & (r < 50)).any()
    assert ((r > 100) & (g < r * 0.6)).any()


def test_screenshot_scene_picker_with_open_scenes_marked(make_napari_viewer, qtbot):
    """The dock after opening the file and then its TR2 scene: TR1 and TR2 marked open."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    picker = opened_picker(viewer, MULTI)
    select(picker, 2)
    key(qtbot, picker, Qt.Key.Key_Return)
    select(picker, 1)
    qtbot.waitUntil(picker.thumbnails_done, timeout=20000)
    viewer.reset_view()
    qtbot.wait(200)  # let the dock repaint the thumbnails that just arrived
    assert marked(picker) == [0, 2]
    shot = viewer.screenshot(canvas_only=False, flash=False)
    assert shot.shape[0] > 400
    _keep(shot, "napari-scene-picker.png")


def test_layers_come_and_go_after_the_dock_is_removed(make_napari_viewer, qtbot):
    """A removed dock stops following the layers, without an error."""
    viewer = make_napari_viewer()
    opened_picker(viewer, MULTI)
    viewer.window.remove_dock_widget("all")
    qtbot.wait_until(lambda: docked_picker(viewer) is None)
    view(real_file(MULTI), scene="P1", viewer=viewer)
    viewer.layers.clear()
    assert len(viewer.layers) == 0
