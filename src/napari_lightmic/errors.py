"""The errors the core raises: one base naming the path and the cause, one class per job.

``str(err)`` is one line fit for a notification or a command-line message; the command line
catches `LightmicError` as one and exits with status 1 (2 for a usage error: `UsageError`,
`NoSuchScene`). The line is made here, for every error: a path's newlines and other control
characters are escaped as Python writes them (a backslash and n), bytes of a name that are not
UTF-8 (kept by Python as surrogate escapes) as a backslash, x and two hex digits, and a cause
of several lines (a library's message) keeps its first line that says something.
"""

from __future__ import annotations

import os
import re

# C0 and C1 controls, line and paragraph separators, and the lone surrogates by which Python
# keeps the bytes of a file name that are not UTF-8
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if "\udc80" <= char <= "\udcff":  # a byte of the name that is not UTF-8
        return f"\\x{ord(char) - 0xDC00:02x}"
    return repr(char)[1:-1] if char not in "\u2028\u2029" else f"\\u{ord(char):04x}"


def one_line(text: str) -> str:
    """`text` as one printable line: control characters and undecodable bytes escaped."""
    return _UNPRINTABLE.sub(_escape, text)


def utf8_text(text: str) -> str:
    """`text` writable as UTF-8: bytes of a name that are not UTF-8 as backslash escapes.

    Python keeps such bytes as lone surrogates, which UTF-8 files (XML, JSON read by other
    languages) cannot hold; other text is returned as it is.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def first_line(text: str) -> str:
    """The first line of a message that says something, as one line (`one_line`)."""
    lines = [line.strip() for line in str(text).splitlines()]
    return one_line(next((line for line in lines if line.strip(" .:-")), ""))


class LightmicError(Exception):
    """Something this plugin could not do with a path: names the path and the cause."""

    def __init__(self, path: str | os.PathLike[str], cause: str) -> None:
        self.path = os.fsdecode(path) if isinstance(path, bytes) else str(path)
        self.cause = first_line(cause)
        super().__init__(f"{one_line(self.path)}: {self.cause}")

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
