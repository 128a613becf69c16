"""QuPath's GeoJSON: a FeatureCollection of annotations, in full-resolution pixels.

QuPath writes each object as a Feature: its `geometry` (Polygon, LineString, Point,
MultiPoint; MultiPolygon for pieces), the plane in `geometry.plane` ({"c", "z", "t"}; -1 for
none) where it is not the first, and `properties` with `objectType`, `name`, `color`
([r, g, b]) and `classification` ({"name", "color"}). Its pixel (0, 0) covers the square from
(0, 0) to (1, 1), as in OME: coordinates are taken as they are.

Exported, rectangles and ellipses become Polygons (an ellipse of 64 vertices, as QuPath
writes its own); imported, a Polygon of four upright corners is a rectangle again.
Holes of polygons are left out (`Imported.notes` says how many).
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Roi, hex_rgba, rgba_hex


@dataclass(frozen=True)
class Imported:
    """The ROIs of a GeoJSON file, and what could not be taken."""

    rois: tuple[Roi, ...]
    notes: tuple[str, ...] = ()


def to_geojson(rois: Iterable[Roi]) -> dict[str, Any]:
    """A FeatureCollection of the ROIs, as QuPath writes annotations."""
    return {"type": "FeatureCollection", "features": [_feature(roi) for roi in rois]}


def _feature(roi: Roi) -> dict[str, Any]:
    geometry: dict[str, Any]
    if roi.kind in ("rectangle", "ellipse", "polygon"):
        ring = [list(p) for p in roi.outline()]
        geometry = {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
    elif roi.kind in ("line", "polyline"):
        geometry = {"type": "LineString", "coordinates": [list(p) for p in roi.points]}
    else:
        geometry = {"type": "Point", "coordinates": list(roi.points[0])}
    if (roi.z, roi.t, roi.c) != (None, None, None):
        geometry["plane"] = {"c": -1 if roi.c is None else roi.c, "z": roi.z or 0,
                             "t": roi.t or 0}
    properties: dict[str, Any] = {"objectType": "annotation"}
    if roi.name:
        properties["name"] = roi.name
    if roi.stroke:
        properties["color"] = [round(v * 255) for v in hex_rgba(roi.stroke)[:3]]
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": geometry,
            "properties": properties}


def write_geojson(rois: Iterable[Roi], path: str | os.PathLike[str]) -> None:
    """Write the ROIs as a GeoJSON FeatureCollection (UTF-8) at `path`, whole.

    WriteError when it cannot be written.
    """
    from pathlib import Path

    from ..writing.common import write_text_atomic

    write_text_atomic(Path(path), json.dumps(to_geojson(rois), indent=2) + "\n")


def from_geojson(data: object) -> Imported:
    """The ROIs of a GeoJSON object (a FeatureCollection, a Feature, a list of Features).

    Raises ValueError when it holds no GeoJSON features.
    """
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
    elif isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    else:
        features = data  # QuPath also exports a bare list of features
    if not isinstance(features, list):
        raise ValueError("not GeoJSON: no FeatureCollection, Feature or list of features")
    rois: list[Roi] = []
    notes: list[str] = []
    for k, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            notes.append(f"feature {k}: no geometry; left out")
            continue
        try:
            found, said = _rois_of(feature)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            notes.append(f"feature {k}: {exc}; left out")
            continue
        rois.extend(found)
        notes.extend(f"feature {k}: {note}" for note in said)
    return Imported(tuple(rois), tuple(notes))


def read_geojson(path: str | os.PathLike[str]) -> Imported:
    """The ROIs of a GeoJSON file; ValueError naming the problem when it is none."""
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise ValueError("is JSON nested too deeply to read") from None
    try:
        return from_geojson(data)
    except RecursionError:
        raise ValueError("holds values nested too deeply to read") from None


def _object(value: object) -> dict[str, Any]:
    """A JSON object, or {} for anything else (a classification given as a bare string)."""
    return value if isinstance(value, dict) else {}


def _rois_of(feature: dict[str, Any]) -> tuple[list[Roi], list[str]]:
    geometry = feature["geometry"]
    properties = _object(feature.get("properties"))
    classification = _object(properties.get("classification"))
    name = properties.get("name") or classification.get("name")
    color = properties.get("color") or classification.get("color")
    plane = _object(geometry.get("plane"))
    common: dict[str, Any] = {
        "name": str(name) if name else None, "stroke": _hex(color),
        "z": _index(plane.get("z")), "t": _index(plane.get("t")), "c": _index(plane.get("c"))}
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    notes: list[str] = []
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = list(coordinates)
    elif kind == "LineString":
        points = _pairs(coordinates)
        return [Roi("line" if len(points) == 2 else "polyline", points, **common)], notes
    elif kind == "MultiLineString":
        return [Roi("line" if len(p) == 2 else "polyline", p, **common)
                for p in map(_pairs, coordinates)], notes
    elif kind == "Point":
        return [Roi("point", _pairs([coordinates]), **common)], notes
    elif kind == "MultiPoint":
        return [Roi("point", [p], **common) for p in _pairs(coordinates)], notes
    else:
        raise ValueError(f"geometry {kind!r} is no ROI kind")
    out = []
    for rings in polygons:
        ring = _pairs(rings[0])
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]
        if len(rings) > 1:
            notes.append(f"{len(rings) - 1} hole(s) of a polygon left out")
        out.append(_rectangle(ring, common) or Roi("polygon", ring, **common))
    return out, notes


def _rectangle(ring: Sequence[tuple[float, float]], common: dict[str, Any]) -> Roi | None:
    """A rectangle of a ring of four upright corners (QuPath's rectangles); else None."""
    if len(ring) != 4:
        return None
    xs, ys = {p[0] for p in ring}, {p[1] for p in ring}
    if len(xs) != 2 or len(ys) != 2:
        return None
    return Roi("rectangle", [(min(xs), min(ys)), (max(xs), max(ys))], **common)


def _pairs(coordinates: Any) -> list[tuple[float, float]]:  # noqa: ANN401 JSON
    pairs = [(float(p[0]), float(p[1])) for p in coordinates]
    if not all(math.isfinite(v) for p in pairs for v in p):
        raise ValueError("a coordinate that is not a finite number")
    return pairs


def _index(value: object) -> int | None:
    """A plane index of QuPath's (-1, or absent: none)."""
    if value is None or isinstance(value, bool):
        return None
    number = int(value)  # type: ignore[call-overload]
    return number if number >= 0 else None


def _hex(color: object) -> str | None:
    """'#RRGGBBAA' of QuPath's [r, g, b] (0..255), or of a packed RGB integer."""
    if isinstance(color, list) and len(color) >= 3:
        return rgba_hex([float(v) / 255 for v in color[:4]])
    if isinstance(color, int) and not isinstance(color, bool):
        value = color & 0xFFFFFF
        return f"#{value:06X}FF"
    return None
