"""The Plate dock: an HCS plate's wells as a grid of buttons, row by column.

A well that holds images is a button; a place without one (or a well that cannot be read) is
disabled, its tooltip saying why. A click opens the well's fields at full resolution as
ordinary scenes, over their tiles of the plate's mosaic (or goes to them when they are open
already). The dock follows a `PlateBrowser` model: what it shows is set on the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..plate import PlateBrowser

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.viewer import Viewer

    from ..plate import Plate

BUTTON_WIDTH = 34  # px: a 384-well plate's 24 columns fit a wide dock


class PlateDock(QWidget):
    """The wells of the plate the model shows; clicking one opens its fields."""

    def __init__(self, napari_viewer: Viewer, model: PlateBrowser | None = None) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.model = model or PlateBrowser()
        self.buttons: dict[str, QPushButton] = {}
        self.title = QLabel("No plate: open an HCS plate (OME-Zarr)")
        self.title.setWordWrap(True)
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.model.changed.connect(self._rebuild)
        self.model.opened.connect(self._mark)
        self._rebuild()

    def _rebuild(self) -> None:
        """Lay out the model's plate: row and column names, a button per place."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.buttons.clear()
        plate = self.model.plate
        if plate is None:
            return
        fields = sum(len(w.fields) for w in plate.wells)
        acquisitions = len(plate.acquisitions)
        self.title.setText(
            f"{plate.name or 'Plate'}: {len(plate.rows)} × {len(plate.columns)}, "
            f"{len(plate.wells)} wells, {fields} fields"
            + (f", {acquisitions} acquisitions (Scenes panel)" if acquisitions > 1 else "")
            + "\nClick a well to open its fields at full resolution")
        self.title.setToolTip(self.model.path)
        for j, column in enumerate(plate.columns):
            self.grid.addWidget(QLabel(column), 0, j + 1)
        for i, row in enumerate(plate.rows):
            self.grid.addWidget(QLabel(row), i + 1, 0)
            for j, column in enumerate(plate.columns):
                well = plate.at(i, j)
                name = well.name if well is not None else f"{row}{column}"
                button = QPushButton(name)
                button.setFixedWidth(BUTTON_WIDTH)
                button.setCheckable(True)
                if well is None:
                    button.setEnabled(False)
                    button.setToolTip(f"{name}: no well with images here")
                elif well.problem or not well.fields:
                    button.setEnabled(False)
                    button.setToolTip(f"{name} ({well.path}): "
                                      f"{well.problem or 'the well lists no field'}")
                else:
                    count = len(well.fields)
                    button.setToolTip(f"{name} ({well.path}): {count} "
                                      f"field{'s' * (count != 1)}; click to open them")
                    button.clicked.connect(lambda _=False, n=name: self.open_well(n))
                self.buttons[name] = button
                self.grid.addWidget(button, i + 1, j + 1)
        for name in self.model.open_wells:
            self._mark(name)

    def _mark(self, name: str) -> None:
        """Show a well as open: checked and bold."""
        button = self.buttons.get(name)
        if button is None:
            return
        button.setChecked(True)
        font = button.font()
        font.setBold(True)
        button.setFont(font)

    def open_well(self, name: str) -> list[Layer]:
        """Open a well's fields (or go to them); the layers added. Errors become a notification."""
        from napari.utils.notifications import show_error

        from ..reading import read_error

        plate = self.model.plate
        if plate is None:
            return []
        try:
            added = open_well(self.viewer, plate, self.model.path, name)
        except Exception as exc:  # noqa: BLE001 the dock's boundary: one error notification
            from ..reading.ngff import member_path

            well = plate.well(name)
            where = member_path(self.model.path, well.path) if well else self.model.path
            show_error(str(read_error(where, exc)))
            button = self.buttons.get(name)
            if button is not None and name not in self.model.open_wells:
                button.setChecked(False)
            return []
        self.model.mark_open(name)
        return added


def open_well(viewer: Viewer, plate: Plate, path: str, name: str) -> list[Layer]:
    """Add a well's fields as scenes at full resolution, over their tiles; the layers added.

    Each field is an ordinary scene of the well (`open_image` of ``PLATE/A/1``); a field
    already in the viewer is not added again. The camera then fits the well's fields.
    """
    from .._napari.layer_group import follow_session, scene_layers
    from .._napari.layers import scene_layer_data
    from .._napari.plate import lay_over, slots
    from .._napari.reader import shared_session
    from .._napari.view import add_layer_data
    from ..reading.ngff import member_path

    well = plate.well(name)
    if well is None or plate.layout is None:
        raise LookupError(f"{path}: the plate has no well {name!r}")
    session = shared_session(member_path(path, well.path), viewer)
    places = slots(plate, well.name)
    added: list[Layer] = []
    shown: list[Layer] = []
    for scene in session.scenes:
        layers = scene_layers(viewer, session, scene.index)
        if not layers:
            layers = add_layer_data(viewer, scene_layer_data(session, scene))
            added.extend(layers)
            place = places.get(scene.name.rsplit(" field ", 1)[-1])
            if place is not None:
                lay_over(layers, scene, plate.layout.field_origin(well.row, well.column,
                                                                   place))
        shown.extend(layers)
    follow_session(viewer, session)
    if shown:
        viewer.fit_to_view(layers=shown)
    return added
