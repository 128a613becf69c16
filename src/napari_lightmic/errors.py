"""The errors the core raises: one base naming the path and the cause, one class per job.

``str(err)`` is one line fit for a notification or a command-line message; the command line
catches `LightmicError` as one and exits with status 1 (2 for a usage error: `UsageError`,
`NoSuchScene`).
"""

from __future__ import annotations

import os


class LightmicError(Exception):
    """Something this plugin could not do with a path: names the path and the cause."""

    def __init__(self, path: str | os.PathLike[str], cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")

    def __reduce__(self) -> tuple[type[LightmicError], tuple[str, str]]:
        """Pickle as the path and the cause (errors cross to dask workers and subprocesses)."""
        return type(self), (self.path, self.cause)


class LightmicReadError(LightmicError):
    """A file could not be opened.

    Missing, empty, truncated, mis-named or non-image files, and scenes or channels that do
    not exist.
    """


class NoSuchScene(LightmicReadError):
    """A scene asked for by index or name that the file does not have."""


class UsageError(LightmicError):
    """A value given for a path that the job refuses (an option, a path of the wrong kind)."""


class WriteError(LightmicError):
    """A write that could not be done (a bad target, an existing output, a refused option)."""


class SidecarError(LightmicError, ValueError):
    """A sidecar of edits that is not valid, or cannot be written."""

    @property
    def problem(self) -> str:
        """What is wrong with the sidecar (the cause)."""
        return self.cause


class RefusedEdit(LightmicError, ValueError):
    """A metadata value refused: names the field (its dotted key) and the form it takes.

    `fix` is the value meant, when it is known (a colour name's #RRGGBB).
    """

    def __init__(self, key: str, cause: str, fix: str | None = None) -> None:
        super().__init__(key, cause)
        self.fix = fix

    def __reduce__(self) -> tuple[type[RefusedEdit], tuple[str, str, str | None]]:  # type: ignore[override]
        """Pickle as the key, the cause and the fix."""
        return type(self), (self.path, self.cause, self.fix)
