"""Paths on disk: names that fit the file system, and the bytes a file or folder takes."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, the folder's file system takes (255 when unknown)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # no such folder; not POSIX
        return 255


def fitted_name(name: str, limit: int = 255, suffix: str = "") -> str:
    """`name` when it fits in `limit` bytes; else its start, ``~``, a hash of it, `suffix`.

    The hash (12 hex digits of SHA-256 of the whole name) keeps the names of two long files
    that start alike apart; the start is cut between characters, never inside one.
    """
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    tail = f"~{hashlib.sha256(raw).hexdigest()[:12]}{suffix}"
    room = limit - len(os.fsencode(tail))
    head = name[:room]  # at most `room` characters, each of one byte or more
    while len(os.fsencode(head)) > room:
        head = head[:-1]
    return head + tail


def disk_bytes(path: str | os.PathLike[str]) -> int | None:
    """Bytes a file, or every file in a folder, takes; None when the path cannot be read."""
    try:
        if not os.path.isdir(path):
            return os.path.getsize(path)
        total = 0
        for folder, _, names in os.walk(path):
            for name in names:
                with contextlib.suppress(OSError):  # removed while walked
                    total += os.path.getsize(os.path.join(folder, name))
        return total
    except OSError:
        return None
