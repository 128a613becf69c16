"""Numbers of ROIs: area in µm² and mean intensity per channel, one row per ROI.

Areas by formula (rectangle w·h, ellipse π·a·b, polygon by the shoelace formula) times the
pixel's physical size. The mean takes the pixels whose centres lie inside the shape (those
a point or line passes through), on the ROI's plane (every plane of an axis it does not
name); only the ROI's bounding box is read, lazily.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import Roi

if TYPE_CHECKING:
    from ..model import Scene

COLUMNS = ("roi", "name", "kind", "z", "t", "c", "area_px", "area_um2")


def pixel_um2(scene: Scene) -> float | None:
    """The area of one pixel in µm² (None when X or Y has no physical length)."""
    from ..units import convert, is_length

    sizes = []
    for axis in "XY":
        size, unit = scene.physical_pixel_sizes.get(axis), scene.units.get(axis, "µm")
        if not size or not is_length(unit):
            return None
        sizes.append(convert(size, unit, "µm"))
    return sizes[0] * sizes[1]


def mask(roi: Roi, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """Which pixels of the box (x0, y0, width, height) the ROI covers (bool, Y by X).

    A pixel is inside an area when its centre is (even-odd rule for polygons); a point
    covers the pixel it lies in, a line those it passes through.
    """
    ys, xs = np.mgrid[y0:y0 + height, x0:x0 + width] + 0.5
    if roi.kind == "rectangle":
        bx0, by0, bx1, by1 = roi.bounds
        return (xs >= bx0) & (xs < bx1) & (ys >= by0) & (ys < by1)
    if roi.kind == "ellipse":
        bx0, by0, bx1, by1 = roi.bounds
        rx, ry = (bx1 - bx0) / 2, (by1 - by0) / 2
        if rx <= 0 or ry <= 0:
            return np.zeros(xs.shape, bool)
        return ((xs - (bx0 + rx)) / rx) ** 2 + ((ys - (by0 + ry)) / ry) ** 2 <= 1
    if roi.kind == "polygon":
        return _inside(roi.points, xs, ys)
    out = np.zeros(xs.shape, bool)
    for px, py in _traced(roi.points):
        i, j = math.floor(py) - y0, math.floor(px) - x0
        if 0 <= i < height and 0 <= j < width:
            out[i, j] = True
    return out


def _inside(points: Sequence[tuple[float, float]], xs: np.ndarray,
            ys: np.ndarray) -> np.ndarray:
    """Even-odd rule: whether each (x, y) is inside the polygon (a ray to +x crossings)."""
    inside = np.zeros(xs.shape, bool)
    n = len(points)
    for k in range(n):
        (ax, ay), (bx, by) = points[k], points[(k - 1) % n]
        if ay == by:
            continue
        crosses = (ay > ys) != (by > ys)
        at = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (xs < at)
    return inside


def _traced(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points every quarter pixel along a polyline (its vertices for a single point)."""
    if len(points) == 1:
        return list(points)
    out: list[tuple[float, float]] = []
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        steps = max(1, math.ceil(4 * math.hypot(bx - ax, by - ay)))
        out.extend((ax + (bx - ax) * s / steps, ay + (by - ay) * s / steps)
                   for s in range(steps + 1))
    return out


def means(scene: Scene, roi: Roi) -> list[float | None]:
    """The ROI's mean intensity in each channel (None where it covers no pixel).

    Reads the bounding box only: on the ROI's Z and T plane, every plane of an axis it
    leaves unset, every index of further axes; summed chunk by chunk, so memory stays a few
    chunks whatever the planes.
    """
    from ..scene.chunked import compute

    sizes = scene.sizes
    x0, y0, x1, y1 = roi.bounds
    left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
    right = min(sizes.get("X", 1), max(left + 1, math.ceil(x1)))
    bottom = min(sizes.get("Y", 1), max(top + 1, math.ceil(y1)))
    if right <= left or bottom <= top:
        return [None] * sizes.get("C", 1)
    covered = mask(roi, left, top, right - left, bottom - top)
    if not covered.any():
        return [None] * sizes.get("C", 1)
    index: list[Any] = []
    for axis in scene.dims:
        if axis == "Y":
            index.append(slice(top, bottom))
        elif axis == "X":
            index.append(slice(left, right))
        elif axis == "Z" and roi.z is not None and roi.z < sizes["Z"]:
            index.append(slice(roi.z, roi.z + 1))
        elif axis == "T" and roi.t is not None and roi.t < sizes["T"]:
            index.append(slice(roi.t, roi.t + 1))
        else:
            index.append(slice(None))
    dims = scene.dims
    # channels first, then (S, ...) the rest, Y and X last
    order = ([dims.index("C")] if "C" in dims else []) + \
        [i for i, a in enumerate(dims) if a not in "CYX"] + [dims.index("Y"), dims.index("X")]
    box = scene.data[tuple(index)].transpose(order)  # lazy: summed chunk by chunk
    if "C" not in dims:
        box = box[None]
    planes = math.prod(box.shape[1:-2])
    sums = (box.astype(np.float64) * covered).sum(axis=tuple(range(1, box.ndim)))
    count = int(covered.sum()) * planes
    return [float(total) / count for total in np.asarray(compute(sums))]


def rows(scene: Scene, rois: Sequence[Roi]) -> list[dict[str, Any]]:
    """One row per ROI: index, name, kind, planes, area in pixels and µm², mean per channel."""
    um2 = pixel_um2(scene)
    names = [f"mean_{name}" for name in scene.channel_names]
    out = []
    for k, roi in enumerate(rois):
        area = roi.area
        row: dict[str, Any] = {
            "roi": k, "name": roi.name or "", "kind": roi.kind, "z": roi.z, "t": roi.t,
            "c": roi.c, "area_px": area, "area_um2": area * um2 if um2 is not None else None}
        row.update(zip(names, means(scene, roi)))
        out.append(row)
    return out


def csv_text(table: list[dict[str, Any]], channel_names: Sequence[str]) -> str:
    """The rows as CSV (empty cells for unknown values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, [*COLUMNS, *(f"mean_{n}" for n in channel_names)],
                            lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
