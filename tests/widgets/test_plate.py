"""An HCS plate as a user meets it in napari: the mosaic, the wells' names, the Plate dock."""

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_lightmic.widgets.plate import PlateDock
from napari_lightmic.widgets.scenes import ScenePicker
from tests._napari.test_reader import _keep
from tests.reading.zarr_fixtures import hcs_value, write_hcs_plate

PLUGIN = "napari-lightmic"


def click_well(qtbot, dock, name):
    """Click a well's button and wait until its fields are read (off the main thread).

    The worker's result reaches the main thread before its end, which empties `reading`.
    """
    qtbot.mouseClick(dock.buttons[name], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.reading, timeout=30_000)


def docked(viewer, kind):
    for dock in viewer.window.dock_widgets.values():
        widget = dock.widget() if hasattr(dock, "widget") else dock
        if isinstance(widget, kind):
            return widget
    return None


@pytest.fixture(params=["0.4", "0.5"])
def plate_path(request, tmp_path):
    path = tmp_path / f"plate-{request.param}.ome.zarr"
    write_hcs_plate(path, request.param)
    return path


def test_a_plate_opens_as_its_mosaic_with_well_names_and_the_docks(make_napari_viewer,
                                                                   plate_path, notifications):
    viewer = make_napari_viewer()
    layers = viewer.open(plate_path, plugin=PLUGIN)
    said = [n.message for n in notifications]
    assert any("Plate of 2 × 3 wells" in m and "Plate panel" in m
               and "2 acquisitions: choose in the Scenes panel (showing Day 0)" in m
               for m in said), said
    assert [layer.name for layer in layers] == [
        "DAPI [Day 0]", "GFP [Day 0]", f"Wells [{plate_path.name}]"]
    dapi, _, wells = layers
    assert dapi.multiscale and len(dapi.data) == 2
    np.testing.assert_allclose(dapi.scale[-2:], [0.25, 0.25])
    assert list(wells.features["well"]) == ["A1", "A2", "B1", "B2", "B3"]
    assert wells.text.visible
    np.testing.assert_allclose(wells.scale, dapi.scale[-2:])
    # each name at its well's top-left corner: B1 at row 1, column 0
    plate = dapi.metadata["lightmic"].session.source.plate
    np.testing.assert_allclose(wells.data[2], [plate.layout.cell_height, 0])
    # the acquisitions are the scenes of the Scenes dock
    picker = docked(viewer, ScenePicker)
    assert picker is not None and picker.scene_list.count() == 2
    assert "Day 1" in picker.scene_list.item(1).text()
    # the Plate dock: a button per place, missing wells disabled
    dock = docked(viewer, PlateDock)
    assert dock is not None and dock.model.plate is plate
    enabled = {name: b.isEnabled() for name, b in dock.buttons.items()}
    assert enabled == {"A1": True, "A2": True, "A3": False, "B1": True, "B2": False,
                       "B3": True}
    assert "no zarr.json" in dock.buttons["B2"].toolTip() or \
        "no .zattrs" in dock.buttons["B2"].toolTip()


def test_a_click_on_a_well_opens_its_fields_over_their_tiles(make_napari_viewer, qtbot,
                                                             plate_path):
    viewer = make_napari_viewer()
    viewer.open(plate_path, plugin=PLUGIN)
    dock = docked(viewer, PlateDock)
    before = len(viewer.layers)
    click_well(qtbot, dock, "B1")
    added = viewer.layers[before:]
    # three fields (the fourth is missing), two channels each, as ordinary scenes
    assert [layer.name for layer in added] == [
        f"{c} [B1 field {f}]" for f in "012" for c in ("DAPI", "GFP")]
    ref = added[2].metadata["lightmic"]
    assert ref.session.path == str(plate_path / "B" / "1") and ref.scene == 1
    assert added[0].data.shape[-2:] == (64, 64)  # full resolution, one field
    assert (np.asarray(added[3].data) == hcs_value("B/1", "1", 1)).all()
    # laid over its tile: field 1 is Day 0's second, right of field 0
    plate = viewer.layers[0].metadata["lightmic"].session.source.plate
    y, x = plate.layout.field_origin(1, 0, 1)
    np.testing.assert_allclose(added[2].translate[-2:], [y * 0.25, x * 0.25])
    assert dock.buttons["B1"].isChecked() and dock.buttons["B1"].font().bold()
    assert dock.model.open_wells == {"B1"}
    click_well(qtbot, dock, "B1")  # open already: go there
    assert len(viewer.layers) == before + 6


def test_screenshot_plate_with_well_names_and_the_plate_dock(make_napari_viewer, qtbot,
                                                             tmp_path):
    path = tmp_path / "plate.ome.zarr"
    write_hcs_plate(path, "0.5", cells=True)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    layers = viewer.open(path, plugin=PLUGIN)
    for layer, top in zip(layers[:2], (2500, 1200)):
        layer.contrast_limits = (0, top)
    viewer.layers.selection.active = layers[1]
    viewer.reset_view()
    qtbot.wait(200)
    dock = docked(viewer, PlateDock)
    assert dock is not None and dock.isVisible()
    shot = viewer.window.screenshot(canvas_only=False, flash=False)
    assert shot.shape[0] > 300 and shot.std() > 0
    _keep(shot, "napari-plate.png")


def test_the_dock_follows_its_model(make_napari_viewer, plate_path, opened):
    from napari_lightmic.plate import PlateBrowser

    model = PlateBrowser()
    dock = PlateDock(make_napari_viewer(), model)
    assert dock.buttons == {}
    plate = opened(plate_path).plate
    model.show(plate, str(plate_path))
    assert sorted(dock.buttons) == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert "2 × 3, 5 wells, 16 fields, 2 acquisitions" in dock.title.text()
    model.mark_open("A2")
    assert dock.buttons["A2"].isChecked() and not dock.buttons["A1"].isChecked()
    model.show(plate, str(plate_path))  # the same plate: as it was
    assert dock.buttons["A2"].isChecked()


def test_napari_shows_the_whole_plate_from_the_fields_lowest_level(make_napari_viewer, qtbot,
                                                                    tmp_path, monkeypatch):
    from tests.reading.test_plate import chunk_reads

    path = tmp_path / "plate.ome.zarr"
    write_hcs_plate(path, "0.5", times=8)  # fields of 512 x 512: more than the canvas shows
    read = chunk_reads(monkeypatch)
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    qtbot.waitUntil(docked(viewer, ScenePicker).thumbnails_done, timeout=30_000)
    assert [layer.data_level for layer in layers[:2]] == [1, 1]
    # the fields' level 1 ('s1') only, each chunk a few times (two channels, the Scenes
    # dock's thumbnails): nothing of full resolution
    assert read and {key.split("/")[3] for key in read} == {"s1"}
    assert len(read) <= 8 * len(set(read))


def test_a_well_that_cannot_be_opened_is_an_error_notification(make_napari_viewer, qtbot,
                                                               plate_path, notifications):
    import shutil

    viewer = make_napari_viewer()
    viewer.open(plate_path, plugin=PLUGIN)
    dock = docked(viewer, PlateDock)
    for field in "0123":
        shutil.rmtree(plate_path / "A" / "2" / field)  # gone since the plate was opened
    before = len(viewer.layers)
    click_well(qtbot, dock, "A2")
    assert len(viewer.layers) == before
    errors = [n.message for n in notifications if n.severity == "error"]
    assert any(str(plate_path / "A" / "2") in m and "no field image that exists" in m
               for m in errors), errors
    assert not dock.buttons["A2"].isChecked() and dock.model.open_wells == set()


def _reading_b1(make_napari_viewer, qtbot, plate_path, monkeypatch):
    """A plate in a viewer whose well B1 was clicked and is being read, through a
    Session.open that waits for `release`: (viewer, dock, release, the reading threads,
    the layer count before)."""
    import threading

    from napari_lightmic.session import Session

    viewer = make_napari_viewer()
    viewer.open(plate_path, plugin=PLUGIN)
    dock = docked(viewer, PlateDock)
    release, threads = threading.Event(), []
    opened = Session.open.__func__

    def slow_open(cls, path):
        threads.append(threading.current_thread())
        assert release.wait(30)
        return opened(cls, path)

    monkeypatch.setattr(Session, "open", classmethod(slow_open))
    before = len(viewer.layers)
    qtbot.mouseClick(dock.buttons["B1"], Qt.MouseButton.LeftButton)  # returns at once
    try:
        qtbot.waitUntil(lambda: bool(threads), timeout=10_000)
    except BaseException:
        release.set()
        raise
    return viewer, dock, release, threads, before


def test_a_well_is_read_off_the_main_thread(make_napari_viewer, qtbot, plate_path,
                                            monkeypatch):
    # a remote plate's fields take a while to read: napari stays responsive meanwhile, the
    # button waits, and the fields come when read
    import threading

    viewer, dock, release, reader, before = _reading_b1(make_napari_viewer, qtbot,
                                                        plate_path, monkeypatch)
    try:
        assert reader[0] is not threading.main_thread()
        assert not dock.buttons["B1"].isEnabled() and len(viewer.layers) == before
        dock.open_well("B1")  # asked again while it is read: not read twice
        qtbot.wait(50)  # the event loop runs while the well is read
    finally:
        release.set()
    qtbot.waitUntil(lambda: not dock.reading, timeout=30_000)
    assert len(viewer.layers) == before + 6
    assert len(reader) == 1 and dock.buttons["B1"].isEnabled()
    assert dock.model.open_wells == {"B1"}


def test_a_well_read_while_another_plate_came_is_not_marked_on_it(make_napari_viewer, qtbot,
                                                                  plate_path, monkeypatch,
                                                                  opened):
    viewer, dock, release, _, before = _reading_b1(make_napari_viewer, qtbot, plate_path,
                                                   monkeypatch)
    try:
        other = opened(plate_path).plate  # another plate (a new copy) shown meanwhile
        dock.model.show(other, str(plate_path) + "-copy")
        assert dock.buttons["B1"].isEnabled()  # the new plate's B1 is not being read
    finally:
        release.set()
    qtbot.waitUntil(lambda: not dock.reading, timeout=30_000)
    assert len(viewer.layers) == before + 6  # the fields asked for still come
    assert dock.model.open_wells == set() and not dock.buttons["B1"].isChecked()
