"""A region of interest on a scene: its kind, vertices, plane, name and colours.

Coordinates are in pixels of the scene's full-resolution grid, as OME, ImageJ and QuPath
write them: pixel (0, 0) covers the square from (0, 0) to (1, 1), so its centre is at
(0.5, 0.5). napari puts pixel centres at whole numbers; the napari side shifts by half a
pixel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

KINDS = ("rectangle", "ellipse", "polygon", "polyline", "line", "point")
# How many vertices each kind takes: rectangle and ellipse by two opposite corners of their
# box (the ellipse's box), a line by its ends, a point by itself; None: any number from the min
_VERTICES: dict[str, tuple[int, int | None]] = {
    "rectangle": (2, 2), "ellipse": (2, 2), "line": (2, 2), "point": (1, 1),
    "polygon": (3, None), "polyline": (2, None)}
_HEX = re.compile(r"#[0-9A-F]{8}")


@dataclass(frozen=True)
class Roi:
    """One region of interest: a shape on one plane (or on every plane of an axis).

    Parameters
    ----------
    kind
        rectangle, ellipse, polygon, polyline, line or point.
    points
        (x, y) vertices in full-resolution pixels: a rectangle's or ellipse's top-left and
        bottom-right box corners, a line's two ends, a point, a polygon's or polyline's
        vertices (a tuple of tuples).
    z, t, c
        The plane index along Z and T, and the channel, it lies on; None: every one.
    name
        The ROI's name (OME ROI Name, QuPath's name, napari's `name` feature).
    stroke, fill
        Colours as '#RRGGBBAA'; None: the viewer's default.
    """

    kind: str
    points: Sequence[tuple[float, float]]
    z: int | None = None
    t: int | None = None
    c: int | None = None
    name: str | None = None
    stroke: str | None = None
    fill: str | None = None

    def __post_init__(self) -> None:
        """Check the kind, vertices and colours; keep the vertices as tuples of floats."""
        if self.kind not in KINDS:
            raise ValueError(f"{self.kind!r} is not a kind of ROI ({', '.join(KINDS)})")
        points = tuple((float(x), float(y)) for x, y in self.points)
        low, high = _VERTICES[self.kind]
        if len(points) < low or (high is not None and len(points) > high):
            wanted = low if high == low else f"at least {low}"
            raise ValueError(f"a {self.kind} takes {wanted} vertices, not {len(points)}")
        if not all(math.isfinite(v) for p in points for v in p):
            raise ValueError(f"a {self.kind} with a vertex that is not a finite number")
        object.__setattr__(self, "points", points)
        for name in ("stroke", "fill"):
            value = getattr(self, name)
            if value is not None:
                value = value.upper()
                if len(value) == 7:
                    value += "FF"
                if not _HEX.fullmatch(value):
                    raise ValueError(f"{name} {value!r} is not a colour '#RRGGBBAA'")
                object.__setattr__(self, name, value)
        for name in ("z", "t", "c"):
            value = getattr(self, name)
            if value is not None and (int(value) != value or value < 0):
                raise ValueError(f"{name} {value!r} is not a plane index")
            object.__setattr__(self, name, None if value is None else int(value))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x min, y min, x max, y max) of the vertices (of the box, for an ellipse)."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def area(self) -> float:
        """The area in pixels (0 for lines, polylines and points)."""
        x0, y0, x1, y1 = self.bounds
        if self.kind == "rectangle":
            return (x1 - x0) * (y1 - y0)
        if self.kind == "ellipse":
            return math.pi * (x1 - x0) * (y1 - y0) / 4
        if self.kind == "polygon":
            return shoelace(self.points)
        return 0.0

    def outline(self, segments: int = 64) -> tuple[tuple[float, float], ...]:
        """The vertices of the outline: a rectangle's four corners, an ellipse as a polygon."""
        x0, y0, x1, y1 = self.bounds
        if self.kind == "rectangle":
            return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        if self.kind == "ellipse":
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
            return tuple((cx + rx * math.cos(2 * math.pi * k / segments),
                          cy + ry * math.sin(2 * math.pi * k / segments))
                         for k in range(segments))
        return tuple(self.points)

    def as_dict(self) -> dict[str, Any]:
        """The ROI as JSON (the sidecar's form): unset fields left out."""
        out: dict[str, Any] = {"kind": self.kind, "points": [list(p) for p in self.points]}
        for name in ("z", "t", "c", "name", "stroke", "fill"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Roi:
        """A ROI from its JSON form (`as_dict`)."""
        return cls(kind=data["kind"], points=[tuple(p) for p in data["points"]],
                   **{k: data.get(k) for k in ("z", "t", "c", "name", "stroke", "fill")})


def on_scene(rois: Sequence[Roi], sizes: dict[str, int]) -> list[Roi]:
    """The ROIs with no plane index on an axis of one plane (or none): it says nothing there.

    QuPath writes a plane (z, t) for every object off the first; on an image of one time
    point, t=0 is every time point.
    """
    from dataclasses import replace

    def kept(value: int | None, axis: str) -> int | None:
        return value if sizes.get(axis, 1) > 1 else None

    return [replace(roi, z=kept(roi.z, "Z"), t=kept(roi.t, "T"), c=kept(roi.c, "C"))
            for roi in rois]


def shoelace(points: Sequence[tuple[float, float]]) -> float:
    """The area enclosed by a polygon's vertices (the shoelace formula), in their unit²."""
    n = len(points)
    twice = sum(points[k][0] * points[(k + 1) % n][1] - points[(k + 1) % n][0] * points[k][1]
                for k in range(n))
    return abs(twice) / 2


def rgba_hex(rgba: Sequence[float]) -> str:
    """'#RRGGBBAA' from components in 0..1 (three or four)."""
    values = list(rgba) + [1.0] * (4 - len(rgba))
    return "#" + "".join(f"{round(max(0.0, min(1.0, float(v))) * 255):02X}" for v in values[:4])


def hex_rgba(color: str) -> tuple[float, float, float, float]:
    """Components in 0..1 of '#RRGGBBAA' (or '#RRGGBB', opaque)."""
    text = color.lstrip("#")
    text = text + "FF" if len(text) == 6 else text
    r, g, b, a = (int(text[i:i + 2], 16) / 255 for i in (0, 2, 4, 6))
    return r, g, b, a
