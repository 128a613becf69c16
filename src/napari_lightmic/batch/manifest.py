"""A batch's memory in its output folder: one JSON line per job state, locked while it runs.

``lightmic-manifest.jsonl`` gets a record appended at each change of a job's state; on
reading, the last record of an input wins, and a torn last line (a batch killed while
writing it) is left out. The manifest itself is held (``flock``) while a batch writes into
the folder, so that a second batch is refused instead of interleaving; no other file is
left in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import LightmicError

MANIFEST = "lightmic-manifest.jsonl"
MIB = 2**20

Record = dict[str, Any]
STATES = ("planned", "running", "done", "failed", "skipped")


def fingerprint(path: Path, size: int) -> str:
    """sha256 hex of the size and the first and last MiB of a file.

    For a folder (OME-Zarr): of the size and its root metadata file.
    """
    digest = hashlib.sha256(str(size).encode())
    if path.is_dir():
        for name in ("zarr.json", ".zattrs", ".zgroup"):
            if (path / name).is_file():
                with open(path / name, "rb") as stream:
                    digest.update(stream.read(MIB))
        return digest.hexdigest()
    with open(path, "rb") as stream:
        digest.update(stream.read(MIB))
        end = stream.seek(0, os.SEEK_END)
        if end > MIB:
            stream.seek(max(MIB, end - MIB))
            digest.update(stream.read(MIB))
    return digest.hexdigest()


def read_manifest(folder: Path, key: str = "input") -> dict[str, Record]:
    """The last record of each input in a folder's manifest (empty when there is none).

    Lines that are not a JSON record (a line torn when the writing batch was killed) are
    left out. With ``key="output"``: the last record of each output (one input can have
    several outputs, one per row of a job list).
    """
    path = Path(folder) / MANIFEST
    last: dict[str, Record] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return last
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get(key), str):
            last[record[key]] = record
    return last


class Manifest:
    """The manifest of an output folder, open for appending."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / MANIFEST
        self._stream = open(self.path, "a", encoding="utf-8", errors="surrogateescape")
        # a line torn by a killed batch is ended, so the next record starts a line of its own
        if self._stream.tell() > 0:
            with open(self.path, "rb") as stream:
                stream.seek(-1, os.SEEK_END)
                if stream.read(1) != b"\n":
                    self._stream.write("\n")

    def append(self, record: Record) -> None:
        """Append one record as a line, flushed to the disk."""
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
        os.fsync(self._stream.fileno())

    def close(self) -> None:
        """Close the file."""
        self._stream.close()


@contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the folder's manifest locked (``flock``) while the block runs; yield its path.

    The manifest is created (empty) when there is none; no other file is made.

    Raises
    ------
    LightmicError
        Another batch holds the lock.
    """
    import fcntl

    path = Path(folder) / MANIFEST
    with open(path, "a", encoding="utf-8") as stream:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            raise LightmicError(folder, f"another batch ({holder}) is writing into this "
                                "folder; wait for it to end or choose another output "
                                "folder") from None
        try:
            yield path
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    """'pid N' of the process holding a file's ``flock`` (Linux's /proc/locks), if known."""
    try:
        st = path.stat()
        with open("/proc/locks", encoding="ascii", errors="replace") as stream:
            lines = stream.read().splitlines()
    except OSError:
        return "another process"
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF" ("->" marks a waiting lock)
        if "->" not in fields and "FLOCK" in fields and device in fields:
            pid = fields[fields.index(device) - 1]
            if pid.isdigit():
                return f"pid {pid}"
    return "another process"
