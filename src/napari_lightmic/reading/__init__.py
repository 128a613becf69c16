"""Open any supported path and describe its scenes: the one entry point of the core.

`open_image` returns what the file says; the user's edits are a `Session`'s (session.py).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LightmicReadError, cause_of
from ..formats import FORMATS, FileFormat, format_for, format_of, is_zarr_group
from ..model import ImageSource
from ..scene.axes import with_time_note
from ..scene.budget import SizeRefused, check_source
from ..scene.levels import with_strided_levels
from .contract import reader_for
from .files import check_regular
from .remote import idr_url, is_remote, moved_hint

if TYPE_CHECKING:
    from ome_types import OME

# Leading bytes of each file format, to catch mis-named files before a reader does; a
# container's own name (TIFF, HDF5) first among formats that share its bytes.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    fmt.name: fmt.magic for fmt in sorted(FORMATS, key=lambda f: f.vendor != "") if fmt.magic
}


def open_image(path: str | os.PathLike[str]) -> ImageSource:
    """Open a file or OME-Zarr folder read-only and describe every scene, reading no pixels.

    Parameters
    ----------
    path : str or os.PathLike
        A local file or folder, an HTTP(S) URL of an OME-Zarr, or ``idr:<image id>``.

    Returns
    -------
    ImageSource
        Every scene, its levels lazy.

    Raises
    ------
    LightmicReadError
        Naming the file and the cause, for anything it cannot read.
    """
    path = str(path)
    if path.startswith("idr:"):
        try:
            path = idr_url(path[4:])
        except ValueError as exc:
            raise LightmicReadError(path, str(exc)) from exc
    try:
        return _open(path)
    except LightmicReadError as exc:
        hint = moved_hint(path)
        if hint is None or type(exc) is not LightmicReadError:
            raise
        raise LightmicReadError(exc.path, f"{exc.cause} ({hint})") from exc


def _open(path: str) -> ImageSource:
    fmt = _remote_format() if is_remote(path) else _check(path)
    try:
        opened = reader_for(fmt).open(path, fmt)
        try:
            check_source(opened)
        except SizeRefused:
            opened.close()
            raise
        source = dataclasses.replace(
            opened, scenes=tuple(with_time_note(with_strided_levels(scene))
                                 for scene in opened.scenes),
            describe_ome=opened.describe_ome or described_ome)
    except SizeRefused as exc:
        raise LightmicReadError(path, exc.cause) from exc
    except LightmicReadError:
        raise
    except MemoryError as exc:
        # a size the file declares, believed by a library, asked for more memory than there is
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise LightmicReadError(path, "declares sizes too large to hold in memory"
                                + (f" ({text})" if text else "")) from exc
    except Exception as exc:  # every library has its own errors; the user gets one
        text = str(exc)
        for state in ("truncated", "damaged"):  # a reader's finding about the file itself
            if text.startswith(f"{state}: "):
                raise LightmicReadError(path, f"the file is {state} ({text[len(state) + 2:]})"
                                        ) from exc
        raise LightmicReadError(path, f"cannot be read as {fmt.name}: {_describe(exc)}") from exc
    return source


def claims(path: str | os.PathLike[str]) -> bool:
    """Whether the registry has a reader for the path that claims it.

    By the path's extension, or, for a folder, by its NGFF metadata (`formats.format_of`).
    """
    fmt = format_of(str(path))
    return fmt is not None and reader_for(fmt).claims(str(path), fmt)


def described_ome(source: ImageSource) -> OME:
    """What was read, as OME, for files without (readable) OME-XML."""
    from ..metadata.ome import ome_from_source

    return ome_from_source(source)


def _remote_format() -> FileFormat:
    fmt = format_for("remote.ome.zarr")
    if fmt is None:
        raise LookupError("the format registry has no OME-Zarr row")
    return fmt


def _check(path: str) -> FileFormat:
    p = Path(path)
    try:
        exists = p.exists()
    except OSError as exc:  # a name the system refuses: too long, ...
        raise LightmicReadError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    if not exists:
        raise LightmicReadError(path, "no such file or folder")
    fmt = format_of(path)  # a folder with NGFF metadata is OME-Zarr whatever its name
    if fmt is None:
        raise LightmicReadError(path, _unknown(p))
    if fmt.directory:
        if not is_zarr_group(p):
            raise LightmicReadError(path, "not a Zarr group (no zarr.json or .zgroup found)")
        return fmt
    if p.is_dir():
        raise LightmicReadError(path, f"is a folder, not a {fmt.name} file")
    try:
        check_regular(p)
    except ValueError as exc:  # a FIFO, device or socket: a read would block or never end
        raise LightmicReadError(path, str(exc).removeprefix(f"{path} ")) from None
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


def _unknown(p: Path) -> str:
    """Why an existing path of no registered format is not read."""
    if is_zarr_group(p):
        return ("a Zarr group but no OME-Zarr: its metadata holds no NGFF image "
                "('multiscales'), plate, well or bioformats2raw layout")
    if p.is_dir():
        return "a folder with no OME-Zarr metadata (no zarr.json or .zattrs holding an NGFF image)"
    return f"unsupported file type {p.suffix or '(no extension)'!r}"


def read_error(path: str | os.PathLike[str], exc: BaseException) -> LightmicReadError:
    """`exc` as the read error of `path`: itself if it is one, else naming its type and cause.

    The boundary's rule wherever a read may fail with whatever a library raises.
    """
    if isinstance(exc, LightmicReadError):
        return exc
    return LightmicReadError(path, _describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "not found" + (f" ({exc})" if str(exc) else "")
    if isinstance(exc, TimeoutError) or type(exc).__name__ in ("TimeoutError",
                                                               "ServerTimeoutError"):
        return "the server did not answer in time"
    return cause_of(exc)


__all__ = ["open_image", "LightmicReadError"]
