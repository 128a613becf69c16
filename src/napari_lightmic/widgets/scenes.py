"""The scene picker: every scene of a file with its name, shape, pixel size and a thumbnail."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QSize
from qtpy.QtGui import QIcon, QImage, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .._napari.reader import shared_session
from ..errors import LightmicReadError
from ..scene.thumbnail import THUMB_SIDE, thumbnail

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.qt.threading import GeneratorWorker
    from napari.viewer import Viewer

    from ..model import Scene
    from ..session import Session


def describe(scene: Scene) -> str:
    """Two lines of the picker: 'index: name', then shape, pixel size and mosaic tiles."""
    shape = scene.shape_text
    sizes = [f"{scene.physical_pixel_sizes[a]:.3g} {scene.units.get(a, '')}".strip()
             for a in ("X",) if scene.physical_pixel_sizes.get(a)]
    pixel = f"pixel {sizes[0]}" if sizes else "pixel size unknown"
    extra = f", {scene.mosaic.tiles} tiles" if scene.mosaic else ""
    return f"{scene.index}: {scene.name}\n{shape}, {pixel}{extra}"


class ScenePicker(QWidget):
    """The Scenes dock: a file's scenes with thumbnails; open the selected ones, or all."""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: Session | None = None
        self._worker: GeneratorWorker[tuple[int, np.ndarray], None, None] | None = None
        self.file_label = QLabel("No file")
        self.file_label.setWordWrap(True)
        choose = QPushButton("Choose file…")
        choose.clicked.connect(self._choose)
        self.scene_list = QListWidget()
        self.scene_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.scene_list.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.scene_list.itemDoubleClicked.connect(lambda item: self.open_scenes([self._row(item)]))
        self.open_selected_button = QPushButton("Open selected")
        self.open_selected_button.clicked.connect(
            lambda: self.open_scenes([self._row(i) for i in self.scene_list.selectedItems()]))
        self.open_all_button = QPushButton("Open all")
        self.open_all_button.setToolTip("Every scene, placed at its stage position when known")
        self.open_all_button.clicked.connect(
            lambda: self.open_scenes(range(self.scene_list.count())))
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_selected_button)
        buttons.addWidget(self.open_all_button)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(choose)
        layout.addLayout(top)
        layout.addWidget(self.scene_list, 1)
        layout.addLayout(buttons)

    def _row(self, item: QListWidgetItem) -> int:
        return self.scene_list.row(item)

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
        self.file_label.setText(f"{source.path}\n{len(source.scenes)} scene(s), "
                                f"{source.format.name}")
        self.scene_list.clear()
        for scene in opened.scenes:
            item = QListWidgetItem(describe(scene))
            self.scene_list.addItem(item)
        self._start_thumbnails(opened)

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
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def thumbnails_done(self) -> bool:
        """Whether no thumbnail is being made."""
        return self._worker is None or not self._worker.is_running

    def open_scenes(self, indices: Iterable[int]) -> list[Layer]:
        """Add these scenes of the listed file to the viewer; the layers added."""
        from .._napari.layer_group import follow_session
        from .._napari.layers import scene_layer_data
        from .._napari.view import add_layer_data

        session = self.session
        if session is None:  # no file listed: no scene to open
            return []
        added: list[Layer] = []
        for index in indices:
            scene = session.effective_scene(index)
            added.extend(add_layer_data(self.viewer, scene_layer_data(session, scene)))
        follow_session(self.viewer, session)
        return added
