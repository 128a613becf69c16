"""ROIs and napari's Shapes and Points layers, in the image layers' pixel grid.

A layer's vertices are placed in the world by its own scale and translate (not its rotate,
shear or affine), and the image's pixel grid by the image layer's: a vertex's pixel is
(world - image translate) / image scale. napari puts a pixel's centre on a whole number,
OME, ImageJ and QuPath its corner: Y and X are shifted by half a pixel. Z and T are plane
indices. napari aligns layers by their last axes: a Shapes layer of the image's Y and X
alone shows on every plane, and its ROIs have no Z or T. A ROI on one time point but every
Z plane of a T, Z, Y, X image has no such layer: it is shown (and saved again) on plane 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..rois import Roi
from ..rois.model import hex_rgba, rgba_hex

# napari shape types and ROI kinds
TO_NAPARI = {"rectangle": "rectangle", "ellipse": "ellipse", "polygon": "polygon",
             "polyline": "path", "line": "line"}
FROM_NAPARI = {napari: kind for kind, napari in TO_NAPARI.items()}
STROKE = "#FFFF00FF"  # shapes without a colour of their own: a yellow outline, no fill
FILL = "#00000000"
EDGE_WIDTH = 2.0  # outlines two of the image's pixels wide (napari: in the layer's data units)
# the names napari gives new layers: not the name of each shape drawn in them
DEFAULT_NAME = re.compile(r"(Shapes|Points)( \[\d+\])?")
ELLIPSE_SEGMENTS = 64  # a turned ellipse is written as a polygon of this many vertices


@dataclass(frozen=True)
class Frame:
    """The pixel grid of an image layer: its axes (letters), scale and translate."""

    axes: str  # the image layer's axes, e.g. 'ZYX' (no channel axis)
    scale: tuple[float, ...]
    translate: tuple[float, ...]

    @classmethod
    def of(cls, axes: str, scale: Sequence[float] | None,
           translate: Sequence[float] | None) -> Frame:
        """The frame of an image layer of these axes, scale and translate (None: unit, 0)."""
        n = len(axes)
        return cls(axes, tuple(float(s) for s in (scale if scale is not None else [1.0] * n)),
                   tuple(float(t) for t in (translate if translate is not None
                                            else [0.0] * n)))

    def suffix(self, n: int) -> Frame:
        """The frame of the last `n` axes (the axes a layer of `n` dimensions aligns with)."""
        return Frame(self.axes[-n:], self.scale[-n:], self.translate[-n:])


# -- ROIs to layers --------------------------------------------------------------------------

def roi_layer_data(rois: Sequence[Roi], frame: Frame, suffix: str = "",
                   metadata: dict[str, Any] | None = None,
                   units: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """LayerData (napari's) of these ROIs over the image layers of `frame`.

    Shapes and points apart; ROIs on a plane (Z, T) apart from those on every plane, in
    layers of only the axes they need (a layer of Y and X shows on every plane). `units`:
    the image layers' (one per axis of `frame`).
    """
    groups: dict[tuple[int, bool], list[Roi]] = {}
    for roi in rois:
        groups.setdefault((_depth(roi, frame), roi.kind == "point"), []).append(roi)
    out: list[tuple[Any, ...]] = []
    for (depth, points), members in sorted(groups.items(), key=lambda g: (g[0][1], -g[0][0])):
        sub = frame.suffix(depth)
        name = ("ROI points" if points else "ROIs") + _every(frame.axes[:-depth]) + suffix
        kwargs: dict[str, Any] = {
            "name": name, "scale": list(sub.scale), "translate": list(sub.translate),
            "axis_labels": list(sub.axes), "metadata": dict(metadata or {}),
            "features": _features(members)}
        if units is not None:  # the image layers' units: no "inconsistent units" warning
            kwargs["units"] = list(units)[-depth:]
        if any(r.name for r in members):
            kwargs["text"] = {"string": "{name}", "size": 10, "color": "white",
                              "anchor": "upper_left"}
        if points:
            kwargs["face_color"] = [hex_rgba(r.fill or "#FFFF00FF") for r in members]
            kwargs["border_color"] = [hex_rgba(r.stroke or "#000000FF") for r in members]
            data = np.array([_vertex(r, r.points[0], sub) for r in members], dtype=float)
            out.append((data, kwargs, "points"))
        else:
            kwargs["shape_type"] = [TO_NAPARI[r.kind] for r in members]
            kwargs["edge_color"] = [hex_rgba(r.stroke or STROKE) for r in members]
            kwargs["face_color"] = [hex_rgba(r.fill or FILL) for r in members]
            kwargs["edge_width"] = EDGE_WIDTH
            shapes = [np.array([_vertex(r, p, sub) for p in _napari_vertices(r)], dtype=float)
                      for r in members]
            out.append((shapes, kwargs, "shapes"))
    return out


def _every(missing: str) -> str:
    """What a layer without these leading axes shows its ROIs on: ' (every plane)'."""
    if not missing:
        return ""
    return " (every time point)" if missing == "T" else " (every plane)"


def _depth(roi: Roi, frame: Frame) -> int:
    """How many of the frame's last axes a ROI needs: Y and X, and back to its first plane."""
    planes = {"Z": roi.z, "T": roi.t}
    needed = [i for i, a in enumerate(frame.axes) if planes.get(a) is not None]
    return len(frame.axes) - min(needed) if needed else min(2, len(frame.axes))


def _napari_vertices(roi: Roi) -> tuple[tuple[float, float], ...]:
    """The vertices napari takes: a box's four corners for rectangles and ellipses."""
    if roi.kind in ("rectangle", "ellipse"):
        x0, y0, x1, y1 = roi.bounds
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return tuple(roi.points)


def _vertex(roi: Roi, point: tuple[float, float], frame: Frame) -> list[float]:
    """A vertex in a layer's data coordinates (the image's pixels; centres on whole numbers)."""
    planes = {"Z": roi.z, "T": roi.t}
    coords = []
    for axis in frame.axes:
        if axis == "X":
            coords.append(point[0] - 0.5)
        elif axis == "Y":
            coords.append(point[1] - 0.5)
        else:
            coords.append(float(planes.get(axis) or 0))
    return coords


def _features(rois: Sequence[Roi]) -> dict[str, list[Any]]:
    features: dict[str, list[Any]] = {"name": [r.name or "" for r in rois]}
    if any(r.c is not None for r in rois):
        features["channel"] = [-1 if r.c is None else r.c for r in rois]
    return features


# -- layers to ROIs --------------------------------------------------------------------------

def rois_of_layer(data: Any, meta: dict[str, Any], kind: str,  # noqa: ANN401 layer data
                  frame: Frame) -> list[Roi]:
    """The ROIs of a Shapes or Points layer's data (napari's LayerData), in `frame`'s pixels.

    Names from the layer's `name` feature (blank: none), else, in a layer without one, the
    layer's own name (not napari's default 'Shapes' or 'Points'); colours from the edge
    (border) and face colours; the channel from a `channel` feature.
    """
    if kind == "points":
        array = np.asarray(data, dtype=float)
        shapes: list[np.ndarray] = [row[None, :] for row in array] if array.ndim == 2 else []
        types = ["point"] * len(shapes)
        strokes = meta.get("border_color")
    else:
        shapes = [np.asarray(s, dtype=float) for s in data]
        types = list(meta.get("shape_type") or ["polygon"] * len(shapes))
        strokes = meta.get("edge_color")
    ndim = shapes[0].shape[1] if shapes else 2
    scale = np.asarray(meta.get("scale") if meta.get("scale") is not None else [1.0] * ndim,
                       dtype=float)
    translate = np.asarray(meta.get("translate") if meta.get("translate") is not None
                           else [0.0] * ndim, dtype=float)
    names = _names(meta.get("features"), meta.get("name"), len(shapes))
    channels = _column(meta.get("features"), "channel", len(shapes))
    fills = meta.get("face_color")
    out = []
    for k, (vertices, shape_type) in enumerate(zip(shapes, types)):
        world = vertices * scale + translate
        roi = _roi(world, shape_type, frame)
        if roi is None:
            continue
        channel = channels[k]
        out.append(Roi(
            roi.kind, roi.points, z=roi.z, t=roi.t,
            c=int(channel) if channel is not None and int(channel) >= 0 else None,
            name=names[k], stroke=_color(strokes, k), fill=_color(fills, k)))
    return out


def _roi(world: np.ndarray, shape_type: str, frame: Frame) -> Roi | None:
    """A ROI (kind, vertices, planes) of one shape's world vertices; None for none."""
    n = world.shape[1]
    shared = min(n, len(frame.axes))
    sub = frame.suffix(shared)
    pixels = (world[:, n - shared:] - np.asarray(sub.translate)) / np.asarray(sub.scale)
    column = {axis: pixels[:, i] for i, axis in enumerate(sub.axes)}
    if "X" not in column or "Y" not in column:
        return None
    xy = np.stack([column["X"] + 0.5, column["Y"] + 0.5], axis=1)
    plane = {axis: max(0, int(round(float(column[axis][0])))) for axis in ("Z", "T")
             if axis in column}
    kind = "point" if shape_type == "point" else FROM_NAPARI.get(str(shape_type))
    if kind is None:
        return None
    points = [(float(x), float(y)) for x, y in xy]
    if kind in ("rectangle", "ellipse") and len(points) == 4 and not _upright(xy):
        kind, points = "polygon", points if kind == "rectangle" else _turned_ellipse(xy)
    elif kind in ("rectangle", "ellipse"):
        points = [(float(xy[:, 0].min()), float(xy[:, 1].min())),
                  (float(xy[:, 0].max()), float(xy[:, 1].max()))]
    try:
        return Roi(kind, points, z=plane.get("Z"), t=plane.get("T"))
    except ValueError:  # a polygon of two vertices, ...: no ROI of its kind
        return None


def _upright(xy: np.ndarray) -> bool:
    """Whether a box's four corners are upright (its sides along X and Y)."""
    span = float(np.ptp(xy, axis=0).max()) or 1.0
    tolerance = 1e-9 * span
    return all(len(_distinct(xy[:, i], tolerance)) <= 2 for i in (0, 1))


def _distinct(values: np.ndarray, tolerance: float) -> list[float]:
    found: list[float] = []
    for v in sorted(float(x) for x in values):
        if not found or v - found[-1] > tolerance:
            found.append(v)
    return found


def _turned_ellipse(corners: np.ndarray) -> list[tuple[float, float]]:
    """A turned ellipse (its box's four corners) as a polygon."""
    centre = corners.mean(axis=0)
    u = (corners[1] - corners[0]) / 2
    w = (corners[3] - corners[0]) / 2
    return [(float(x), float(y)) for x, y in
            (centre + math.cos(2 * math.pi * k / ELLIPSE_SEGMENTS) * u
             + math.sin(2 * math.pi * k / ELLIPSE_SEGMENTS) * w
             for k in range(ELLIPSE_SEGMENTS))]


def _names(features: Any, layer_name: object,  # noqa: ANN401 a DataFrame or dict
           n: int) -> list[str | None]:
    if features is not None and "name" in features:  # a layer naming its shapes
        return [str(v) if v not in (None, "") else None for v in _column(features, "name", n)]
    name = str(layer_name or "")
    own = name if name and not DEFAULT_NAME.fullmatch(name) else None
    return [own] * n


def _column(features: Any, key: str, n: int) -> list[Any]:  # noqa: ANN401 a DataFrame
    """A feature's values, one per shape (None where the layer has no such feature)."""
    if features is None or key not in features:
        return [None] * n
    values = list(features[key])
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in values] + [None] * (n - len(values))


def _color(colors: Any, k: int) -> str | None:  # noqa: ANN401 napari's colour array
    array = np.asarray(colors, dtype=float) if colors is not None else np.empty((0, 4))
    if array.ndim == 1 and array.size in (3, 4):
        return rgba_hex(array.tolist())
    return rgba_hex(array[k].tolist()) if k < len(array) else None
