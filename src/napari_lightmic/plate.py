"""An HCS plate as its NGFF metadata describes it: rows, columns, wells, fields, acquisitions.

Built from the plate's and the wells' JSON (`plate_from_json`, `fields_from_json`) without
any I/O: the reader (reading/ngff.py) fetches that JSON and opens the fields. `PlateLayout`
says where wells and fields sit in the plate's mosaic, and `PlateBrowser` is what the Plate
dock shows, as a model the dock follows (Qt-free: psygnal events). (`model.Well` is another
thing: the well a scene of a vendor file records, which `lightmic convert` writes as a plate.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from psygnal import Signal

MAX_WELLS = 100_000  # places on a plate read at most: metadata declaring more is refused
MAX_FIELDS = 10_000  # images of a well read at most: a well listing more is refused


@dataclass(frozen=True)
class PlateAcquisition:
    """One acquisition (a run of the plate through the microscope)."""

    id: int
    name: str


@dataclass(frozen=True)
class WellField:
    """One field of view of a well: an NGFF image at `path` inside the well ('0')."""

    path: str
    acquisition: int | None = None  # as the well's metadata says, where it says


@dataclass(frozen=True)
class PlateWell:
    """A well of the plate, at `row` and `column` (0-based), its images at `path` ('A/1')."""

    row: int
    column: int
    path: str
    name: str  # the row's and column's names: 'A1'
    fields: tuple[WellField, ...] = ()
    problem: str | None = None  # why the well's metadata could not be used, when it could not


@dataclass(frozen=True)
class PlateLayout:
    """Where wells and fields sit in the plate's mosaic, in full-resolution pixels.

    Wells in their row and column; inside a well, fields in a grid of `field_rows` ×
    `field_columns` tiles of `field_height` × `field_width` (each field at its tile's top
    left); `gap` pixels after each well, to the right and below.
    """

    field_height: int
    field_width: int
    field_rows: int
    field_columns: int
    gap: int

    @property
    def cell_height(self) -> int:
        """The height of a well's cell, its gap included."""
        return self.field_rows * self.field_height + self.gap

    @property
    def cell_width(self) -> int:
        """The width of a well's cell, its gap included."""
        return self.field_columns * self.field_width + self.gap

    def cell_origin(self, row: int, column: int) -> tuple[int, int]:
        """The top-left corner (y, x) of a well's cell."""
        return row * self.cell_height, column * self.cell_width

    def field_origin(self, row: int, column: int, slot: int) -> tuple[int, int]:
        """The top-left corner (y, x) of the `slot`-th field of a well."""
        y, x = self.cell_origin(row, column)
        return (y + (slot // self.field_columns) * self.field_height,
                x + (slot % self.field_columns) * self.field_width)


@dataclass(frozen=True)
class Plate:
    """A plate: its grid of rows and columns, the wells that hold images, the acquisitions."""

    name: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    wells: tuple[PlateWell, ...]
    acquisitions: tuple[PlateAcquisition, ...] = ()
    layout: PlateLayout | None = None  # set when the mosaic is built
    notes: tuple[str, ...] = ()  # what the metadata got wrong that the reader worked around

    def well(self, key: str) -> PlateWell | None:
        """A well by its name ('A1') or path ('A/1')."""
        return next((w for w in self.wells if key in (w.name, w.path)), None)

    def at(self, row: int, column: int) -> PlateWell | None:
        """The well at a row and column, if the plate lists one there."""
        return self._places.get((row, column))

    @cached_property
    def _places(self) -> dict[tuple[int, int], PlateWell]:
        return {(w.row, w.column): w for w in self.wells}

    def acquisition_of(self, image: WellField) -> int | None:
        """The acquisition a field belongs to: its own where declared, else the only one.

        None for a field of no declared acquisition on a plate of several (or of none).
        """
        ids = [a.id for a in self.acquisitions]
        if image.acquisition in ids:
            return image.acquisition
        return ids[0] if len(ids) == 1 else None

    @property
    def groups(self) -> list[int | None]:
        """What the plate shows as scenes: each acquisition, and None for fields of none."""
        ids: list[int | None] = [a.id for a in self.acquisitions]
        orphans = any(self.acquisition_of(f) is None for w in self.wells for f in w.fields)
        return ids + [None] if orphans or not ids else ids

    def group_name(self, group: int | None) -> str:
        """The name a group's scene takes."""
        if group is None:
            return "Fields of no acquisition" if self.acquisitions else (self.name or "Plate")
        found = next((a for a in self.acquisitions if a.id == group), None)
        return found.name if found is not None and found.name else f"Acquisition {group}"

    def fields_of(self, well: PlateWell, group: int | None) -> list[WellField]:
        """A well's fields of one group (an acquisition id, or None), in the well's order."""
        return [f for f in well.fields if self.acquisition_of(f) == group]

    @property
    def most_fields(self) -> int:
        """The most fields a well holds in any one group."""
        return max((len(self.fields_of(w, g)) for w in self.wells for g in self.groups),
                   default=0)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _names(meta: dict[str, Any], key: str) -> tuple[str, ...]:
    items = meta.get(key)
    if not isinstance(items, list) or not items:
        raise ValueError(f"the plate metadata has no {key!r}")
    return tuple(_text(item.get("name")) if isinstance(item, dict) else _text(item)
                 for item in items)


def plate_from_json(meta: object) -> Plate:
    """The plate as its metadata ('plate' of the root group) describes it, wells not yet read.

    Lenient: a well whose place cannot be told is left out, named in the plate's notes.

    Raises
    ------
    ValueError
        If the metadata is not an object or names no rows or columns.
    """
    if not isinstance(meta, dict):
        raise ValueError("the 'plate' metadata is not a JSON object")
    rows, columns = _names(meta, "rows"), _names(meta, "columns")
    if len(rows) * len(columns) > MAX_WELLS:
        raise ValueError(f"the plate declares {len(rows)} × {len(columns)} wells, more than "
                         f"{MAX_WELLS:,} (a 1536-well plate has 32 × 48)")
    wells: list[PlateWell] = []
    notes: list[str] = []
    seen: set[tuple[int, int]] = set()
    for item in meta.get("wells") or []:
        path = item.get("path") if isinstance(item, dict) else None
        if not isinstance(path, str) or not path.strip("/"):
            notes.append(f"a well without a path was left out ({item!r:.60})")
            continue
        path = path.strip("/")
        if not _inside(path):
            notes.append(f"well {path!r} was left out: its path leaves the plate")
            continue
        row, column = item.get("rowIndex"), item.get("columnIndex")
        row = None if isinstance(row, bool) else row  # JSON true is not a row
        column = None if isinstance(column, bool) else column
        parts = path.split("/")
        if not isinstance(row, int) and len(parts) == 2 and parts[0] in rows:
            row = rows.index(parts[0])  # NGFF 0.3 and before: the place by the path's names
        if not isinstance(column, int) and len(parts) == 2 and parts[1] in columns:
            column = columns.index(parts[1])
        if not (isinstance(row, int) and isinstance(column, int)
                and 0 <= row < len(rows) and 0 <= column < len(columns)):
            notes.append(f"well {path!r} was left out: its row or column is not on the plate")
            continue
        if (row, column) in seen:
            notes.append(f"well {path!r} was left out: another well has its place")
            continue
        seen.add((row, column))
        wells.append(PlateWell(row, column, path, f"{rows[row]}{columns[column]}"))
    acquisitions = []
    for item in meta.get("acquisitions") or []:
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, int) and not isinstance(ident, bool):
            acquisitions.append(PlateAcquisition(ident, _text(item.get("name"))))
    wells.sort(key=lambda w: (w.row, w.column))
    return Plate(name=_text(meta.get("name")), rows=rows, columns=columns, wells=tuple(wells),
                 acquisitions=tuple(acquisitions), notes=tuple(notes))


def fields_from_json(meta: object) -> tuple[WellField, ...]:
    """A well's fields as its metadata ('well') lists them.

    Raises
    ------
    ValueError
        If the metadata is not an object listing images, or lists more than `MAX_FIELDS`.
    """
    images = meta.get("images") if isinstance(meta, dict) else None
    if not isinstance(images, list):
        raise ValueError("its metadata lists no 'images'")
    if len(images) > MAX_FIELDS:
        raise ValueError(f"it lists {len(images):,} images, more than {MAX_FIELDS:,} "
                         "(each is opened to show the well)")
    out = []
    for item in images:
        path = item.get("path") if isinstance(item, dict) else None
        if isinstance(path, str) and path.strip("/") and _inside(path.strip("/")):
            acquisition = item.get("acquisition")
            out.append(WellField(path.strip("/"), acquisition if isinstance(acquisition, int)
                             and not isinstance(acquisition, bool) else None))
    return tuple(out)


def _inside(path: str) -> bool:
    """A path below its group: no empty, '.' or '..' part, no backslash."""
    return "\\" not in path and all(part not in ("", ".", "..") for part in path.split("/"))


def field_grid(count: int) -> tuple[int, int]:
    """Rows and columns of the near-square grid that holds `count` fields in a well."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / columns)), columns


def describe_plate(plate: Plate) -> dict[str, Any]:
    """The plate as JSON data: what `lightmic info --json` lists under 'plate'."""
    return {
        "name": plate.name,
        "rows": list(plate.rows),
        "columns": list(plate.columns),
        "acquisitions": [{"id": a.id, "name": a.name} for a in plate.acquisitions],
        "wells": [{"name": w.name, "path": w.path, "row": w.row, "column": w.column,
                   "fields": [{"path": f.path, "acquisition": plate.acquisition_of(f)}
                              for f in w.fields],
                   "problem": w.problem} for w in plate.wells],
    }


class PlateBrowser:
    """What the Plate dock shows: a plate, where it is, and which wells are open.

    Events
    ------
    changed()
        Another plate is shown.
    opened(name)
        A well's fields were opened.
    """

    changed = Signal()
    opened = Signal(str)

    def __init__(self) -> None:
        self.plate: Plate | None = None
        self.path = ""
        self.open_wells: set[str] = set()

    def show(self, plate: Plate, path: str) -> None:
        """Show another plate (none of its wells open)."""
        if plate is self.plate and path == self.path:
            return
        self.plate, self.path, self.open_wells = plate, path, set()
        self.changed.emit()

    def mark_open(self, name: str) -> None:
        """Note that a well's fields are open."""
        if name not in self.open_wells:
            self.open_wells.add(name)
            self.opened.emit(name)
