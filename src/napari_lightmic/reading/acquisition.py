"""Helpers for the acquisition facts readers take from vendor metadata (CZI, LIF, LSM).

Each reader builds its `Acquisition` from the metadata it already holds, in a factory
called only when the OME model is first asked for (importing ome_types is slow).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..model import Acquisition

if TYPE_CHECKING:
    from lxml import etree
    from ome_types.model import Objective_Immersion

T = TypeVar("T")

IMMERSIONS = {"oil": "Oil", "water": "Water", "w": "Water", "glyc": "Glycerol",
              "glycerol": "Glycerol", "air": "Air", "multi": "Multi", "imm": "Multi",
              "wl": "WaterDipping", "silicone": "Other", "sil": "Other"}


class _Element(Protocol):
    """An XML element of lxml or the standard library: all `text_of` needs of it."""

    def findtext(self, path: str) -> str | None: ...


def text_of(element: _Element | None, path: str) -> str | None:
    """The stripped text at `path` under `element`; None when absent or blank."""
    value = element.findtext(path) if element is not None else None
    value = (value or "").strip()
    return value or None


def positive_float(value: str | float | None) -> float | None:
    """`value` as a number when it is one and positive, else None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def immersion(value: str | None) -> Objective_Immersion | None:
    """A vendor's immersion word as an OME Immersion value, or None."""
    from ome_types.model import Objective_Immersion

    word = IMMERSIONS.get((value or "").strip().lower()) if value else None
    return Objective_Immersion(word) if word else None


def parse_date(value: str | None) -> datetime | None:
    """An ISO date with up to nanoseconds and a 'Z' zone; None when absent or malformed."""
    if not value:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def lenient(build: Callable[..., Acquisition], *args: object) -> Callable[[], Acquisition]:
    """A factory that gives an empty `Acquisition` where OME refuses the vendor's values.

    Parameters
    ----------
    build : callable
        Builds the acquisition from metadata a reader holds (a module-level function, so
        that the factory pickles with the source).
    *args
        What `build` is called with.

    Returns
    -------
    callable
        ``build(*args)``, with pydantic's ValidationError (a value OME does not accept, such
        as an unknown enumeration) answered by ``Acquisition()``.
    """
    return partial(_lenient, build, *args)


class Tree:
    """A parsed vendor XML tree that pickles as its text (lxml elements do not pickle)."""

    def __init__(self, root: etree._Element, text: str | bytes) -> None:
        self.root, self.text = root, text

    def __reduce__(self) -> tuple[Callable[..., Tree], tuple[str | bytes]]:
        """Pickle as the text, parsed again when unpickled."""
        return (_tree, (self.text,))


def _tree(text: str | bytes) -> Tree:
    from .._xml import parse_xml

    return Tree(parse_xml(text), text)


def _lenient(build: Callable[..., Acquisition], *args: object) -> Acquisition:
    from pydantic import ValidationError

    try:
        return build(*(a.root if isinstance(a, Tree) else a for a in args))
    except ValidationError:
        return Acquisition()


def given(value: T) -> Callable[[], T]:
    """A factory that gives `value` (and pickles with it)."""
    return partial(_given, value)


def _given(value: T) -> T:
    return value
