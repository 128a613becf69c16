"""Open any supported path and describe its scenes: the one entry point of the core.

`open_image` returns what the file says; the user's edits are a `Session`'s (session.py).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LightmicReadError
from ..formats import FileFormat, format_for, is_zarr_group
from ..model import ImageSource
from ..scene.levels import with_strided_levels
from .remote import idr_url, is_remote

if TYPE_CHECKING:
    from ome_types import OME

# Leading bytes of each file format, to catch mis-named files before a reader does.
SIGNATURES = {
    "CZI": (b"ZISRAWFILE",),
    "LIF": (b"\x70\x00\x00\x00",),
    "ND2": (b"\xda\xce\xbe\x0a", b"ND2 FILE SIGNATURE"),
    "TIFF": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "HDF5": (b"\x89HDF\r\n\x1a\n",),
}
SIGNATURES["Imaris"] = SIGNATURES["HDF5"]
SIGNATURES["OME-TIFF"] = SIGNATURES["LSM"] = SIGNATURES["TIFF"]


def open_image(path: str | os.PathLike) -> ImageSource:
    """Open a file or OME-Zarr folder read-only and describe every scene, reading no pixels.

    Raises LightmicReadError naming the file and the cause for anything it cannot read.
    """
    path = str(path)
    if path.startswith("idr:"):
        try:
            path = idr_url(path[4:])
        except ValueError as exc:
            raise LightmicReadError(path, str(exc)) from exc
    fmt = format_for("remote.ome.zarr") if is_remote(path) else _check(path)
    try:
        source = _reader_for(fmt)(path, fmt)
        source = dataclasses.replace(
            source, scenes=tuple(with_strided_levels(scene) for scene in source.scenes),
            describe_ome=source.describe_ome or _described_ome)
    except LightmicReadError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # every library has its own errors; the user gets one
        text = str(exc)
        if text.startswith("truncated: "):
            raise LightmicReadError(path, f"the file is truncated ({text[11:]})") from exc
        raise LightmicReadError(path, f"cannot be read as {fmt.name}: {_describe(exc)}") from exc
    return source


def claims(path: str | os.PathLike) -> bool:
    """Whether a path is one this plugin reads, by its name (and, for XML, its content)."""
    fmt = format_for(path)
    if fmt is None:
        return False
    if fmt.name == "BigDataViewer":  # of all XML files, only BigDataViewer datasets
        try:
            with open(path, "rb") as fh:
                return b"<SpimData" in fh.read(4096)
        except OSError:
            return False
    return True


def _described_ome(source: ImageSource) -> OME:
    """What was read, as OME, for files without (readable) OME-XML."""
    from ..metadata.ome import ome_from_source

    return ome_from_source(source)


def _check(path: str) -> FileFormat:
    p = Path(path)
    fmt = format_for(path)
    if not p.exists():
        raise LightmicReadError(path, "no such file or folder")
    if fmt is None:
        raise LightmicReadError(path, f"unsupported file type {p.suffix or '(no extension)'!r}")
    if fmt.directory:
        if not is_zarr_group(p):
            raise LightmicReadError(path, "not a Zarr group (no zarr.json or .zgroup found)")
        return fmt
    if p.is_dir():
        raise LightmicReadError(path, f"is a folder, not a {fmt.name} file")
    if p.stat().st_size == 0:
        raise LightmicReadError(path, "the file is empty")
    try:
        with open(p, "rb") as fh:
            head = fh.read(32)
    except OSError as exc:
        raise LightmicReadError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    expected = SIGNATURES.get(fmt.name, ())
    if expected and not head.startswith(expected):
        found = next((name for name, sigs in SIGNATURES.items() if head.startswith(sigs)), None)
        what = f"its content is {found}" if found else f"its content is not a {fmt.name} file"
        raise LightmicReadError(path, f"named as {fmt.name} but {what}")
    return fmt


def _reader_for(fmt: FileFormat):
    if fmt.name == "CZI":
        from .czi import open_czi

        return open_czi
    if fmt.name == "LIF":
        from .lif import open_lif

        return open_lif
    if fmt.name == "OME-Zarr":
        from .ngff import open_ngff

        return open_ngff
    if fmt.name in ("HDF5", "Imaris", "BigDataViewer"):
        from .hdf5 import open_hdf5

        return open_hdf5
    if fmt.name in ("OME-TIFF", "TIFF", "LSM"):
        from .tiff import open_tiff

        return open_tiff
    from .bioio_backed import open_bioio

    return open_bioio


def _describe(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "not found" + (f" ({exc})" if str(exc) else "")
    if isinstance(exc, TimeoutError) or type(exc).__name__ in ("TimeoutError",
                                                               "ServerTimeoutError"):
        return "the server did not answer in time"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = ["open_image", "LightmicReadError"]
