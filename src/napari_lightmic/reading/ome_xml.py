"""OME-XML as scenes: each Image's sizes, units, time step and channels, read leniently where
a document breaks the schema. Used by the TIFF reader and by OME-TIFF sets."""

from __future__ import annotations

import math
from typing import Any

from ..colors import complete_colors, parse_color
from ..model import Channel, Scene


def make_scene(index, name, data, dims, physical, channels, recorded_z: bool = False,
               units: dict | None = None, **more: Any) -> Scene:
    """A scene; `more` are the Scene's further fields (notes, pyramid, stage_position...)."""
    sizes = dict(zip(dims, data.shape))
    if sizes.get("Z", 1) == 1 and not recorded_z:
        physical["Z"] = None  # a single plane has no Z step, unless the file states one
    units = {a: (units or {}).get(a, "µm") for a, v in physical.items() if v}
    return Scene(index=index, name=name, data=data, dims=dims, physical_pixel_sizes=physical,
                 units=units, channels=channels, **more)


def ome_images(xml: str) -> tuple:
    """(the OME model or None, what each Image says, a note when read leniently)."""
    import ome_types
    from pydantic import ValidationError

    try:
        ome = ome_types.from_xml(xml)
        annotations = {a.id: a for a in ome.structured_annotations
                       if isinstance(a, ome_types.model.CommentAnnotation)}
        return ome, [_image_info(image, annotations) for image in ome.images], None
    except ValidationError as err:
        return None, _lenient_image_info(xml), (
            f"The OME-XML does not follow the OME schema ({err.error_count()} problem(s)); "
            "it was read leniently and values it gets wrong are unknown.")


def ome_scene(index: int, info: dict, data, dims: str, fallback_name: str = "",
              notes: list[str] | None = None, **more: Any) -> Scene:
    """A scene of an OME image: its pixel sizes, time step and channels as `info` says;
    `notes` follow the image's own, `more` are the Scene's further fields."""
    physical, units = {}, {}
    for axis in "TZYX":
        value, unit = info["sizes"].get(axis, (None, None))
        size, unit = size_and_unit(value, unit, "s" if axis == "T" else "µm")
        if axis == "T" and size is None:
            continue
        physical[axis] = size
        if size is not None:
            units[axis] = unit
    n = dict(zip(dims, data.shape)).get("C", 1)
    chans = info["channels"] if len(info["channels"]) == n else [{}] * n
    rgbs = [c.get("rgb") for c in chans]
    all_white = n > 1 and all(rgb in (None, (255, 255, 255)) for rgb in rgbs)
    colors = [None if all_white or rgb is None else parse_color(rgb) for rgb in rgbs]
    emissions = [c.get("emission") for c in chans]
    colors = complete_colors(colors, emissions)
    channels = [Channel(name=c.get("name") or f"Channel {i}", named=bool(c.get("name")),
                        color=colors[i], emission_nm=emissions[i],
                        excitation_nm=c.get("excitation"), fluor=c.get("fluor"))
                for i, c in enumerate(chans)]
    own = ([info["t_note"]] if info.get("t_note") else []) + list(info.get("notes") or [])
    return make_scene(index, info["name"] or fallback_name or "", data, dims, physical, channels,
                  recorded_z=True, units=units, notes=own + list(notes or []), **more)


def size_and_unit(value, unit, default: str) -> tuple[float | None, str | None]:
    """A recorded size and its unit (the model's symbol); (None, None) when the size is
    absent, not positive, or in a unit nobody knows."""
    from ..units import symbol

    name = symbol(unit if unit not in (None, "") else default)
    try:
        size = float(value)
    except (TypeError, ValueError):
        return None, None
    if name is None or not size > 0 or not math.isfinite(size):
        return None, None
    return size, name


IRREGULAR = 0.1  # intervals further than this from their mean make no time step


def time_step(pixels) -> tuple[float | None, str | None, str | None]:
    """TimeIncrement, else the interval of the planes' DeltaT at the first Z and channel
    when every time point has one and the intervals are regular: (size, unit, note on how
    it was found). Irregular intervals (a timelapse with pauses) make no step."""
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


def _image_info(image, annotations: dict | None = None) -> dict:
    """What one OME Image says: name, sizes, time step, channels, this plugin's notes."""
    from ..metadata.ome import NOTES_NS

    pixels = image.pixels
    sizes = {}
    for axis in "ZYX":
        unit = getattr(pixels, f"physical_size_{axis.lower()}_unit", None)
        sizes[axis] = (getattr(pixels, f"physical_size_{axis.lower()}"),
                       getattr(unit, "value", unit))
    step, unit, t_note = time_step(pixels)
    sizes["T"] = (step, unit)
    notes = [a.value for a in (annotations or {}).values()
             if a.namespace == NOTES_NS and a.id in {r.id for r in image.annotation_refs}]
    channels = [{"name": c.name, "rgb": c.color.as_rgb_tuple()[:3] if c.color else None,
                 "emission": c.emission_wavelength, "excitation": c.excitation_wavelength,
                 "fluor": c.fluor} for c in pixels.channels]
    return {"name": image.name, "sizes": sizes, "channels": channels, "t_note": t_note,
            "notes": notes, "stored": bool(pixels.tiff_data_blocks)}


def _lenient_image_info(xml: str) -> list[dict]:
    """What can be read from OME-XML that fails validation; anything unreadable is None."""
    from .._xml import local, parse_xml

    def number(value):
        try:
            out = float(value)
        except (TypeError, ValueError):
            return None
        return out if out > 0 else None

    images = []
    for image in parse_xml(xml).iter():
        if local(image.tag) != "Image":
            continue
        pixels = next((p for p in image if local(p.tag) == "Pixels"), None)
        if pixels is None:
            continue
        sizes = {axis: (number(pixels.get(f"PhysicalSize{axis}")),
                        pixels.get(f"PhysicalSize{axis}Unit", "µm")) for axis in "ZYX"}
        sizes["T"] = (number(pixels.get("TimeIncrement")), pixels.get("TimeIncrementUnit", "s"))
        channels = []
        for ch in (c for c in pixels if local(c.tag) == "Channel"):
            try:
                value = int(ch.get("Color")) & 0xFFFFFFFF
                rgb = ((value >> 24) & 255, (value >> 16) & 255, (value >> 8) & 255)
            except (TypeError, ValueError):
                rgb = None
            channels.append({"name": ch.get("Name"), "rgb": rgb,
                             "emission": number(ch.get("EmissionWavelength")),
                             "excitation": number(ch.get("ExcitationWavelength")),
                             "fluor": ch.get("Fluor")})
        images.append({"name": image.get("Name"), "sizes": sizes, "channels": channels,
                       "stored": any(local(e.tag) == "TiffData" for e in pixels)})
    return images


def argb_color(value) -> str | None:
    """A Java signed ARGB integer (Micro-Manager, ImageJ) as '#RRGGBB'."""
    try:
        v = int(value) & 0xFFFFFF
    except (TypeError, ValueError):
        return None
    return parse_color(((v >> 16) & 255, (v >> 8) & 255, v & 255))
