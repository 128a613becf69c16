"""OME-XML as scenes: each Image's sizes, units, time step and channels.

Read leniently where a document breaks the schema. Used by the TIFF reader and by OME-TIFF
sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from ..colors import complete_colors, parse_color
from ..model import Channel, Scene
from .acquisition import positive_float

if TYPE_CHECKING:
    import dask.array as da
    from lxml import etree
    from ome_types import OME
    from ome_types.model import CommentAnnotation, Image, Pixels


class ChannelInfo(TypedDict, total=False):
    """What an OME Channel says; an empty one where the channels do not match the data."""

    name: str | None
    rgb: tuple[int, ...] | None
    emission: float | None
    excitation: float | None
    fluor: str | None


class ImageInfo(TypedDict, total=False):
    """What an OME Image says: its name, sizes (value and unit per axis) and channels."""

    name: Required[str | None]
    sizes: Required[dict[str, tuple[float | None, str | None]]]
    channels: Required[list[ChannelInfo]]
    t_note: str | None  # how the time step was found
    notes: list[str]  # this plugin's notes, written with the image
    stored: bool  # the image's pixels are in TIFF pages (it has TiffData)


class OmeSceneFields(TypedDict, total=False):
    """Further fields of a `Scene` that `ome_scene` passes on."""

    pyramid: Sequence[da.Array]
    stage_position: dict[str, float] | None
    ome_index: int | None


class SceneFields(OmeSceneFields, total=False):
    """Further fields of a `Scene` that `make_scene` passes on."""

    notes: Sequence[str]


def make_scene(index: int, name: str, data: da.Array, dims: str,
               physical: dict[str, float | None], channels: Sequence[Channel],
               recorded_z: bool = False, units: dict[str, str] | None = None,
               **more: Unpack[SceneFields]) -> Scene:
    """A scene; `more` are the Scene's further fields (notes, pyramid, stage_position...)."""
    sizes = dict(zip(dims, data.shape))
    if sizes.get("Z", 1) == 1 and not recorded_z:
        physical["Z"] = None  # a single plane has no Z step, unless the file states one
    known = {a: (units or {}).get(a, "µm") for a, v in physical.items() if v}
    return Scene(index=index, name=name, data=data, dims=dims, physical_pixel_sizes=physical,
                 units=known, channels=channels, **more)


def ome_images(xml: str, root: etree._Element | None = None
               ) -> tuple[OME | None, list[ImageInfo], str | None]:
    """(the OME model or None, what each Image says, a note when read leniently).

    `root` is `xml` as `parse_xml` parsed it, where the caller did (it is not parsed again
    then); ome-types parses the text itself, after it passed this parser's limits.
    """
    import ome_types
    from pydantic import ValidationError

    from .._xml import parse_xml

    if root is None:
        root = parse_xml(xml, "the OME-XML")  # our limits before ome-types parses it
    try:
        ome = ome_types.from_xml(xml)
        annotations = {a.id: a for a in ome.structured_annotations or []
                       if isinstance(a, ome_types.model.CommentAnnotation)}
        return ome, [_image_info(image, annotations) for image in ome.images], None
    except ValidationError as err:
        return None, _lenient_image_info(root), (
            f"The OME-XML does not follow the OME schema ({err.error_count()} problem(s)); "
            "it was read leniently and values it gets wrong are unknown.")


def ome_scene(index: int, info: ImageInfo, data: da.Array, dims: str, fallback_name: str = "",
              notes: list[str] | None = None, **more: Unpack[OmeSceneFields]) -> Scene:
    """A scene of an OME image: its pixel sizes, time step and channels as `info` says.

    `notes` follow the image's own, `more` are the Scene's further fields.
    """
    physical: dict[str, float | None] = {}
    units: dict[str, str] = {}
    for axis in "TZYX":
        value, unit = info["sizes"].get(axis, (None, None))
        size, unit = size_and_unit(value, unit, "s" if axis == "T" else "µm")
        if axis == "T" and size is None:
            continue
        physical[axis] = size
        if size is not None and unit is not None:
            units[axis] = unit
    n = dict(zip(dims, data.shape)).get("C", 1)
    chans = info["channels"] if len(info["channels"]) == n else [ChannelInfo()] * n
    rgbs = [c.get("rgb") for c in chans]
    all_white = n > 1 and all(rgb in (None, (255, 255, 255)) for rgb in rgbs)
    colors = [None if all_white or rgb is None else parse_color(rgb) for rgb in rgbs]
    emissions = [c.get("emission") for c in chans]
    shown = complete_colors(colors, emissions)
    channels = [Channel(name=c.get("name") or f"Channel {i}", named=bool(c.get("name")),
                        color=shown[i], emission_nm=emissions[i],
                        excitation_nm=c.get("excitation"), fluor=c.get("fluor"))
                for i, c in enumerate(chans)]
    t_note = info.get("t_note")
    own = ([t_note] if t_note else []) + list(info.get("notes") or [])
    return make_scene(index, info["name"] or fallback_name or "", data, dims, physical, channels,
                  recorded_z=True, units=units, notes=own + list(notes or []), **more)


def size_and_unit(value: str | float | None, unit: str | None,
                  default: str) -> tuple[float | None, str | None]:
    """A recorded size and its unit (the model's symbol).

    (None, None) when the size is absent, not positive, or in a unit nobody knows.
    """
    from ..units import symbol

    name = symbol(unit if unit not in (None, "") else default)
    if value is None:
        return None, None
    try:
        size = float(value)
    except (TypeError, ValueError):
        return None, None
    if name is None or not size > 0 or not math.isfinite(size):
        return None, None
    return size, name


IRREGULAR = 0.1  # intervals further than this from their mean make no time step


def time_step(pixels: Pixels) -> tuple[float | None, str | None, str | None]:
    """The time step of OME Pixels: (size, unit, note on how it was found).

    TimeIncrement, else the interval of the planes' DeltaT at the first Z and channel when
    every time point has one and the intervals are regular. Irregular intervals (a
    timelapse with pauses) make no step.
    """
    size_t = pixels.size_t
    if pixels.time_increment is not None:
        return pixels.time_increment, getattr(pixels.time_increment_unit, "value", "s"), None
    times = {}
    for plane in pixels.planes:
        if plane.the_z == 0 and plane.the_c == 0 and plane.delta_t is not None:
            unit = getattr(plane.delta_t_unit, "value", "s")
            times[plane.the_t] = (plane.delta_t, unit)
    if (size_t < 2 or set(times) != set(range(size_t))
            or len({u for _, u in times.values()}) != 1):
        return None, None, None
    values = [times[t][0] for t in range(size_t)]
    intervals = [b - a for a, b in zip(values, values[1:])]
    step = (values[-1] - values[0]) / (size_t - 1)
    if not step > 0 or any(abs(i - step) > IRREGULAR * step for i in intervals):
        return None, None, None
    return step, times[0][1], ("The time step is the mean interval of the planes' DeltaT "
                               "(the file records no TimeIncrement).")


def _image_info(image: Image,
                annotations: dict[str, CommentAnnotation] | None = None) -> ImageInfo:
    """What one OME Image says: name, sizes, time step, channels, this plugin's notes."""
    from ..metadata.ome import NOTES_NS

    pixels = image.pixels
    sizes: dict[str, tuple[float | None, str | None]] = {}
    for axis in "ZYX":
        unit = getattr(pixels, f"physical_size_{axis.lower()}_unit", None)
        sizes[axis] = (getattr(pixels, f"physical_size_{axis.lower()}"),
                       getattr(unit, "value", unit))
    step, unit, t_note = time_step(pixels)
    sizes["T"] = (step, unit)
    notes = [a.value for a in (annotations or {}).values()
             if a.namespace == NOTES_NS and a.id in {r.id for r in image.annotation_refs}]
    channels = [ChannelInfo(name=c.name, rgb=c.color.as_rgb_tuple()[:3] if c.color else None,
                            emission=c.emission_wavelength, excitation=c.excitation_wavelength,
                            fluor=c.fluor) for c in pixels.channels]
    return {"name": image.name, "sizes": sizes, "channels": channels, "t_note": t_note,
            "notes": notes, "stored": bool(pixels.tiff_data_blocks)}


def _lenient_image_info(root: etree._Element) -> list[ImageInfo]:
    """What can be read from OME-XML that fails validation; anything unreadable is None."""
    from .._xml import local

    images: list[ImageInfo] = []
    for image in root.iter():
        if local(image.tag) != "Image":
            continue
        pixels = next((p for p in image if local(p.tag) == "Pixels"), None)
        if pixels is None:
            continue
        sizes: dict[str, tuple[float | None, str | None]] = {
            axis: (positive_float(pixels.get(f"PhysicalSize{axis}")),
                   pixels.get(f"PhysicalSize{axis}Unit", "µm")) for axis in "ZYX"}
        sizes["T"] = (positive_float(pixels.get("TimeIncrement")),
                      pixels.get("TimeIncrementUnit", "s"))
        channels: list[ChannelInfo] = []
        for ch in (c for c in pixels if local(c.tag) == "Channel"):
            try:
                value = int(ch.get("Color")) & 0xFFFFFFFF
                rgb = ((value >> 24) & 255, (value >> 16) & 255, (value >> 8) & 255)
            except (TypeError, ValueError):
                rgb = None
            channels.append({"name": ch.get("Name"), "rgb": rgb,
                             "emission": positive_float(ch.get("EmissionWavelength")),
                             "excitation": positive_float(ch.get("ExcitationWavelength")),
                             "fluor": ch.get("Fluor")})
        images.append({"name": image.get("Name"), "sizes": sizes, "channels": channels,
                       "stored": any(local(e.tag) == "TiffData" for e in pixels)})
    return images


def argb_color(value: str | int | None) -> str | None:
    """A Java signed ARGB integer (Micro-Manager, ImageJ) as '#RRGGBB'."""
    if value is None:
        return None
    try:
        v = int(value) & 0xFFFFFF
    except (TypeError, ValueError):
        return None
    return parse_color(((v >> 16) & 255, (v >> 8) & 255, v & 255))
