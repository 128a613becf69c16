"""Every contribution of the manifest run the way napari runs it.

Menu items are found in the Qt main window's menus and triggered as a click does; commands
run through napari's app-model (with its dependency injection); the reader runs through
`viewer.open` and a drop on the canvas; the writers through napari's own save path and
File > Save Selected Layers…. Calling the plugin's functions directly would not notice a
command napari cannot call (issue 9: Save as OME-Zarr… raised a TypeError from the menu).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qtpy.QtCore import QMimeData, QPointF, Qt, QUrl
from qtpy.QtGui import QDropEvent
from qtpy.QtWidgets import QFileDialog, QMenu, QMessageBox

from napari_lightmic import open_image
from tests.conftest import real_file

PLUGIN = "napari-lightmic"
CZI = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"
CELLS = ["DAPI", "GFP", "mCherry"]
SAVE_AS = "napari-lightmic.save_as_ome_zarr"
METADATA = "napari-lightmic.metadata_panel"
GUIDE = "napari-lightmic.open_guide"
TIMEOUT = 60_000  # ms; a save of the 6 MB sample takes well under a second

# Every command of the manifest and the test here that runs it the way napari does.
COVERED = {
    "napari-lightmic.get_reader": "test_reader_opens_through_viewer_open / _a_drop",
    "napari-lightmic.scene_picker": "test_each_dock_widget_from_the_plugins_menu",
    "napari-lightmic.plate_dock": "test_each_dock_widget_from_the_plugins_menu",
    "napari-lightmic.open_from_idr": "test_each_dock_widget_from_the_plugins_menu",
    "napari-lightmic.metadata_panel": "test_metadata_panel_from_the_layers_menu",
    "napari-lightmic.convert_folder": "test_each_dock_widget_from_the_plugins_menu",
    "napari-lightmic.write_ome_zarr": "test_writers_through_napari_save_paths",
    "napari-lightmic.write_ome_tiff": "test_writers_through_napari_save_paths",
    "napari-lightmic.save_as_ome_zarr": "test_save_as_ome_zarr_from_the_file_menu",
    "napari-lightmic.sample_cells": "test_sample_data_from_file_open_sample",
    "napari-lightmic.open_guide": "test_guide_from_the_help_menu",
    "napari-lightmic.reset_display_range":
        "test_file_display.py::test_reset_to_the_file_display_range_from_the_layers_menu",
}


# -- helpers ---------------------------------------------------------------------------------

def manifest():
    """The manifest as napari finds it: through the package's npe2 entry point."""
    from npe2 import PluginManifest

    return PluginManifest.from_distribution(PLUGIN)


def walk(menu: QMenu, path=()):
    """(menu ids on the way, action) for every action of a Qt menu and its submenus."""
    here = (*path, menu.objectName())
    for action in menu.actions():
        yield here, action
        if action.menu() is not None:
            yield from walk(action.menu(), here)


def menu_action(top: QMenu, command_id: str, menu_id: str | None = None):
    """The QAction of a command in a main-window menu (in the submenu `menu_id`, if given)."""
    found = [(path, action) for path, action in walk(top)
             if action.objectName() == command_id and (menu_id is None or path[-1] == menu_id)]
    assert found, f"{command_id} is not in the {top.objectName()} menu (under {menu_id})"
    return found[0][1]


def click(top: QMenu, command_id: str, menu_id: str | None = None):
    """Open a main-window menu (napari updates its items then) and click an item."""
    action = menu_action(top, command_id, menu_id)
    top.aboutToShow.emit()
    assert action.isEnabled() and action.isVisible(), f"{command_id} is disabled or hidden"
    action.trigger()
    return action


def run_save_as(viewer, how: str):
    if how == "File menu":
        click(viewer.window.file_menu, SAVE_AS, "napari/file/io_utilities")
    else:  # the command palette and keybindings run the command through app-model
        from napari._app_model import get_app_model

        get_app_model().commands.execute_command(SAVE_AS).result()


def messages(notifications, severity=None) -> list[str]:
    return [str(n.message) for n in notifications
            if severity is None or str(n.severity).lower().endswith(severity)]


def no_exceptions(notifications):
    """Nothing reached napari as an exception (those show a traceback button)."""
    from napari.utils.notifications import ErrorNotification

    errors = [n for n in notifications if isinstance(n, ErrorNotification)]
    assert not errors, [str(n.message) for n in errors]


class ProgressBars:
    """napari progress objects created and closed, whether the activity dock showed each,
    and the last value its Qt progress bar showed."""

    def __init__(self, viewer):
        from napari.utils import progress

        self._instances = progress._all_instances
        self._dialog = viewer.window._qt_window._activity_dialog
        self.shown: dict[str, bool] = {}
        self.values: dict[str, int] = {}
        self.closed: list[str] = []
        self._instances.events.changed.connect(self._changed, position="last")

    def _changed(self, event):
        for prog in event.added:
            pbar = self._dialog.get_pbar_from_prog(prog)
            self.shown[prog.desc] = pbar is not None
            if pbar is not None:  # the value of the Qt progress bar, after each update
                prog.events.value.connect(
                    lambda _, desc=prog.desc, pbar=pbar:
                    self.values.__setitem__(desc, pbar.qt_progress_bar.value()))
        for prog in event.removed:
            self.closed.append(prog.desc)

    def disconnect(self):
        self._instances.events.changed.disconnect(self._changed)


@pytest.fixture
def bars(make_napari_viewer):
    made = []

    def watch(viewer):
        made.append(ProgressBars(viewer))
        return made[-1]

    yield watch
    for b in made:
        b.disconnect()


@pytest.fixture
def dialogs(monkeypatch):
    """Qt's modal dialogs answered by the test instead of a person: `dialogs.save` is what
    the save dialog returns, `dialogs.replace` the answer to "Replace?"; what was asked is
    kept. A dialog the test did not expect fails instead of waiting for a click."""

    class Dialogs:
        def __init__(self):
            self.save: tuple[str, str] | None = None
            self.replace: bool | None = None
            self.asked: list[tuple[str, tuple[str, ...]]] = []

        def get_save_file_name(self, *args, **kwargs):
            self.asked.append(("save", _texts(args)))
            assert self.save is not None, f"unexpected save dialog {_texts(args)}"
            return self.save

        def question(self, *args, **kwargs):
            self.asked.append(("question", _texts(args)))
            assert self.replace is not None, f"unexpected question {_texts(args)}"
            return QMessageBox.StandardButton.Yes if self.replace \
                else QMessageBox.StandardButton.No

    answers = Dialogs()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(answers.get_save_file_name))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(answers.question))
    return answers


def _texts(args) -> tuple[str, ...]:
    """The texts of a dialog's arguments (not its parent widget, which must not be kept)."""
    return tuple(a for a in args if isinstance(a, str))


def sample_viewer(make_napari_viewer, **kwargs):
    viewer = make_napari_viewer(**kwargs)
    viewer.open_sample(PLUGIN, "cells")
    assert [layer.name for layer in viewer.layers] == CELLS
    return viewer


def sample_data(viewer) -> np.ndarray:
    """C, Z, Y, X pixels of the sample, from its file."""
    path = viewer.layers[0].metadata["lightmic"].session.path
    with open_image(path) as source:
        return np.asarray(source.scenes[0].data).reshape(3, 16, 256, 256)


def check_ome_zarr(path, expected: np.ndarray):
    """A valid OME-Zarr with every channel, its names and pixels: read by the plugin, by
    zarr, and checked against the NGFF models."""
    import zarr

    from napari_lightmic.writing import validate

    assert validate(path) == []
    with open_image(path) as source:
        scene = source.scenes[0]
        assert scene.channel_names == CELLS
        np.testing.assert_array_equal(np.asarray(scene.data).reshape(expected.shape), expected)

    group = zarr.open_group(str(path), mode="r")
    attrs = group.attrs.asdict()
    ome = attrs.get("ome", attrs)
    multiscales = ome["multiscales"][0]
    axes = [axis["name"] for axis in multiscales["axes"]]
    level0 = group[multiscales["datasets"][0]["path"]]
    assert level0.shape[axes.index("c")] == 3
    assert [c["label"] for c in ome["omero"]["channels"]] == CELLS
    np.testing.assert_array_equal(np.asarray(level0[:]).reshape(expected.shape), expected)


# -- the manifest ----------------------------------------------------------------------------

def test_every_command_of_the_manifest_is_run_here():
    assert {cmd.id for cmd in manifest().contributions.commands} == set(COVERED)


def test_every_menu_item_of_the_manifest_is_in_its_napari_menu(make_napari_viewer):
    viewer = make_napari_viewer()
    bar_menus = [action.menu() for action in viewer.window.main_menu.actions()
                 if action.menu() is not None]
    for menu_id, items in manifest().contributions.menus.items():
        for item in items:
            found = [path for top in bar_menus for path, action in walk(top)
                     if action.objectName() == item.command and path[-1] == menu_id]
            assert found, f"{item.command} is not in the menu {menu_id}"


# -- File > Save as OME-Zarr… ----------------------------------------------------------------

@pytest.mark.parametrize("how", ["File menu", "command"])
def test_save_as_ome_zarr_from_the_file_menu(how, make_napari_viewer, qtbot, tmp_path,
                                             dialogs, bars, notifications):
    viewer = sample_viewer(make_napari_viewer)
    viewer.layers.selection.active = viewer.layers["GFP"]
    dialogs.save = (str(tmp_path / "cells"), "OME-Zarr (*.ome.zarr)")
    watched = bars(viewer)

    run_save_as(viewer, how)
    [(kind, (caption, default, _))] = dialogs.asked  # asked where, at once
    assert kind == "save" and "OME-Zarr" in caption
    # proposed: the source's name as .ome.zarr, beside it
    source = Path(viewer.layers[0].metadata["lightmic"].session.path)
    assert Path(default) == source.with_name("napari-lightmic-sample-cells.ome.zarr")
    qtbot.waitUntil(lambda: any(m.startswith("Saved") for m in messages(notifications)),
                    timeout=TIMEOUT)

    target = tmp_path / "cells.ome.zarr"  # the extension is added
    assert messages(notifications, "info")[-1] == f"Saved {target}"
    # napari's progress bar was shown in the activity dock, moved to the end and closed
    assert watched.shown == {"Saving cells.ome.zarr": True}
    assert watched.values["Saving cells.ome.zarr"] == 100
    assert watched.closed == ["Saving cells.ome.zarr"]
    check_ome_zarr(target, sample_data(viewer))
    no_exceptions(notifications)


def test_save_as_replaces_an_existing_folder_only_after_confirmation(
        make_napari_viewer, qtbot, tmp_path, dialogs, bars, notifications):
    viewer = sample_viewer(make_napari_viewer)
    target = tmp_path / "exists.ome.zarr"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    dialogs.save = (str(target), "OME-Zarr (*.ome.zarr)")
    watched = bars(viewer)

    dialogs.replace = False
    click(viewer.window.file_menu, SAVE_AS)
    questions = [texts for kind, texts in dialogs.asked if kind == "question"]
    assert len(questions) == 1 and str(target) in questions[0][1]
    assert (target / "mine.txt").read_text() == "keep"
    assert watched.shown == {}  # nothing started

    dialogs.replace = True
    click(viewer.window.file_menu, SAVE_AS)
    qtbot.waitUntil(lambda: f"Saved {target}" in messages(notifications), timeout=TIMEOUT)
    assert not (target / "mine.txt").exists()
    assert watched.closed == ["Saving exists.ome.zarr"]
    check_ome_zarr(target, sample_data(viewer))
    no_exceptions(notifications)


def test_a_failing_save_is_an_error_notification(make_napari_viewer, qtbot, tmp_path,
                                                 dialogs, bars, notifications):
    viewer = sample_viewer(make_napari_viewer)
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / "a-file" / "cells.ome.zarr"
    dialogs.save = (str(target), "OME-Zarr (*.ome.zarr)")
    watched = bars(viewer)

    click(viewer.window.file_menu, SAVE_AS)
    qtbot.waitUntil(lambda: bool(messages(notifications, "error")), timeout=TIMEOUT)

    [error] = messages(notifications, "error")
    assert "cells.ome.zarr" in error
    assert not any(m.startswith("Saved") for m in messages(notifications))
    qtbot.waitUntil(lambda: watched.closed == ["Saving cells.ome.zarr"], timeout=5000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    no_exceptions(notifications)  # a message, not an exception with a traceback


def test_save_as_without_layers_or_cancelled_writes_nothing(make_napari_viewer, tmp_path,
                                                            dialogs, bars, notifications):
    viewer = make_napari_viewer()
    click(viewer.window.file_menu, SAVE_AS)
    [error] = messages(notifications, "error")
    assert "no layer to save" in error
    assert dialogs.asked == []

    viewer.open_sample(PLUGIN, "cells")
    watched = bars(viewer)
    dialogs.save = ("", "")  # the dialog was cancelled
    click(viewer.window.file_menu, SAVE_AS)
    assert len(dialogs.asked) == 1
    assert watched.shown == {} and list(tmp_path.iterdir()) == []
    no_exceptions(notifications)


# -- docks: Layers > Metadata and the Plugins menu -------------------------------------------

def test_metadata_panel_from_the_layers_menu(make_napari_viewer, qtbot, notifications):
    from napari_lightmic.widgets.metadata import MetadataDock

    viewer = sample_viewer(make_napari_viewer, show=True)  # docks are visible in a shown window
    viewer.layers.selection.active = viewer.layers["GFP"]
    click(viewer.window.layers_menu, METADATA, "napari/layers/metadata")

    [(name, widget)] = [(n, w) for n, w in viewer.window.dock_widgets.items()
                        if isinstance(w, MetadataDock)]
    assert name.startswith("Metadata")
    dock = viewer.window._wrapped_dock_widgets[name]
    qtbot.waitUntil(dock.isVisible, timeout=5000)  # napari shows a new dock a moment later
    # it follows the selected layer
    assert widget.panel.session is viewer.layers["GFP"].metadata["lightmic"].session
    # the menu item toggles the dock
    click(viewer.window.layers_menu, METADATA, "napari/layers/metadata")
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)
    click(viewer.window.layers_menu, METADATA, "napari/layers/metadata")
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    assert viewer.window.dock_widgets[name] is widget  # the same panel, not a second one
    no_exceptions(notifications)


def _widgets():
    return [(w.command, w.display_name) for w in manifest().contributions.widgets]


@pytest.mark.parametrize(("command", "title"), _widgets())
def test_each_dock_widget_from_the_plugins_menu(command, title, make_napari_viewer, qtbot,
                                                notifications):
    from npe2.manifest.utils import import_python_name

    viewer = make_napari_viewer(show=True)
    python_name = next(c.python_name for c in manifest().contributions.commands
                       if c.id == command)
    action = click(viewer.window.plugins_menu, command)
    assert title in action.text()
    docked = {n: w for n, w in viewer.window.dock_widgets.items() if title in n}
    assert len(docked) == 1
    [(name, widget)] = docked.items()
    assert isinstance(widget, import_python_name(python_name))
    qtbot.waitUntil(viewer.window._wrapped_dock_widgets[name].isVisible, timeout=5000)
    no_exceptions(notifications)


# -- File > Open Sample ----------------------------------------------------------------------

def test_sample_data_from_file_open_sample(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    [sample] = manifest().contributions.sample_data
    action = click(viewer.window.file_menu, f"{PLUGIN}.{sample.key}", "napari/file/samples")
    assert sample.display_name in action.text()
    assert [layer.name for layer in viewer.layers] == CELLS
    assert viewer.layers[0].scale[-1] == pytest.approx(0.2)
    no_exceptions(notifications)


# -- Help > napari-lightmic guide -----------------------------------------------------------

def test_guide_from_the_help_menu(make_napari_viewer, tmp_path, monkeypatch, notifications):
    import webbrowser

    from napari._app_model import get_app_model
    from npe2 import PluginManager

    from napari_lightmic._napari import help as guide

    browsed: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: browsed.append(url) or True)
    viewer = make_napari_viewer()
    # as in a new napari session, the plugin not used yet: each test has a new app-model, but
    # npe2 keeps the plugin activated by an earlier test (and `deactivate` would also remove
    # napari's actions for the plugin's menu items, registered in the plugin's context)
    npe2 = PluginManager.instance()
    npe2.commands.unregister_manifest(npe2.get_manifest(PLUGIN))
    monkeypatch.setattr(npe2.get_context(PLUGIN), "_activated", False)
    # napari activates the plugin when it is first used: then the Help menu has the guide
    click(viewer.window.file_menu, f"{PLUGIN}.cells", "napari/file/samples")

    # a local guide (a folder, as `mkdocs build` writes it)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html></html>")
    monkeypatch.setenv("LIGHTMIC_GUIDE", str(site))
    action = click(viewer.window.help_menu, GUIDE, "napari/help")
    assert action.text() == "napari-lightmic guide"
    assert browsed == [(site / "index.html").as_uri()]

    # none built: the online guide; also from the command palette (app-model)
    monkeypatch.delenv("LIGHTMIC_GUIDE")
    monkeypatch.setattr(guide, "LOCAL_GUIDE", tmp_path / "absent" / "index.html")
    click(viewer.window.help_menu, GUIDE, "napari/help")
    get_app_model().commands.execute_command(GUIDE).result()
    assert browsed[1:] == [guide.GUIDE_URL, guide.GUIDE_URL]
    assert guide.GUIDE_URL.startswith("https://")
    no_exceptions(notifications)


# -- the reader ------------------------------------------------------------------------------

def test_reader_opens_through_viewer_open(make_napari_viewer, tmp_path, notifications):
    from napari_lightmic.synthetic import cells, write_ome_tiff

    path = write_ome_tiff(tmp_path / "small.ome.tif", cells((2, 64, 64), n_cells=3))
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin=PLUGIN)
    assert [layer.name for layer in layers] == CELLS
    assert layers[0].metadata["lightmic"].session.source.reader
    assert layers[0].scale[-1] == pytest.approx(0.2)
    no_exceptions(notifications)


def test_reader_opens_a_drop_on_the_canvas(make_napari_viewer, notifications):
    from napari.plugins._npe2 import get_readers

    path = real_file(CZI)
    viewer = make_napari_viewer()
    assert list(get_readers(str(path))) == [PLUGIN]  # no reader dialog to answer
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    viewer.window._qt_viewer.dropEvent(event)
    assert [layer.name for layer in viewer.layers] == ["LED555", "LED470"]
    assert viewer.layers[0].metadata["lightmic"].session.source.format.name == "CZI"
    no_exceptions(notifications)


# -- the writers -----------------------------------------------------------------------------

def _writers():
    return [(w.display_name, w.filename_extensions[0]) for w in manifest().contributions.writers]


@pytest.mark.parametrize("how", ["layers.save", "File menu"])
@pytest.mark.parametrize(("display_name", "extension"), _writers())
def test_writers_through_napari_save_paths(display_name, extension, how, make_napari_viewer,
                                           tmp_path, dialogs, notifications, opened):
    from napari.plugins._npe2 import file_extensions_string_for_layers

    viewer = sample_viewer(make_napari_viewer)
    target = tmp_path / f"cells{extension}"
    if how == "layers.save":
        assert viewer.layers.save(str(target), plugin=PLUGIN) == [str(target)]
    else:  # File > Save Selected Layers…, the writer chosen by its filter in the dialog
        viewer.layers.select_all()
        filters, _ = file_extensions_string_for_layers(list(viewer.layers))
        [choice] = [f for f in filters.split(";;") if display_name in f]
        dialogs.save = (str(target), choice)
        click(viewer.window.file_menu, "napari.window.file.save_layers_dialog.selected")
        assert [kind for kind, _ in dialogs.asked] == ["save"]
    expected = sample_data(viewer)
    if extension.endswith(".zarr"):
        check_ome_zarr(target, expected)
    else:
        scene = opened(target).scenes[0]
        assert scene.channel_names == CELLS
        np.testing.assert_array_equal(np.asarray(scene.data).reshape(expected.shape), expected)
    no_exceptions(notifications)
