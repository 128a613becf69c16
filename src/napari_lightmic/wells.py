"""Plate wells: their names, and when the scenes of a file are the fields of a plate.

One home for the rule `lightmic convert` and `write` follow to choose between an NGFF plate
and the bioformats2raw layout for a file of several scenes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from .model import Well

if TYPE_CHECKING:
    from .model import Scene

Layout = Literal["auto", "plate", "images"]
LAYOUTS: tuple[str, ...] = ("auto", "plate", "images")

# 'D6', 'D06', 'Well D6'; a field after a separator, maybe named: 'A1-Site_0' (Micro-Manager
# HCS), 'B2_F3', 'C03 field 2', 'A1 #2'.
_WELL = re.compile(
    r"(?:well[\s_-]*)?(?P<row>[A-Z]{1,2})[\s_-]?0*(?P<column>[1-9][0-9]?)"
    r"(?:[\s_-]+(?:site|field|fld|pos|position|f|s)?[\s_#-]*(?P<field>[0-9]{1,4}))?",
    re.IGNORECASE)


def well_from_name(name: str) -> Well | None:
    """The well (and field) a scene's name gives, or None ('A1-Site_0' -> A1, field 0).

    Rows A to AF and columns 1 to 48, as plates of up to 1536 wells have.
    """
    match = _WELL.fullmatch(name.strip())
    if match is None:
        return None
    letters = match["row"].upper()
    row = ord(letters[-1]) - ord("A") + (26 if len(letters) == 2 else 0)
    if len(letters) == 2 and letters[0] != "A":
        return None
    field = int(match["field"]) if match["field"] is not None else None
    well = Well(row=row, column=int(match["column"]) - 1, field=field)
    return well if well.on_plate else None


# Micro-Manager's HCS Site Generator names each position WELL-Site_N ('B3-Site_2')
_MM_SITE = re.compile(r"[A-Z]{1,2}[0-9]{1,2}-Site_[0-9]+")


def site_generator_well(label: str) -> Well | None:
    """The well a Micro-Manager position's label records ('B3-Site_2' -> B3, field 2).

    Where the HCS Site Generator made the position list; None for any other label.
    """
    return well_from_name(label) if _MM_SITE.fullmatch(label) else None


def plate_wells(scenes: Sequence[Scene], layout: Layout = "auto") -> list[Well] | None:
    """Each scene's well, fields numbered within their well, when the scenes make a plate.

    "auto": a plate when there are two scenes or more and the file records a well for every
    one (`Scene.well`; names alone are not enough: 'S1' may be a well or a scene).
    "plate": a plate whatever the count, each scene's well from the file, else from its name.
    "images": never. Scenes of one well are its fields, numbered from 0 in the order of the
    field numbers the file or names give (when distinct), else in scene order.

    Raises
    ------
    ValueError
        With "plate", a scene whose well is neither recorded nor in its name.
    """
    if layout == "images" or (layout == "auto" and (
            len(scenes) < 2 or any(s.well is None for s in scenes))):
        return None
    found: list[Well] = []
    for scene in scenes:
        well = scene.well or well_from_name(scene.name)
        if well is None:
            raise ValueError(f"scene {scene.index} ({scene.name!r}) names no plate well "
                             "(such as D6 or A1-Site_0): write it with --layout images")
        found.append(well)
    by_well: dict[tuple[int, int], list[int]] = {}
    for i, well in enumerate(found):
        by_well.setdefault((well.row, well.column), []).append(i)
    out = list(found)
    for members in by_well.values():
        given = [found[i].field for i in members]
        keep = None not in given and len(set(given)) == len(given)
        order = sorted(members, key=lambda i: found[i].field or 0) if keep else members
        for field, i in enumerate(order):
            out[i] = Well(found[i].row, found[i].column, field)
    return out
