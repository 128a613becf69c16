"""Paths read only when they are regular files (or folders), and then with a size cap.

A FIFO, a device or a socket reached by name (a sidecar, a file inside an OME-Zarr tree,
an XML beside an HDF5 file, a TiffData FileName) would block a read or never end it: such
paths are refused before anything is opened, and what is read is read with a limit.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator

from .._xml import MAX_XML_BYTES

# Metadata files read whole (sidecars, XML, zarr.json): the XML limit; no real one comes near.
MAX_METADATA_BYTES = MAX_XML_BYTES


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike[str], folder_ok: bool = False) -> None:
    """Refuse a path that is not a regular file (or a folder, when `folder_ok`).

    Links are followed: a link to a device is a device.

    Raises
    ------
    ValueError
        Saying what the path is.
    FileNotFoundError
        When it does not exist.
    """
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return
    raise ValueError(f"{os.fspath(path)} is {_kind(mode)}, which is not read")


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a regular file (links followed), without raising."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_regular(path: str | os.PathLike[str], limit: int = MAX_METADATA_BYTES,
                 head: bool = False) -> bytes:
    """The bytes of a regular file, at most `limit` of them.

    Opened without blocking and checked on the open descriptor, so a FIFO put in place of
    the file is never waited on.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    limit : int
        The most bytes read.
    head : bool
        Return the first `limit` bytes of a longer file instead of refusing it.

    Returns
    -------
    bytes
        The file's content (or its head).

    Raises
    ------
    ValueError
        For a FIFO, device or socket, or a file longer than `limit` (unless `head`).
    OSError
        When it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{os.fspath(path)} is {_kind(mode)}, which is not read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        if head:
            return data[:limit]
        raise ValueError(f"{os.fspath(path)} is larger than {limit} bytes, which is not read")
    return data



@contextlib.contextmanager
def utf8_name(path: str) -> Iterator[str]:
    """A name by which a library that takes only UTF-8 text opens `path`, while in the block.

    A name whose bytes are not UTF-8 reaches Python as surrogate escapes, which such a
    library (pylibCZIrw) refuses: it gets ``/proc/self/fd/N`` of the file opened here, or a
    link with a UTF-8 name where there is no /proc. Other names are given as they are. The
    library must open the file inside the block (it keeps its own handle after).
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield path
        return
    fd = os.open(os.fsencode(path), os.O_RDONLY)
    try:
        proc = f"/proc/self/fd/{fd}"
        if os.path.exists(proc):
            yield proc
            return
        with tempfile.TemporaryDirectory() as folder:
            link = os.path.join(folder, "file" + os.path.splitext(path)[1].encode(
                "utf-8", "backslashreplace").decode("ascii", "replace"))
            os.symlink(os.fsencode(path), link)
            yield link
    finally:
        os.close(fd)
