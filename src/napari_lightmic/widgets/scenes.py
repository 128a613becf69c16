"""The scene picker: every scene of a file with its name, shape, pixel size and a thumbnail."""

from __future__ import annotations

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


def describe(scene) -> str:
    shape = scene.shape_text
    sizes = [f"{scene.physical_pixel_sizes[a]:.3g} {scene.units.get(a, '')}".strip()
             for a in ("X",) if scene.physical_pixel_sizes.get(a)]
    pixel = f"pixel {sizes[0]}" if sizes else "pixel size unknown"
    extra = f", {scene.mosaic.tiles} tiles" if scene.mosaic else ""
    return f"{scene.index}: {scene.name}\n{shape}, {pixel}{extra}"


class ScenePicker(QWidget):
    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session = None
        self._worker = None
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

    def _row(self, item) -> int:
        return self.scene_list.row(item)

    def _choose(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open a light-microscopy file")
        if path:
            self.set_path(path)

    def set_path(self, path, session=None) -> None:
        """List the scenes of a file (metadata only); thumbnails follow in the background.
        `session`: the file as already opened for the viewer's layers.
        """
        from napari.utils.notifications import show_error

        try:
            self.session = session if session is not None else shared_session(path, self.viewer)
        except LightmicReadError as err:
            show_error(str(err))
            return
        source = self.session.source
        self.file_label.setText(f"{source.path}\n{len(source.scenes)} scene(s), "
                                f"{source.format.name}")
        self.scene_list.clear()
        for scene in self.session.scenes:
            item = QListWidgetItem(describe(scene))
            self.scene_list.addItem(item)
        self._start_thumbnails()

    def _start_thumbnails(self):
        from napari.qt.threading import thread_worker

        scenes = list(self.session.source.scenes)

        @thread_worker
        def make():
            for scene in scenes:
                try:
                    yield scene.index, thumbnail(scene)
                except Exception:  # a thumbnail is a nicety; the scene stays listed
                    continue

        self._worker = make()
        self._worker.yielded.connect(self._set_thumbnail)
        self._worker.start()

    def _set_thumbnail(self, result):
        index, rgb = result
        if index >= self.scene_list.count():
            return
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.scene_list.item(index).setIcon(QIcon(QPixmap.fromImage(image)))

    def thumbnails_done(self) -> bool:
        return self._worker is None or not self._worker.is_running

    def open_scenes(self, indices) -> list:
        from .._napari.layer_group import follow_session
        from .._napari.layers import scene_layer_data
        from .._napari.view import add_layer_data

        added = []
        for index in indices:
            scene = self.session.effective_scene(index)
            added.extend(add_layer_data(self.viewer, scene_layer_data(self.session, scene)))
        follow_session(self.viewer, self.session)
        return added
