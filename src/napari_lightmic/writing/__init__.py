"""Saving in the open formats: convert any readable file, and validate what was written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LightmicReadError
from ..model import ImageSource
from .common import WriteError
from .validate import validate

if TYPE_CHECKING:
    from ..metadata.record import MetadataRecord

TARGETS = {".ome.zarr": "OME-Zarr", ".zarr": "OME-Zarr", ".ome.tif": "OME-TIFF",
           ".ome.tiff": "OME-TIFF"}


def target_format(path) -> str:
    name = str(path).rstrip("/\\").lower()
    for ext in sorted(TARGETS, key=len, reverse=True):
        if name.endswith(ext):
            return TARGETS[ext]
    raise WriteError(path, "the output must end in .ome.zarr, .ome.tif or .ome.tiff")


def write(source: ImageSource, target, scene: int | str = 0, *, ngff_version: str = "0.5",
          compression: str | None = None, pyramid_levels: int | None = None,
          overwrite: bool = False, shard: bool = False, progress=None,
          attributes: dict | None = None, labels: dict | None = None,
          record: MetadataRecord | None = None) -> Path:
    """Write one scene (an index or name) or every scene ("all") of an opened source."""
    kind = target_format(target)
    scenes = source.scenes if scene == "all" else [source.scene(scene)]
    if labels and kind != "OME-Zarr":
        raise WriteError(target, "labels are written to OME-Zarr only")
    if Path(target).resolve() == Path(source.path).resolve():
        raise WriteError(target, "is the source itself; a source file is never written")
    try:
        if kind == "OME-Zarr":
            from .ome_zarr import write_ome_zarr

            return write_ome_zarr(source, scenes, target, version=ngff_version,
                                  compression=compression or "zstd", levels=pyramid_levels,
                                  shard=shard, overwrite=overwrite, progress=progress,
                                  attributes=attributes, labels=labels, record=record)
        from .ome_tiff import write_ome_tiff

        return write_ome_tiff(source, scenes, target, compression=compression or "zlib",
                              levels=pyramid_levels, overwrite=overwrite, progress=progress,
                              record=record)
    except ValueError as exc:
        raise WriteError(target, str(exc)) from exc


def convert(path, target, scene: int | str = "all", *, return_scenes: bool = False,
            **options):
    """Write every scene of a file (as bfconvert and bioformats2raw do), or the one named.

    With `return_scenes`, returns (path written, [(scene name, what the writer did to fit
    it into the format), ...]).
    """
    from ..session import Session
    from .common import as_5d

    with Session.open(path) as session:  # with the user's edits, as the viewer shows them
        source = session.effective_source()
        chosen = source.scenes if scene == "all" else [source.scene(scene)]
        written = [(s.name or str(s.index), as_5d(s).notes) for s in chosen]
        out = write(source, target, scene, record=session.record, **options)
    return (out, written) if return_scenes else out


__all__ = ["convert", "validate", "write", "WriteError", "LightmicReadError", "target_format"]
