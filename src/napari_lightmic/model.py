"""What an opened file is: its scenes, their axes, physical sizes and channels.

Readers fill these records; the CLI, the napari adapters and the writers only read them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    import dask.array as da
    from ome_types import OME
    from ome_types.model import Experimenter, Instrument

    from .formats import FileFormat
    from .metadata.record import MetadataRecord


@dataclass(frozen=True)
class Acquisition:
    """How an image was acquired, as the vendor's metadata says (OME objects)."""

    instrument: Instrument | None = None
    acquisition_date: datetime | None = None
    experimenters: tuple[Experimenter, ...] = ()
    acquisition_mode: str | None = None  # an OME Channel AcquisitionMode value


@dataclass
class Channel:
    name: str  # the file's name, else a default ('Channel 0') shown to the user
    color: str  # '#RRGGBB'
    contrast_limits: tuple[float, float] | None = None  # from the file's display settings
    excitation_nm: float | None = None
    emission_nm: float | None = None
    fluor: str | None = None
    # False when the file records no name and `name` is a default: exports then write no
    # OME Name, so a reader can tell a recorded name from a made-up one
    named: bool = True

    def rename(self, name: str) -> None:
        """A name given by the user: recorded from now on."""
        if name != self.name:
            self.name, self.named = name, True


@dataclass
class Mosaic:
    tiles: int
    stitched: bool = True
    placement: str = "stage position"  # how tiles were placed


@dataclass
class Scene:
    """One image of a file (a CZI scene, a LIF image, an ND2 position, an OME series)."""

    index: int
    name: str
    data: da.Array  # lazy; one axis per letter of `dims`
    dims: str  # e.g. 'TCZYX'; extra axes keep their own letters (H phase, λ/Λ lambda, S samples)
    physical_pixel_sizes: dict[str, float | None]  # per axis, in `units`; None = unknown
    units: dict[str, str]  # per axis with a known size
    channels: list[Channel]
    mosaic: Mosaic | None = None
    stage_position: dict[str, float] | None = None  # top-left corner, in `units`
    notes: list[str] = field(default_factory=list)  # what the reader did that the user should know
    # Lower resolutions of `data` (same axes, Y and X smaller), largest first; empty if none.
    pyramid: list[da.Array] = field(default_factory=list)
    # Label images (segmentations) belonging to this scene, by name; same axes, C of size one.
    labels: dict[str, da.Array] = field(default_factory=dict)
    # Which Image of the source's OME this scene is, where that is not `index` (an OME-TIFF
    # whose OME-XML also lists images without pixels)
    ome_index: int | None = None

    @property
    def ome_image(self) -> int:
        return self.index if self.ome_index is None else self.ome_index

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.data.shape)

    @property
    def dtype(self) -> str:
        return str(self.data.dtype)

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.dims, self.shape))

    @property
    def shape_text(self) -> str:
        """The axes that vary, and Y and X: 'C2 × Z5 × Y170 × X240'."""
        return " × ".join(f"{a}{n}" for a, n in self.sizes.items() if n > 1 or a in "YX")

    @property
    def rgb(self) -> bool:
        return self.dims.endswith("S") and self.sizes["S"] in (3, 4)

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def channel_colors(self) -> list[str]:
        return [c.color for c in self.channels]

    def size(self, axis: str) -> int:
        return self.sizes.get(axis, 1)

    @property
    def levels(self) -> list[da.Array]:
        """Every resolution level, full resolution first."""
        return [self.data, *self.pyramid]


@dataclass
class ImageSource:
    """An opened file: where it is, what format it is, and its scenes."""

    path: str
    format: FileFormat
    scenes: list[Scene]
    reader: str  # which library read the pixels
    ome_factory: Callable[[], OME] | None = field(default=None, repr=False)
    handles: list = field(default_factory=list, repr=False)  # open files the lazy data reads
    original_metadata: str | None = field(default=None, repr=False)  # the vendor's own text
    # How the image was acquired, from the vendor's own metadata (parsed when first asked)
    acquisition_factory: Callable[[], Acquisition] | None = field(default=None, repr=False)
    _ome: OME | None = field(default=None, repr=False)
    # The user's edits from the sidecar, and why the sidecar could not be used if it could not.
    edits: dict = field(default_factory=dict, repr=False)
    sidecar_problem: str | None = None
    # each scene's pixel sizes, units and channels as the file gives them (set by apply_edits)
    file_values: dict = field(default_factory=dict, repr=False)
    _file_record: MetadataRecord | None = field(default=None, repr=False)

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.handles.clear()

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def file_name(self) -> str:
        """The file or folder name, with its extension ('a.ome.zarr')."""
        return os.path.basename(self.path.rstrip("/\\"))

    @property
    def disk_bytes(self) -> int | None:
        """Bytes the file (or OME-Zarr folder) takes on disk; None for a remote source."""
        try:
            if os.path.isdir(self.path):
                return sum(os.path.getsize(os.path.join(folder, name))
                           for folder, _, names in os.walk(self.path) for name in names)
            return os.path.getsize(self.path)
        except OSError:
            return None

    @property
    def ome(self) -> OME:
        """The file's metadata as an OME model (the file's own OME-XML where it has one)."""
        if self._ome is None:
            from .metadata.ome import ome_from_source

            try:
                self._ome = self.ome_factory() if self.ome_factory else None
            except Exception:  # unreadable OME-XML: describe what was read instead
                self._ome = None
            if self._ome is None:
                self._ome = ome_from_source(self)
        return self._ome

    @property
    def file_record(self) -> MetadataRecord:
        """The metadata record as the file alone describes it."""
        if self._file_record is None:
            from .metadata.prefill import record_from_source

            self._file_record = record_from_source(self)
        return self._file_record

    @property
    def record(self) -> MetadataRecord:
        """The metadata record: the file's, with the user's edits laid over it."""
        from .metadata.sidecar import merged

        return merged(self.file_record, self.edits)

    def scene(self, key: int | str) -> Scene:
        """A scene by index or by name."""
        from .errors import LightmicReadError

        if isinstance(key, str) and not key.lstrip("-").isdigit():
            for s in self.scenes:
                if s.name == key:
                    return s
            names = ", ".join(repr(s.name) for s in self.scenes)
            raise LightmicReadError(self.path, f"no scene named {key!r} (scenes: {names})")
        i = int(key)
        if not -len(self.scenes) <= i < len(self.scenes):
            raise LightmicReadError(
                self.path, f"no scene {i}: the file has {len(self.scenes)} scene(s)"
            )
        return self.scenes[i]
