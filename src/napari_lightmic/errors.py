"""The one exception type the core raises for input it cannot read."""

from __future__ import annotations

from pathlib import Path


class LightmicReadError(Exception):
    """A file could not be opened: names the file and the cause.

    Raised for missing, empty, truncated, mis-named or non-image files, and for
    scenes or channels that do not exist. ``str(err)`` is one line fit for a
    notification or a command-line message.
    """

    def __init__(self, path: str | Path, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")
