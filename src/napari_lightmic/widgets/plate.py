"""The Plate dock: an HCS plate's wells as a grid of buttons, row by column.

A well that holds images is a button; a place without one (or a well that cannot be read) is
disabled, its tooltip saying why. A click opens the well's fields at full resolution as
ordinary scenes, over their tiles of the plate's mosaic (or goes to them when they are open
already). The dock follows a `PlateBrowser` model: what it shows is set on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qtpy.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..plate import PlateBrowser

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.viewer import Viewer

    from .._napari.reader import LayerData
    from ..plate import Plate
    from ..session import Session

BUTTON_WIDTH = 34  # px: a 384-well plate's 24 columns fit a wide dock


class PlateDock(QWidget):
    """The wells of the plate the model shows; clicking one opens its fields."""

    def __init__(self, napari_viewer: Viewer, model: PlateBrowser | None = None) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.model = model or PlateBrowser()
        self.buttons: dict[str, QPushButton] = {}
        self.reading: set[str] = set()  # the wells (paths) whose fields are being read
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
        try:
            button.setChecked(True)
            font = button.font()
            font.setBold(True)
            button.setFont(font)
        except RuntimeError:  # the dock was closed and deleted (a well read meanwhile)
            pass

    def open_well(self, name: str) -> None:
        """Open a well's fields off the main thread (or go to them when they are open).

        The well's button waits meanwhile; the fields' layers are added on the main thread,
        and a well that cannot be read is one error notification.
        """
        from napari.qt.threading import thread_worker

        from ..reading.ngff import member_path

        plate = self.model.plate
        if plate is None:
            return
        try:
            wanted = well_wanted(self.viewer, plate, self.model.path, name)
        except Exception as exc:  # noqa: BLE001 the dock's boundary: one error notification
            well = plate.well(name)
            where = member_path(self.model.path, well.path) if well else self.model.path
            self._failed(plate, name, where, exc)
            return
        if wanted.path in self.reading:
            return
        if not wanted.missing:
            self._returned(wanted, ([], None))  # all shown: go there
            return

        # the error in a tuple: a worker that returns an exception raises it (superqt)
        @thread_worker
        def read() -> tuple[list[tuple[int, LayerData]], BaseException | None]:
            try:
                return read_well(wanted), None
            except Exception as exc:  # noqa: BLE001 thread's end: reported on the main thread
                return [], exc

        self._set_reading(wanted, True)
        # connected as the worker is made: an "errored" handler given later would leave
        # superqt's default one
        read(_connect={"returned": lambda result: self._returned(wanted, result),
                       "finished": lambda: self._set_reading(wanted, False)})  # starts it

    def _button(self, plate: Plate, name: str) -> QPushButton | None:
        """The well's button, while the dock shows that plate."""
        return self.buttons.get(name) if plate is self.model.plate else None

    def _set_reading(self, wanted: WellWanted, reading: bool) -> None:
        """Mark a well as being read (its button waits) or done."""
        if reading:
            self.reading.add(wanted.path)
        else:
            self.reading.discard(wanted.path)
        button = self._button(wanted.plate, wanted.name)
        try:
            if button is not None:
                button.setEnabled(not reading)
        except RuntimeError:  # the dock was closed and deleted while reading
            pass

    def _returned(self, wanted: WellWanted,
                  result: tuple[list[tuple[int, LayerData]], BaseException | None]) -> None:
        """Add the fields read (or say why they could not be), on the main thread."""
        read, error = result
        if error is not None:
            self._failed(wanted.plate, wanted.name, wanted.path, error)
            return
        try:
            add_well(self.viewer, wanted, read)
        except Exception as exc:  # noqa: BLE001 the dock's boundary: one error notification
            self._failed(wanted.plate, wanted.name, wanted.path, exc)
            return
        if wanted.plate is self.model.plate:  # not another plate shown meanwhile
            self.model.mark_open(wanted.name)

    def _failed(self, plate: Plate, name: str, where: str, exc: BaseException) -> None:
        """One error notification naming the well; its button unchecked."""
        from napari.utils.notifications import show_error

        from ..reading import read_error

        show_error(str(read_error(where, exc)))
        button = self._button(plate, name)
        try:
            if button is not None and name not in self.model.open_wells:
                button.setChecked(False)
        except RuntimeError:  # the dock was closed and deleted while reading
            pass


@dataclass
class WellWanted:
    """A well to open: where its fields are, and the session showing them, if one does."""

    plate: Plate
    name: str
    path: str  # the well's own path (PLATE/A/1)
    session: Session | None  # the viewer's session of the well, None until opened
    shown: set[int]  # the fields (scene indices) the viewer shows already

    @property
    def missing(self) -> bool:
        """Whether a field of the well is not in the viewer (or the well is not opened)."""
        return self.session is None or len(self.shown) < len(self.session.scenes)


def well_wanted(viewer: Viewer, plate: Plate, path: str, name: str) -> WellWanted:
    """The well `name` of the plate at `path`, with the session the viewer shows it in.

    On the main thread: looks at the viewer's layers, reads nothing.
    """
    from .._napari.layer_group import scene_layers
    from .._napari.reader import shown_session
    from ..reading.ngff import member_path

    well = plate.well(name)
    if well is None or plate.layout is None:
        raise LookupError(f"{path}: the plate has no well {name!r}")
    where = member_path(path, well.path)
    session = shown_session(where, viewer)
    shown = {scene.index for scene in session.scenes
             if scene_layers(viewer, session, scene.index)} if session is not None else set()
    return WellWanted(plate, name, where, session, shown)


def read_well(wanted: WellWanted) -> list[tuple[int, LayerData]]:
    """Open the well (unless the viewer has it) and read its fields' layer data.

    Off the main thread: the fields' metadata and the planes their contrast is estimated
    from are read here (over HTTP for a remote plate).
    """
    from .._napari.layers import scene_layer_data
    from ..session import Session

    opened = wanted.session is None
    session = wanted.session = wanted.session or Session.open(wanted.path)
    try:
        return [(scene.index, scene_layer_data(session, scene)) for scene in session.scenes
                if scene.index not in wanted.shown]
    except BaseException:
        if opened:  # no layer will show it: its files are closed
            session.source.close()
            wanted.session = None
        raise


def add_well(viewer: Viewer, wanted: WellWanted,
             read: list[tuple[int, LayerData]]) -> list[Layer]:
    """Add the well's fields read, over their tiles; the layers added.

    A field already in the viewer is not added again. The camera then fits the fields.
    """
    from .._napari.layer_group import follow_session, scene_layers
    from .._napari.plate import lay_over, slots
    from .._napari.view import add_layer_data

    plate, session = wanted.plate, wanted.session
    well = plate.well(wanted.name)
    if session is None or well is None or plate.layout is None:
        return []
    places = slots(plate, well.name)
    data = dict(read)
    added: list[Layer] = []
    shown: list[Layer] = []
    for scene in session.scenes:
        layers = scene_layers(viewer, session, scene.index)
        if not layers and scene.index in data:
            layers = add_layer_data(viewer, data[scene.index])
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

