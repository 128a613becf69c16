"""Saving in the open formats: convert any readable file, and validate what was written."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LightmicReadError, WriteError
from ..model import ImageSource
from .options import Converted, WriteOptions, target_format
from .validate import validate

if TYPE_CHECKING:
    from ..metadata.record import MetadataRecord
    from ..session import Session

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)


def write(source: ImageSource, target: str | os.PathLike[str], scene: int | str = 0,
          options: WriteOptions = WriteOptions(), *,
          progress: Progress | None = None, attributes: dict[str, Any] | None = None,
          labels: dict[str, Any] | None = None,
          label_colors: dict[str, dict[int, tuple[int, int, int, int]]] | None = None,
          record: MetadataRecord | None = None) -> Path:
    """Write one scene, or every scene, of an opened source as OME-Zarr or OME-TIFF.

    The source is never written; the target appears only once written completely. Each
    scene's regions of interest go into the OME-XML as OME ROIs linked from its image: its
    `Scene.rois` where set (a session's, with the ROIs the user added; napari's layers'),
    else the file's own.

    Parameters
    ----------
    source : ImageSource
        An opened image (`napari_lightmic.open_image`).
    target : str or os.PathLike
        The output: its ending (.ome.zarr or .zarr, .ome.tif or .ome.tiff) chooses the format.
    scene : int or str, optional
        The scene to write, by index or name, or "all" for every scene (OME-Zarr: the
        bioformats2raw layout; OME-TIFF: one image per scene). The default is the first.
    options : WriteOptions, optional
        NGFF version, compression, pyramid levels, sharding, overwriting.
    progress : callable, optional
        Called as ``progress(bytes_written, bytes_in_all)`` as the pixels are written.
    attributes : dict, optional
        OME-Zarr: further attributes under each image's "lightmic" key.
    labels : dict, optional
        OME-Zarr only: name -> integer array with the first image's axes but C, written as
        NGFF labels of the first image (beside the scenes' own label images, which OME-Zarr
        keeps and OME-TIFF cannot hold).
    label_colors : dict, optional
        The colours of `labels`: name -> {label value: (R, G, B, A), 0-255}.
    record : MetadataRecord, optional
        The metadata record written with the image (REMBI, and whether personal data is
        removed): a `Session`'s, with the user's edits. The default is the file's own.

    Returns
    -------
    Path
        The target written.

    Raises
    ------
    WriteError
        The target's ending names no format, it is the source itself, it exists and
        `options.overwrite` is false, its folder does not exist, labels are given for
        OME-TIFF, the target does not accept the compression, or the labels do not fit.
    LightmicReadError
        The scene does not exist.
    """
    kind = target_format(target)
    scenes = source.scenes if scene == "all" else [source.scene(scene)]
    if labels and kind != "OME-Zarr":
        raise WriteError(target, "labels are written to OME-Zarr only")
    if Path(target).resolve() == Path(source.path).resolve():
        raise WriteError(target, "is the source itself; a source file is never written")
    try:
        if kind == "OME-Zarr":
            from .ome_zarr import write_ome_zarr

            return write_ome_zarr(source, scenes, target, options, progress=progress,
                                  attributes=attributes, labels=labels,
                                  label_colors=label_colors, record=record)
        from .ome_tiff import write_ome_tiff

        return write_ome_tiff(source, scenes, target, options, progress=progress,
                              record=record)
    except ValueError as exc:
        raise WriteError(target, str(exc)) from exc


def convert(path: str | os.PathLike[str], target: str | os.PathLike[str],
            scene: int | str = "all",
            options: WriteOptions = WriteOptions(),
            *, progress: Progress | None = None) -> Converted:
    """Write every scene of a file (as bfconvert and bioformats2raw do), or the one named.

    Returns what was written: the path, each scene's name with what the writer did to fit
    it into the format, and the seconds it took. Raises as `write` does, and
    `LightmicReadError` when the file cannot be opened.
    """
    from ..session import Session

    start = time.perf_counter()
    with Session.open(path) as session:  # with the user's edits, as the viewer shows them
        return convert_opened(session, target, scene, options, progress=progress, start=start)


def convert_opened(session: Session, target: str | os.PathLike[str],
                   scene: int | str = "all", options: WriteOptions = WriteOptions(),
                   *, progress: Progress | None = None,
                   start: float | None = None) -> Converted:
    """`convert` for a file already opened as a `Session` (its edits applied).

    `start` is the `time.perf_counter()` the seconds count from (default: now).
    """
    from .common import as_5d

    start = time.perf_counter() if start is None else start
    source = session.effective_source()
    chosen = source.scenes if scene == "all" else [source.scene(scene)]
    written = tuple((s.name or str(s.index), tuple(as_5d(s).notes)) for s in chosen)
    out = write(source, target, scene, options, progress=progress, record=session.record)
    return Converted(path=out, scenes=written, seconds=time.perf_counter() - start)

__all__ = ["Converted", "LightmicReadError", "WriteError", "WriteOptions", "convert",
           "convert_opened",
           "target_format", "validate", "write"]
