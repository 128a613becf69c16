"""ROIs to and from OME: one OME `ROI` of one shape per ROI, linked from its Image by ROIRef.

Read as OMERO and Fiji's Bio-Formats exporter write them: Rectangle X, Y, Width, Height;
Ellipse X, Y (the centre), RadiusX, RadiusY; Polygon and Polyline Points "x,y x,y ..."; Line
X1, Y1, X2, Y2; Point X, Y; colours as signed 32-bit RGBA integers; TheZ, TheT, TheC unset
for every plane. A shape with a Transform is placed by it (a turned rectangle or ellipse
becomes a polygon; one moved or scaled stays what it is). Labels and masks have no ROI kind
here and are left out (counted in `ImageRois.skipped`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Roi

if TYPE_CHECKING:
    from ome_types import OME
    from ome_types import model as ome

    from ..model import ImageSource, Scene

_ROI_ELEMENT = re.compile(r"<(?:[\w.-]+:)?ROI[\s/>]")  # an OME ROI, in any namespace prefix
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# OME shape class name -> this model's kind
_KINDS = {"Rectangle": "rectangle", "Ellipse": "ellipse", "Polygon": "polygon",
          "Polyline": "polyline", "Line": "line", "Point": "point"}
# the shape lists of an OME ROI's Union
_GROUPS = ("rectangles", "ellipses", "polygons", "polylines", "lines", "points", "labels",
           "masks")


@dataclass(frozen=True)
class ImageRois:
    """The ROIs of one OME Image, and the shapes that could not be taken (Label, Mask)."""

    rois: tuple[Roi, ...]
    skipped: tuple[str, ...] = ()  # 'Label', 'Mask', ... one per shape left out


def ome_color(color: ome.Color | None) -> str | None:
    """'#RRGGBBAA' of an OME colour (a signed 32-bit RGBA integer in the XML)."""
    if color is None:
        return None
    return f"#{color.as_int32() & 0xFFFFFFFF:08X}"


def color_ome(color: str | None) -> ome.Color | None:
    """The OME colour of '#RRGGBBAA' (None stays None)."""
    from ome_types.model import Color

    if color is None:
        return None
    value = int(color.lstrip("#"), 16)
    return Color(value - 2**32 if value >= 2**31 else value)


def parse_points(text: str) -> list[tuple[float, float]]:
    """The (x, y) pairs of an OME Points attribute ("x,y x,y ...", any separators)."""
    numbers = [float(n) for n in _NUMBER.findall(text or "")]
    return list(zip(numbers[0::2], numbers[1::2]))


def format_points(points: Iterable[tuple[float, float]]) -> str:
    """An OME Points attribute: "x,y x,y ..." (shortest exact repr of each number)."""
    return " ".join(f"{x!r},{y!r}" for x, y in points)


def _transformed(shape: Any, points: list[tuple[float, float]]  # noqa: ANN401 an OME shape
                 ) -> list[tuple[float, float]] | None:
    """The points placed by the shape's Transform; None when it has none (or the identity)."""
    t = getattr(shape, "transform", None)
    if t is None:
        return None
    a00, a01, a02, a10, a11, a12 = (float(getattr(t, k) or 0) for k in
                                    ("a00", "a01", "a02", "a10", "a11", "a12"))
    if (a00, a01, a02, a10, a11, a12) == (1, 0, 0, 0, 1, 0):
        return None
    return [(a00 * x + a01 * y + a02, a10 * x + a11 * y + a12) for x, y in points]


def roi_of_shape(shape: Any, name: str | None) -> Roi | None:  # noqa: ANN401 an OME shape
    """The ROI of one OME shape; None for a kind this model has not (Label, Mask)."""
    kind = _KINDS.get(type(shape).__name__)
    if kind is None:
        return None
    if kind == "rectangle":
        x, y, w, h = (float(v) for v in (shape.x, shape.y, shape.width, shape.height))
        points = [(x, y), (x + w, y + h)]
    elif kind == "ellipse":
        x, y, rx, ry = (float(v) for v in (shape.x, shape.y, shape.radius_x, shape.radius_y))
        points = [(x - rx, y - ry), (x + rx, y + ry)]
    elif kind in ("polygon", "polyline"):
        points = parse_points(shape.points)
    elif kind == "line":
        points = [(float(shape.x1), float(shape.y1)), (float(shape.x2), float(shape.y2))]
    else:
        points = [(float(shape.x), float(shape.y))]
    common: dict[str, Any] = {
        "z": shape.the_z, "t": shape.the_t, "c": shape.the_c,
        "name": name or shape.text or None,
        "stroke": ome_color(shape.stroke_color), "fill": ome_color(shape.fill_color)}
    if kind in ("rectangle", "ellipse"):
        t = getattr(shape, "transform", None)
        if t is not None and not (t.a01 or t.a10):  # moved or scaled: still upright
            (ax, ay), (bx, by) = _transformed(shape, points) or points
            return Roi(kind, [(min(ax, bx), min(ay, by)), (max(ax, bx), max(ay, by))],
                       **common)
        moved = _transformed(shape, list(Roi(kind, points).outline()))
        if moved is not None:  # a turned box: its outline, placed
            return Roi("polygon", moved, **common)
        return Roi(kind, points, **common)
    moved = _transformed(shape, points)
    return Roi(kind, moved if moved is not None else points, **common)


def rois_of(roi: ome.ROI) -> tuple[list[Roi], list[str]]:
    """The ROIs of an OME ROI's shapes, and the kinds of the shapes left out.

    A ROI of several shapes (OMERO's ROI over several planes) gives several.
    """
    out: list[Roi] = []
    skipped: list[str] = []
    union = roi.union
    for group in _GROUPS:
        for shape in getattr(union, group, None) or []:
            try:
                found = roi_of_shape(shape, roi.name)
            except (TypeError, ValueError):  # missing or broken coordinates
                found = None
            if found is None:
                skipped.append(type(shape).__name__)
            else:
                out.append(found)
    return out, skipped


def image_roi_ids(model: OME, image: int) -> list[str]:
    """The IDs of the ROIs of the model's `image`-th Image.

    Those its ROIRefs name; in a document of one Image whose Images name no ROI (some
    writers leave the link out), every ROI.
    """
    if not 0 <= image < len(model.images):
        return []
    linked = [ref.id for ref in model.images[image].roi_refs]
    if linked or any(img.roi_refs for img in model.images) or len(model.images) != 1:
        return linked
    return [roi.id for roi in model.rois]


def image_rois(model: OME, image: int) -> ImageRois:
    """The ROIs of the model's `image`-th Image, in the document's order."""
    wanted = set(image_roi_ids(model, image))
    rois: list[Roi] = []
    skipped: list[str] = []
    for roi in model.rois:
        if roi.id in wanted:
            found, left = rois_of(roi)
            rois.extend(found)
            skipped.extend(left)
    return ImageRois(tuple(rois), tuple(skipped))


def file_rois(source: ImageSource, scene: Scene) -> ImageRois:
    """The ROIs the file records for a scene (none for a file without OME-XML of its own).

    A file whose OME-XML has no ROI element is answered from its text: no OME model is made
    (ome-types is not even imported) to show its first plane.
    """
    if source.ome_factory is None:  # a vendor file described as OME: it holds no OME ROIs
        return ImageRois(())
    if "ome" not in vars(source) and source.ome_xml is not None:  # no model made yet
        try:
            text = source.ome_xml()
        except Exception:  # noqa: BLE001 unreadable: no ROIs to show (the metadata's own
            text = ""  # reading says why)
        if text is None or not _ROI_ELEMENT.search(text):
            return ImageRois(())
    try:
        model = source.ome
    except Exception:  # noqa: BLE001 unreadable metadata: the scene's notes say so elsewhere
        return ImageRois(())
    return image_rois(model, scene.ome_image)


def to_ome(roi: Roi, roi_id: str, shape_id: str) -> ome.ROI:
    """The OME ROI of one ROI: one shape, named, on its plane, in its colours."""
    from ome_types import model as ome

    common: dict[str, Any] = {
        "id": shape_id, "the_z": roi.z, "the_t": roi.t, "the_c": roi.c, "text": roi.name,
        "stroke_color": color_ome(roi.stroke), "fill_color": color_ome(roi.fill)}
    (x0, y0, x1, y1), points = roi.bounds, roi.points
    shape: Any
    if roi.kind == "rectangle":
        shape = ome.Rectangle(x=x0, y=y0, width=x1 - x0, height=y1 - y0, **common)
    elif roi.kind == "ellipse":
        shape = ome.Ellipse(x=(x0 + x1) / 2, y=(y0 + y1) / 2, radius_x=(x1 - x0) / 2,
                            radius_y=(y1 - y0) / 2, **common)
    elif roi.kind == "polygon":
        shape = ome.Polygon(points=format_points(points), **common)
    elif roi.kind == "polyline":
        shape = ome.Polyline(points=format_points(points), **common)
    elif roi.kind == "line":
        (ax, ay), (bx, by) = points
        shape = ome.Line(x1=ax, y1=ay, x2=bx, y2=by, **common)
    else:
        shape = ome.Point(x=points[0][0], y=points[0][1], **common)
    # ome-types sorts a list of shapes into the Union's lists by kind
    return ome.ROI(id=roi_id, name=roi.name, union=[shape])  # type: ignore[arg-type]


def set_image_rois(model: OME, image: ome.Image, rois: Sequence[Roi], index: int) -> set[str]:
    """Give `image` (an Image of `model`) these ROIs in place of the ones it links.

    The new OME ROIs are added to `model` with IDs no ROI of it has; returns the IDs of the
    ROIs the image linked before, for the caller to drop where nothing else links them.
    """
    from ome_types.model import ROIRef

    old = {ref.id for ref in image.roi_refs}
    taken = {roi.id for roi in model.rois}
    shapes = {shape.id for roi in model.rois for group in _GROUPS
              for shape in getattr(roi.union, group, None) or []}
    refs = []
    for k, roi in enumerate(rois):
        roi_id = _fresh(f"ROI:{index}:{k}", taken)
        model.rois.append(to_ome(roi, roi_id, _fresh(f"Shape:{index}:{k}", shapes)))
        refs.append(ROIRef(id=roi_id))
    image.roi_refs = refs
    return old


def _fresh(wanted: str, taken: set[str]) -> str:
    new, k = wanted, 0
    while new in taken:
        k += 1
        new = f"{wanted}.{k}"
    taken.add(new)
    return new


def same_place(a: Roi, b: Roi, tolerance: float = 1e-6) -> bool:
    """Whether two ROIs are the same kind, on the same plane, with vertices within `tolerance`."""
    return (a.kind, a.z, a.t, a.c, len(a.points)) == (b.kind, b.z, b.t, b.c, len(b.points)) \
        and all(math.isclose(u, v, abs_tol=tolerance)
                for p, q in zip(a.points, b.points) for u, v in zip(p, q))
