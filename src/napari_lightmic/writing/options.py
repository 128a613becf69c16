"""How a write is done: one frozen record of the choices, checked once when it is made.

The command line and napari build a `WriteOptions` and pass it whole to `write`, which
passes it whole to the writer of the target's format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import WriteError
from ..wells import LAYOUTS, Layout

NgffVersion = Literal["0.4", "0.5"]
TargetKind = Literal["OME-Zarr", "OME-TIFF"]

NGFF_VERSIONS: tuple[str, ...] = ("0.4", "0.5")
# The compressions each target's writer accepts, and the one it uses when none is named.
COMPRESSIONS: dict[str, tuple[str, ...]] = {
    "OME-Zarr": ("zstd", "lz4", "zlib", "none"),
    "OME-TIFF": ("zlib", "zstd", "lzw", "none"),
}
DEFAULT_COMPRESSION: dict[str, str] = {"OME-Zarr": "zstd", "OME-TIFF": "zlib"}
ALL_COMPRESSIONS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in COMPRESSIONS.values() for name in names))


@dataclass(frozen=True)
class WriteOptions:
    """The choices of a write, valid for at least one target format.

    Parameters
    ----------
    ngff_version : {"0.5", "0.4"}
        The OME-Zarr version written: 0.5 (zarr v3) or 0.4 (zarr v2). OME-TIFF ignores it.
    compression : str or None
        A codec name (zstd, lz4, zlib, lzw or none), or None for the target's default
        (zstd for OME-Zarr, zlib for OME-TIFF). Whether the target accepts it is checked by
        `compression_for`, when the target is known.
    pyramid_levels : int or None
        Levels including the full resolution, at least 1; None: down to about 256 px.
    shard : bool
        Store OME-Zarr chunks in zarr v3 shards; needs NGFF 0.5.
    overwrite : bool
        Replace an existing target (only once the new one is written completely).
    layout : {"auto", "plate", "images"}
        OME-Zarr of several scenes: an NGFF plate of wells ("plate"), the bioformats2raw
        layout ("images"), or a plate when the file records a well for every scene ("auto";
        see `napari_lightmic.wells.plate_wells`). OME-TIFF ignores it.

    Raises
    ------
    ValueError
        An unknown NGFF version, compression or layout, fewer than one pyramid level, or
        sharding with NGFF 0.4.
    """

    ngff_version: NgffVersion = "0.5"
    compression: str | None = None
    pyramid_levels: int | None = None
    shard: bool = False
    overwrite: bool = False
    layout: Layout = "auto"

    def __post_init__(self) -> None:
        """Check the choices together: one home for these rules."""
        if self.ngff_version not in NGFF_VERSIONS:
            raise ValueError(f"NGFF version {self.ngff_version} is not written (0.4 or 0.5)")
        if self.compression is not None and self.compression not in ALL_COMPRESSIONS:
            raise ValueError(f"compression {self.compression!r} is not one of "
                             f"{', '.join(ALL_COMPRESSIONS)}")
        if self.pyramid_levels is not None and self.pyramid_levels < 1:
            raise ValueError(f"pyramid levels must be at least 1, not {self.pyramid_levels}")
        if self.shard and self.ngff_version == "0.4":
            raise ValueError("sharding needs NGFF 0.5 (zarr v3)")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")

    def compression_for(self, kind: str) -> str:
        """The compression written to a target format ("OME-Zarr" or "OME-TIFF").

        Raises
        ------
        ValueError
            The target does not accept the compression named (lz4 in OME-TIFF, lzw in
            OME-Zarr).
        """
        accepted = COMPRESSIONS[kind]
        name = self.compression or DEFAULT_COMPRESSION[kind]
        if name not in accepted:
            raise ValueError(f"compression {name!r} is not one of {', '.join(accepted)}")
        return name


@dataclass(frozen=True)
class Converted:
    """What `convert` wrote.

    Attributes
    ----------
    path : Path
        The file or folder written.
    scenes : tuple of (str, tuple of str)
        Each scene written, by name (or index when unnamed), with what the writer did to fit
        it into the format.
    seconds : float
        Wall time of the conversion, opening the source included.
    """

    path: Path
    scenes: tuple[tuple[str, tuple[str, ...]], ...]
    seconds: float


def scene_arg(text: str) -> int | str:
    """A scene as text names it: an index (digits, negative from the end) or a name.

    "all" (every scene) is a name here; the writer takes it as every scene.
    """
    return int(text) if text.lstrip("-").isdigit() else text


def option_value(key: str, text: str) -> int | str | bool:
    """A write option given as text (a job list's cell): scene, pyramid_levels, shard, ...

    scene as `scene_arg`; pyramid_levels a whole number; shard true for 1, true, yes or y;
    the others (compression, ngff_version) the text, checked by `WriteOptions`.

    Raises
    ------
    ValueError
        pyramid_levels that is not a whole number.
    """
    if key == "scene":
        return scene_arg(text)
    if key == "pyramid_levels":
        if not text.isdigit():
            raise ValueError(f"pyramid_levels is a number, not {text!r}")
        return int(text)
    if key == "shard":
        return text.lower() in ("1", "true", "yes", "y")
    return text


TARGETS = {".ome.zarr": "OME-Zarr", ".zarr": "OME-Zarr", ".ome.tif": "OME-TIFF",
           ".ome.tiff": "OME-TIFF"}


def target_format(path: str | os.PathLike[str]) -> str:
    """The format a target path asks for: "OME-Zarr" or "OME-TIFF", by its ending.

    Raises
    ------
    WriteError
        The path ends in none of .ome.zarr, .zarr, .ome.tif or .ome.tiff.
    """
    name = str(path).rstrip("/\\").lower()
    for ext in sorted(TARGETS, key=len, reverse=True):
        if name.endswith(ext):
            return TARGETS[ext]
    raise WriteError(path, "the output must end in .ome.zarr, .ome.tif or .ome.tiff")
