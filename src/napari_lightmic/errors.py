"""The errors the core raises: one base naming the path and the cause, one class per job.

``str(err)`` is one line fit for a notification or a command-line message; the command line
catches `LightmicError` as one and exits with status 1 (2 for a usage error: `UsageError`,
`NoSuchScene`). The line is made here, for every error: a path's newlines and other control
characters are escaped as Python writes them (a backslash and n), bytes of a name that are not
UTF-8 (kept by Python as surrogate escapes) as a backslash, x and two hex digits, and a cause
of several lines (a library's message) keeps its first line that says something.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import TypeVar, cast

_T = TypeVar("_T")

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
    languages) cannot hold: each is written as a backslash, x and two hex digits (any other
    lone surrogate as a backslash, u and four); other text is returned as it is.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape_surrogate, text)
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def utf8_tree(value: _T, *, strict_json: bool = False) -> _T:
    """`value` with every text in it writable as UTF-8 (`utf8_text`).

    Walks mappings (keys too), lists, tuples and pydantic models (an OME model is mended in
    place); a path becomes its text. A part with nothing to mend is returned as it is (the
    same object).

    Parameters
    ----------
    value
        Text, numbers, containers of them, models.
    strict_json : bool
        For strict JSON as well: NaN and infinities become None (unknown), mapping keys text.

    Returns
    -------
    object
        Of the same shape (a mapping as a dict, a path as text).
    """
    return cast("_T", _mended(value, strict_json))


def _mended(value: object, strict_json: bool) -> object:  # noqa: C901 - one case per kind
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, float):
        return None if strict_json and not math.isfinite(value) else value
    if isinstance(value, Mapping):
        items = [(utf8_text(str(k)) if strict_json or isinstance(k, str) else k,
                  _mended(v, strict_json)) for k, v in value.items()]
        if type(value) is dict and all(a is k and b is v for (a, b), (k, v)
                                       in zip(items, value.items())):
            return value
        return dict(items)
    if isinstance(value, (list, tuple)):
        mended = [_mended(v, strict_json) for v in value]
        if all(a is b for a, b in zip(mended, value)):
            return value
        return tuple(mended) if isinstance(value, tuple) else mended
    if isinstance(value, os.PathLike):
        return utf8_text(os.fsdecode(value))
    fields = getattr(type(value), "model_fields", None)  # a pydantic model, mended in place
    if isinstance(fields, dict):
        for name in fields:
            item = getattr(value, name)
            mended_item = _mended(item, strict_json)
            if mended_item is not item:
                setattr(value, name, mended_item)
    return value


def json_text(data: object, compact: bool = False) -> str:
    """`data` as strict JSON text: valid UTF-8 (`utf8_tree`), no NaN (non-finite is null).

    Parameters
    ----------
    data
        What `json.dumps` takes.
    compact : bool
        On one line, without a line end (for a cell of a table); else indented, with one.

    Returns
    -------
    str
        The text; a name's bytes that are not UTF-8 as backslash, x and two hex digits.
    """
    import json

    clean = utf8_tree(data, strict_json=True)
    if compact:
        return json.dumps(clean, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return json.dumps(clean, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def first_line(text: str) -> str:
    """The first line of a message that says something, as one line (`one_line`)."""
    lines = [line.strip() for line in str(text).splitlines()]
    return one_line(next((line for line in lines if line.strip(" .:-")), ""))


MAX_CAUSE = 300  # characters of a library's message kept in a one-line cause


def cause_of(exc: BaseException, default: str = "") -> str:
    """What a library's exception says, as one line: its type and its message.

    The message's whitespace collapsed (a message of several lines kept whole), at most
    `MAX_CAUSE` characters of it, unprintable characters escaped (`one_line`); `default`
    where it says nothing. The one form every error of this plugin gives a library's cause in.
    """
    message = " ".join(str(exc).split())
    if len(message) > MAX_CAUSE:
        message = message[:MAX_CAUSE - 1] + "…"
    message = message or default
    return one_line(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


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
