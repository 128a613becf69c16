"""What an opened file says: its scenes, their axes, physical sizes and channels.

Readers build these records once; they are frozen. What the user changes lives in a
`Session` (session.py), which derives edited views with `dataclasses.replace`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import paths

if TYPE_CHECKING:
    from datetime import datetime

    import dask.array as da
    from ome_types import OME
    from ome_types.model import Experimenter, Instrument

    from .formats import FileFormat
    from .plate import Plate
    from .rois.model import Roi
    from .scene.chunked import LazyPixels


@dataclass(frozen=True)
class Acquisition:
    """How an image was acquired, as the vendor's metadata says (OME objects)."""

    instrument: Instrument | None = None
    acquisition_date: datetime | None = None
    experimenters: tuple[Experimenter, ...] = ()
    acquisition_mode: str | None = None  # an OME Channel AcquisitionMode value


@dataclass(frozen=True)
class Channel:
    """One channel of a scene, as the file records it."""

    name: str  # the file's name, else a default ('Channel 0') shown to the user
    color: str  # '#RRGGBB'
    contrast_limits: tuple[float, float] | None = None  # from the file's display settings
    gamma: float | None = None  # from the file's display settings (None: 1, linear)
    excitation_nm: float | None = None
    emission_nm: float | None = None
    fluor: str | None = None
    # False when the file records no name and `name` is a default: exports then write no
    # OME Name, so a reader can tell a recorded name from a made-up one
    named: bool = True

    def renamed(self, name: str) -> Channel:
        """Give the channel a name from the user (recorded from now on)."""
        return self if name == self.name else replace(self, name=name, named=True)


@dataclass(frozen=True)
class Mosaic:
    """How the tiles of a mosaic scene were placed."""

    tiles: int
    stitched: bool = True
    placement: str = "stage position"  # how tiles were placed


@dataclass(frozen=True)
class Well:
    """The plate well a scene was acquired in, as the file records it (0-based indices)."""

    row: int
    column: int
    field: int | None = None  # the field (site) within the well, where recorded

    @property
    def on_plate(self) -> bool:
        """Whether the well is on a plate of at most 32 rows and 48 columns (1536 wells)."""
        return 0 <= self.row < MAX_ROWS and 0 <= self.column < MAX_COLUMNS

    @property
    def name(self) -> str:
        """The well's name: row letters and column number ('D6')."""
        return f"{row_name(self.row)}{self.column + 1}"


# The largest plates (1536 wells): rows A..AF, columns 1..48. A well a file places beyond is
# not taken as one (`Well.on_plate`).
MAX_ROWS = 32
MAX_COLUMNS = 48


def row_name(row: int) -> str:
    """A plate row's letters from its index: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    return chr(ord("A") + row) if row < 26 else "A" + chr(ord("A") + row - 26)


@dataclass(frozen=True, eq=False)
class Scene:
    """One image of a file (a CZI scene, a LIF image, an ND2 position, an OME series).

    Frozen: an edited scene is another `Scene` (`dataclasses.replace`). Lists given for
    `channels`, `notes` and `pyramid` are kept as tuples.
    """

    index: int
    name: str
    # lazy; one axis per letter of `dims`: a reader's `ChunkedArray` (read without dask) or a
    # dask array; `data` is it as dask
    pixels: LazyPixels
    dims: str  # e.g. 'TCZYX'; extra axes keep their own letters (H phase, λ/Λ lambda, S samples)
    physical_pixel_sizes: dict[str, float | None]  # per axis, in `units`; None = unknown
    units: dict[str, str]  # per axis with a known size
    channels: Sequence[Channel]  # kept as a tuple
    mosaic: Mosaic | None = None
    stage_position: dict[str, float] | None = None  # top-left corner, in `units`
    notes: Sequence[str] = ()  # what the reader did that the user should know (a tuple)
    # Lower resolutions of `pixels` (same axes, Y and X smaller), largest first; empty if none.
    pyramid: Sequence[LazyPixels] = ()
    # Label images (segmentations) belonging to this scene, by name; same axes, C of size one.
    labels: dict[str, da.Array] = field(default_factory=dict)
    # Each label image's colours where the file gives them: label value -> RGBA, 0-255
    label_colors: dict[str, dict[int, tuple[int, int, int, int]]] = field(default_factory=dict)
    # Which Image of the source's OME this scene is, where that is not `index` (an OME-TIFF
    # whose OME-XML also lists images without pixels)
    ome_index: int | None = None
    # What an extra axis is, in words, where its letter alone would not tell a user
    # ({'H': 'Airyscan detector element'}); shown as the axis label
    axis_names: dict[str, str] = field(default_factory=dict)
    # The plate well the file records for the scene (None: not a plate, or not recorded)
    well: Well | None = None
    # The regions of interest to write with the scene, in its full-resolution pixels: set by
    # a session (the file's with the user's added) or by napari's layers. None: the file's
    # own, as its OME-XML records them (`rois.ome.file_rois`), read only when asked.
    rois: Sequence[Roi] | None = None

    def __post_init__(self) -> None:
        """Keep sequences as tuples and the size maps as the scene's own."""
        if self.rois is not None and not isinstance(self.rois, tuple):
            object.__setattr__(self, "rois", tuple(self.rois))
        for name in ("channels", "notes", "pyramid"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        for name in ("physical_pixel_sizes", "units", "axis_names"):  # not the reader's
            object.__setattr__(self, name, dict(getattr(self, name)))

    @property
    def data(self) -> da.Array:
        """The pixels as one dask array (made when first asked: importing dask takes time)."""
        from .scene.chunked import as_dask

        return as_dask(self.pixels)

    @property
    def ome_image(self) -> int:
        """Which Image of the source's OME this scene is."""
        return self.index if self.ome_index is None else self.ome_index

    @property
    def shape(self) -> tuple[int, ...]:
        """The full-resolution shape, one size per letter of `dims`."""
        return tuple(int(n) for n in self.pixels.shape)

    @property
    def dtype(self) -> str:
        """The pixel type's name ('uint16')."""
        return str(self.pixels.dtype)

    @property
    def sizes(self) -> dict[str, int]:
        """Each axis letter with its size."""
        return dict(zip(self.dims, self.shape))

    @property
    def shape_text(self) -> str:
        """The axes that vary, and Y and X: 'C2 × Z5 × Y170 × X240'."""
        return " × ".join(f"{a}{n}" for a, n in self.sizes.items() if n > 1 or a in "YX")

    @property
    def rgb(self) -> bool:
        """Whether the last axis holds RGB(A) samples."""
        return self.dims.endswith("S") and self.sizes["S"] in (3, 4)

    @property
    def channel_names(self) -> list[str]:
        """The channels' names, in order."""
        return [c.name for c in self.channels]

    @property
    def channel_colors(self) -> list[str]:
        """The channels' colours ('#RRGGBB'), in order."""
        return [c.color for c in self.channels]

    def axis_label(self, axis: str) -> str:
        """How an axis is shown: its name in words where the reader gave one, else its letter."""
        return self.axis_names.get(axis, axis)

    def axis_letter(self, label: str) -> str:
        """The letter of an axis shown as `label` (the inverse of `axis_label`)."""
        return next((a for a, name in self.axis_names.items() if name == label), label)

    def size(self, axis: str) -> int:
        """The size of an axis (1 for an axis the scene does not have)."""
        return self.sizes.get(axis, 1)

    @property
    def levels(self) -> list[da.Array]:
        """Every resolution level as dask, full resolution first."""
        from .scene.chunked import as_dask

        return [as_dask(level) for level in self.pixel_levels]

    @property
    def pixel_levels(self) -> list[LazyPixels]:
        """Every resolution level as the reader made it, full resolution first."""
        return [self.pixels, *self.pyramid]


@dataclass(frozen=True, eq=False)
class ImageSource:
    """An opened file: where it is, what format it is, and its scenes, as the file says.

    A context manager: leaving it closes the open files the lazy data reads.
    """

    path: str
    format: FileFormat
    scenes: Sequence[Scene]  # kept as a tuple
    reader: str  # which library read the pixels
    # The file's own OME-XML as a model (None where it has none)
    ome_factory: Callable[[], OME | None] | None = field(default=None, repr=False)
    handles: list[Any] = field(default_factory=list, repr=False)  # open files the data reads
    original_metadata: str | None = field(default=None, repr=False)  # the vendor's own text
    # How the image was acquired, from the vendor's own metadata (parsed when first asked)
    acquisition_factory: Callable[[], Acquisition] | None = field(default=None, repr=False)
    # What was read, described as OME, for files without (readable) OME-XML
    describe_ome: Callable[[ImageSource], OME] | None = field(default=None, repr=False)
    # The file's own OME-XML text (read when asked), for a look that needs no OME model (are
    # there ROIs?); None where the file has none
    ome_xml: Callable[[], str | None] | None = field(default=None, repr=False)
    # An HCS plate: its wells and fields (the scenes are its mosaics, one per acquisition)
    plate: Plate | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Keep the scenes as a tuple."""
        if not isinstance(self.scenes, tuple):
            object.__setattr__(self, "scenes", tuple(self.scenes))

    def close(self) -> None:
        """Close the open files behind the lazy data."""
        for handle in self.handles:
            handle.close()
        self.handles.clear()

    def __enter__(self) -> ImageSource:
        """Use the source in a `with` block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the source at the end of the `with` block."""
        self.close()

    @property
    def file_name(self) -> str:
        """The file or folder name, with its extension ('a.ome.zarr')."""
        return os.path.basename(self.path.rstrip("/\\"))

    @property
    def disk_bytes(self) -> int | None:
        """Bytes the file (or OME-Zarr folder) takes on disk; None for a remote source."""
        return paths.disk_bytes(self.path)

    @cached_property
    def ome(self) -> OME:
        """The file's metadata as an OME model.

        The file's own OME-XML where it has one that can be read, else what was read,
        described as OME.
        """
        own = None
        if self.ome_factory is not None:
            try:
                own = self.ome_factory()
            except Exception:  # noqa: BLE001 unreadable OME-XML: describe what was read
                own = None
        if own is not None:
            return own
        if self.describe_ome is None:
            raise LookupError(f"{self.path}: no OME-XML and no description of it")
        return self.describe_ome(self)

    @cached_property
    def acquisition(self) -> Acquisition:
        """How the image was acquired, as far as the vendor metadata says."""
        return self.acquisition_factory() if self.acquisition_factory else Acquisition()

    def scene(self, key: int | str) -> Scene:
        """A scene by index or by name; NoSuchScene (a LightmicReadError) when there is none."""
        from .errors import NoSuchScene

        if isinstance(key, str) and not key.lstrip("-").isdigit():
            for s in self.scenes:
                if s.name == key:
                    return s
            names = ", ".join(repr(s.name) for s in self.scenes)
            raise NoSuchScene(self.path, f"no scene named {key!r} (scenes: {names})")
        i = int(key)
        if not -len(self.scenes) <= i < len(self.scenes):
            raise NoSuchScene(
                self.path, f"no scene {i}: the file has {len(self.scenes)} scene(s)"
            )
        return self.scenes[i]
