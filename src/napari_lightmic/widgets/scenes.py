"""The scene picker: every scene of a file with its name, shape, pixel size and a thumbnail.

Scenes already in the viewer are marked (and followed as layers come and go); opening adds
only the scenes not yet open; "Go to scene" fits the camera to a scene at its stage position.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QSize, Qt, Signal
from qtpy.QtGui import QColor, QIcon, QImage, QKeyEvent, QPainter, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .._napari.layer_ref import ref_of
from .._napari.reader import LayerData, shared_session
from ..errors import LightmicReadError
from ..reading import read_error
from ..scene.thumbnail import THUMB_SIDE, thumbnail

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.qt.threading import GeneratorWorker
    from napari.utils.events import Event
    from napari.viewer import Viewer

    from ..model import Scene
    from ..session import Session

OPEN_MARK = "(open)"
# Axes a microscopist may not know by their letter (liffile's names for Leica's sweeps)
AXIS_NOTES = {
    "λ": "λ: emission wavelength sweep (lambda scan; detection band stepped)",
    "Λ": "Λ: excitation wavelength sweep (the excitation laser line stepped)",
}


def describe(scene: Scene) -> str:
    """Two lines of the picker: 'index: name', then shape, pixel size and mosaic tiles."""
    shape = scene.shape_text
    sizes = [f"{scene.physical_pixel_sizes[a]:.3g} {scene.units.get(a, '')}".strip()
             for a in ("X",) if scene.physical_pixel_sizes.get(a)]
    pixel = f"pixel {sizes[0]}" if sizes else "pixel size unknown"
    extra = f", {scene.mosaic.tiles} tiles" if scene.mosaic else ""
    return f"{scene.index}: {scene.name}\n{shape}, {pixel}{extra}"


def axis_notes(scene: Scene) -> list[str]:
    """What the scene's unusual axis letters mean (λ, Λ), one line each."""
    return [note for axis, note in AXIS_NOTES.items() if scene.size(axis) > 1]


class SceneList(QListWidget):
    """The list of scenes; Enter or Return asks to open the selected ones."""

    entered = Signal()

    def keyPressEvent(self, event: QKeyEvent | None) -> None:  # noqa: N802 Qt's name
        """Enter/Return: open the selection; other keys as a list does."""
        if event is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.entered.emit()
            event.accept()
            return
        super().keyPressEvent(event)


def _slot(image: QImage | None = None) -> QIcon:
    """A square icon of the thumbnail size: the image centred in it, or empty."""
    pixmap = QPixmap(THUMB_SIDE, THUMB_SIDE)
    pixmap.fill(QColor(0, 0, 0, 0))
    if image is not None:
        painter = QPainter(pixmap)
        painter.drawImage((THUMB_SIDE - image.width()) // 2,
                          (THUMB_SIDE - image.height()) // 2, image)
        painter.end()
    return QIcon(pixmap)


class ScenePicker(QWidget):
    """The Scenes dock: a file's scenes with thumbnails; open the selected ones, or all."""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: Session | None = None
        self._opening = False  # scenes being read for the viewer
        self._worker: GeneratorWorker[tuple[int, np.ndarray], None, None] | None = None
        self.file_label = QLabel("No file")
        self.file_label.setWordWrap(True)
        choose = QPushButton("Choose file…")
        choose.clicked.connect(self._choose)
        self.scene_list = SceneList()
        self.scene_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.scene_list.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        # rows as wide as the dock: long text wraps, no horizontal scrolling
        self.scene_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scene_list.setWordWrap(True)
        self.scene_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.scene_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.scene_list.setToolTip("Enter or double-click: open the selected scenes")
        self.scene_list.itemDoubleClicked.connect(lambda item: self.activate([self._row(item)]))
        self.scene_list.entered.connect(lambda: self.activate(self.selected_rows()))
        self.open_selected_button = QPushButton("Open selected")
        self.open_selected_button.setToolTip("Add the selected scenes not yet in the viewer")
        self.open_selected_button.clicked.connect(
            lambda: self.open_in_background(self.selected_rows()))
        self.open_all_button = QPushButton("Open all")
        self.open_all_button.setToolTip(
            "Every scene not yet in the viewer, placed at its stage position when known")
        self.open_all_button.clicked.connect(
            lambda: self.open_in_background(range(self.scene_list.count())))
        self.go_to_button = QPushButton("Go to scene")
        self.go_to_button.setToolTip(
            "Centre and zoom the view on the selected scenes (opening them if needed)")
        self.go_to_button.clicked.connect(lambda: self.go_to(self.selected_rows()))
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_selected_button)
        buttons.addWidget(self.open_all_button)
        buttons.addWidget(self.go_to_button)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(choose)
        layout.addLayout(top)
        layout.addWidget(self.scene_list, 1)
        layout.addLayout(buttons)
        self._follow_layers(napari_viewer)

    def _follow_layers(self, viewer: Viewer) -> None:
        """Mark open scenes anew whenever layers are added or removed."""
        picker = weakref.ref(self)

        def changed(_event: Event) -> None:
            shown = picker()
            if shown is None:
                return
            try:
                shown.mark_open_scenes()
            except RuntimeError:  # the dock was closed and its Qt side deleted
                viewer.layers.events.inserted.disconnect(changed)
                viewer.layers.events.removed.disconnect(changed)

        viewer.layers.events.inserted.connect(changed)
        viewer.layers.events.removed.connect(changed)

    def _row(self, item: QListWidgetItem) -> int:
        return self.scene_list.row(item)

    def selected_rows(self) -> list[int]:
        """The rows selected in the list, top to bottom."""
        return sorted(self._row(item) for item in self.scene_list.selectedItems())

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a light-microscopy file")
        if path:
            self.set_path(path)

    def set_path(self, path: str | os.PathLike[str], session: Session | None = None) -> None:
        """List the scenes of a file (metadata only); thumbnails follow in the background.

        `session`: the file as already opened for the viewer's layers.
        """
        from napari.utils.notifications import show_error

        try:
            opened = session if session is not None else shared_session(path, self.viewer)
        except LightmicReadError as err:
            show_error(str(err))
            return
        self.session = opened
        source = opened.source
        n = len(source.scenes)
        self.file_label.setText(f"{Path(source.path).name}\n{n} scene{'s' * (n != 1)}, "
                                f"{source.format.name}")
        self.file_label.setToolTip(source.path)
        self.scene_list.clear()
        for scene in opened.scenes:
            item = QListWidgetItem(_slot(), describe(scene))
            self.scene_list.addItem(item)
        self.mark_open_scenes()
        self._start_thumbnails(opened)

    def open_indices(self) -> set[int]:
        """The scenes of the listed file that layers in the viewer show."""
        refs = (ref_of(layer) for layer in self.viewer.layers)
        return {ref.scene for ref in refs if ref is not None and ref.session is self.session}

    def mark_open_scenes(self) -> None:
        """Show which scenes are in the viewer: bold, '(open)', and said in the tooltip."""
        session = self.session
        if session is None:
            return
        shown = self.open_indices()
        for row in range(self.scene_list.count()):
            item = self.scene_list.item(row)
            if item is None or row >= len(session.scenes):  # every row is a scene
                continue
            scene = session.scenes[row]
            is_open = row in shown
            first, rest = describe(scene).split("\n", 1)
            item.setText(f"{first}  {OPEN_MARK}\n{rest}" if is_open else f"{first}\n{rest}")
            font = item.font()
            font.setBold(is_open)
            item.setFont(font)
            tip = [f"{scene.index}: {scene.name}",
                   "in the viewer (Go to scene to show it)" if is_open
                   else "not open: Enter or double-click to open it", *axis_notes(scene)]
            item.setToolTip("\n".join(tip))

    def _start_thumbnails(self, session: Session) -> None:
        from napari.qt.threading import thread_worker

        scenes = list(session.source.scenes)

        @thread_worker
        def make() -> Generator[tuple[int, np.ndarray], None, None]:
            for scene in scenes:
                try:
                    yield scene.index, thumbnail(scene)
                except Exception:  # noqa: BLE001 worker's end: a thumbnail is a nicety
                    continue

        self._worker = make()
        self._worker.yielded.connect(self._set_thumbnail)
        self._worker.start()

    def _set_thumbnail(self, result: tuple[int, np.ndarray]) -> None:
        index, rgb = result
        if index >= self.scene_list.count():
            return
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        # PyQt takes any buffer; its stubs ask for bytes
        image = QImage(rgb.data, w, h, 3 * w,  # type: ignore[call-overload]
                       QImage.Format.Format_RGB888).copy()
        item = self.scene_list.item(index)
        if item is not None:  # always listed: the index is below the count
            item.setIcon(_slot(image))

    def thumbnails_done(self) -> bool:
        """Whether no thumbnail is being made."""
        return self._worker is None or not self._worker.is_running

    def open_scenes(self, indices: Iterable[int]) -> list[Layer]:
        """Add the scenes among these that the viewer does not show yet; the layers added.

        Reads on the calling thread; the dock's buttons and keys use `open_in_background`.
        """
        from .._napari.layers import scene_layer_data

        session = self.session
        if session is None:  # no file listed: no scene to open
            return []
        missing = self._missing(indices)
        return self._add(session, [(i, scene_layer_data(session, session.effective_scene(i)))
                                   for i in missing])

    def _missing(self, indices: Iterable[int]) -> list[int]:
        """These scenes, once each, without those the viewer shows."""
        shown = self.open_indices()
        return [i for i in dict.fromkeys(indices) if i not in shown]

    def _add(self, session: Session, read: list[tuple[int, LayerData]]) -> list[Layer]:
        """Add layers read for scenes of `session`, but not those of a scene shown meanwhile."""
        from .._napari.layer_group import follow_session
        from .._napari.view import add_layer_data

        added: list[Layer] = []
        shown = {ref.scene for ref in map(ref_of, self.viewer.layers)
                 if ref is not None and ref.session is session}
        for index, layer_data in read:
            if index not in shown:
                shown.add(index)
                added.extend(add_layer_data(self.viewer, layer_data))
        follow_session(self.viewer, session)
        return added

    def open_in_background(self, indices: Iterable[int], go: bool = False) -> None:
        """Read the scenes not yet open off the main thread, then add their layers.

        `go`: then centre and zoom the view on all of `indices`. Buttons wait meanwhile.
        """
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        from .._napari.layers import scene_layer_data

        session = self.session
        rows = list(indices)
        if session is None or not rows or self._opening:
            return
        missing = self._missing(rows)
        if not missing:
            if go:
                self._fit(rows)
            return

        @thread_worker
        def read() -> tuple[list[tuple[int, LayerData]], BaseException | None]:
            done: list[tuple[int, LayerData]] = []
            try:
                for index in missing:
                    done.append((index, scene_layer_data(session,
                                                         session.effective_scene(index))))
            except Exception as exc:  # noqa: BLE001 thread's end: reported on the main thread
                return done, exc
            return done, None

        def returned(result: tuple[list[tuple[int, LayerData]], BaseException | None]) -> None:
            layer_data, error = result
            self._add(session, layer_data)
            if error is not None:
                show_error(str(read_error(session.path, error)))
            if go:
                self._fit(rows)

        def finished() -> None:
            try:
                self._set_opening(False)
            except RuntimeError:  # the dock was closed and deleted while reading
                return

        self._set_opening(True)
        # connected as the worker is made: an "errored" handler given later would leave
        # superqt's default one
        read(_connect={"returned": returned, "finished": finished})  # starts it

    def _set_opening(self, opening: bool) -> None:
        self._opening = opening
        for button in (self.open_selected_button, self.open_all_button, self.go_to_button):
            button.setEnabled(not opening)

    def opening_done(self) -> bool:
        """Whether no scene is being read for the viewer."""
        return not self._opening

    def activate(self, indices: Iterable[int]) -> None:
        """Enter or double-click: open these scenes; if all are open already, go to them."""
        rows = list(indices)
        if rows and not self._missing(rows):
            self._fit(rows)
        else:
            self.open_in_background(rows)

    def go_to(self, indices: Iterable[int]) -> None:
        """Centre and zoom the camera on these scenes (opened first where not yet open)."""
        self.open_in_background(indices, go=True)

    def _fit(self, rows: list[int]) -> None:
        """Centre and zoom the camera on the layers of these scenes."""
        from .._napari.layer_group import scene_layers

        session = self.session
        if session is None:
            return
        layers = [layer for row in rows for layer in scene_layers(self.viewer, session, row)]
        if layers:
            self.viewer.fit_to_view(layers=layers)
