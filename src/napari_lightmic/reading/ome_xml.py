"""OME-XML as scenes: each Image's sizes, units, time step and channels.

Read leniently where a document breaks the schema. Used by the TIFF reader and by OME-TIFF
sets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from ..colors import complete_colors, parse_color
from ..model import Channel, Scene, Well
from .acquisition import given, positive_float

if TYPE_CHECKING:
    from lxml import etree
    from ome_types import OME
    from ome_types.model import CommentAnnotation, Image, Pixels

    from ..scene.chunked import LazyPixels


# what the writer did to fit an image into the open format (one comment each, on the image)
NOTES_NS = "https://napari-lightmic.github.io/schema/notes/1"


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
    unread: list[str]  # attributes given with values that cannot be read ('PhysicalSizeX="0"')
    notes: list[str]  # this plugin's notes, written with the image
    stored: bool  # the image's pixels are in TIFF pages (it has TiffData)
    well: Well | None  # the plate well a Plate's WellSample puts the image in


class OmeSceneFields(TypedDict, total=False):
    """Further fields of a `Scene` that `ome_scene` passes on."""

    pyramid: Sequence[LazyPixels]
    stage_position: dict[str, float] | None
    ome_index: int | None


class SceneFields(OmeSceneFields, total=False):
    """Further fields of a `Scene` that `make_scene` passes on."""

    notes: Sequence[str]
    well: Well | None


def make_scene(index: int, name: str, data: LazyPixels, dims: str,
               physical: dict[str, float | None], channels: Sequence[Channel],
               recorded_z: bool = False, units: dict[str, str] | None = None,
               **more: Unpack[SceneFields]) -> Scene:
    """A scene; `more` are the Scene's further fields (notes, pyramid, stage_position...)."""
    sizes = dict(zip(dims, data.shape))
    if sizes.get("Z", 1) == 1 and not recorded_z:
        physical["Z"] = None  # a single plane has no Z step, unless the file states one
    known = {a: (units or {}).get(a, "µm") for a, v in physical.items() if v}
    return Scene(index=index, name=name, pixels=data, dims=dims, physical_pixel_sizes=physical,
                 units=known, channels=channels, **more)


def ome_images(xml: str, root: etree._Element | None = None
               ) -> tuple[Callable[[], OME | None], list[ImageInfo]]:
    """(what makes the OME model when it is first asked, what each Image says).

    A document of the current schema (2016-06: what every writer has written since) is read
    from the parsed XML (`root`, where the caller parsed it), not by ome-types: importing
    ome-types and validating the document take longer than a first plane. Its model is made
    when the metadata is used (the Metadata dock, a conversion); it is None where the XML
    breaks the OME schema, and what was read is described instead. Values that cannot be
    read are unknown, and listed. A document of an older schema is upgraded by ome-types at
    once and read from its model (read from the XML when even that fails).
    """
    from lxml import etree

    from .._xml import parse_xml

    if root is None:
        root = parse_xml(xml, "the OME-XML")
    if etree.QName(root).namespace != OME_2016_06:
        ome = ome_model(xml)
        if ome is not None:
            annotations = {a.id: a for a in ome.structured_annotations or []
                           if type(a).__name__ == "CommentAnnotation"}
            wells = {sample.image_ref.id: Well(well.row, well.column, k)
                     for plate in ome.plates for well in plate.wells
                     if well.row is not None and well.column is not None
                     and Well(well.row, well.column).on_plate
                     for k, sample in enumerate(well.well_samples)
                     if sample.image_ref is not None}
            return given(ome), [{**_model_info(image, annotations), "well": wells.get(image.id)}
                                for image in ome.images]
    return partial(ome_model, xml), _image_infos(root)


OME_2016_06 = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


def _model_info(image: Image, annotations: dict[str, CommentAnnotation]) -> ImageInfo:
    """What one Image of an ome-types model says (a document of an older schema)."""
    pixels = image.pixels
    sizes: dict[str, tuple[float | None, str | None]] = {}
    for axis in "ZYX":
        unit = getattr(pixels, f"physical_size_{axis.lower()}_unit", None)
        sizes[axis] = (getattr(pixels, f"physical_size_{axis.lower()}"),
                       getattr(unit, "value", unit))
    step, unit, t_note = time_step(pixels)
    sizes["T"] = (step, unit)
    refs = {r.id for r in image.annotation_refs}
    notes = [a.value for a in annotations.values() if a.namespace == NOTES_NS and a.id in refs]
    channels = [ChannelInfo(name=c.name, rgb=c.color.as_rgb_tuple()[:3] if c.color else None,
                            emission=c.emission_wavelength, excitation=c.excitation_wavelength,
                            fluor=c.fluor) for c in pixels.channels]
    return {"name": image.name, "sizes": sizes, "channels": channels, "t_note": t_note,
            "notes": notes, "stored": bool(pixels.tiff_data_blocks)}


def ome_model(xml: str) -> OME | None:
    """The OME model of `xml` (already through this plugin's parser), None when invalid.

    The libraries' warnings about the document (values cast or dropped) are not shown: the
    scenes' notes say what could not be read.
    """
    import warnings

    import ome_types
    from pydantic import ValidationError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ome_types.from_xml(xml)
    except ValidationError:
        return None


def ome_scene(index: int, info: ImageInfo, data: LazyPixels, dims: str, fallback_name: str = "",
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
    if info.get("unread"):
        own.append("The OME-XML gives values that cannot be read, taken as unknown: "
                   + ", ".join(info.get("unread") or []) + ".")
    return make_scene(index, info["name"] or fallback_name or "", data, dims, physical, channels,
                  recorded_z=True, units=units, notes=own + list(notes or []),
                  well=info.get("well"), **more)


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
    """The time step of OME Pixels (an ome-types model): (size, unit, note on how found)."""
    planes = [(p.the_t, p.the_z, p.the_c, p.delta_t, getattr(p.delta_t_unit, "value", "s"))
              for p in pixels.planes]
    unit = getattr(pixels.time_increment_unit, "value", "s")
    return time_step_of(pixels.size_t, pixels.time_increment, unit, planes)


def time_step_of(size_t: int, increment: float | None, increment_unit: str,
                 planes: Sequence[tuple[int | None, int | None, int | None, float | None, str]]
                 ) -> tuple[float | None, str | None, str | None]:
    """The time step of an OME image: (size, unit, note on how it was found).

    TimeIncrement, else the interval of the planes' DeltaT (`planes`: TheT, TheZ, TheC,
    DeltaT, its unit) at the first Z and channel when every time point has one and the
    intervals are regular. Irregular intervals (a timelapse with pauses) make no step.
    """
    if increment is not None:
        return increment, increment_unit, None
    times = {}
    for the_t, the_z, the_c, delta_t, unit in planes:
        if the_z == 0 and the_c == 0 and delta_t is not None and the_t is not None:
            times[the_t] = (delta_t, unit)
    if (size_t < 2 or len(times) != size_t or set(times) != set(range(size_t))
            or len({u for _, u in times.values()}) != 1):  # times: at most the planes held
        return None, None, None
    values = [times[t][0] for t in range(size_t)]
    intervals = [b - a for a, b in zip(values, values[1:])]
    step = (values[-1] - values[0]) / (size_t - 1)
    if not step > 0 or any(abs(i - step) > IRREGULAR * step for i in intervals):
        return None, None, None
    return step, times[0][1], ("The time step is the mean interval of the planes' DeltaT "
                               "(the file records no TimeIncrement).")


def _image_infos(root: etree._Element) -> list[ImageInfo]:
    """What each OME Image says: name, sizes, time step, channels, this plugin's notes.

    Read from the XML tree as the OME schema defines it (a Channel without Color is white,
    sizes in µm and time in s unless a unit is given); a value that cannot be read (not a
    number, not positive where it must be) is None, so a document that breaks the schema
    is read as far as it can be.
    """
    from .._xml import local

    notes = {}
    for element in (e for group in root if local(group.tag) == "StructuredAnnotations"
                    for e in group):
        if local(element.tag) == "CommentAnnotation" and element.get("Namespace") == NOTES_NS:
            value = next((v.text for v in element if local(v.tag) == "Value"), None)
            notes[element.get("ID")] = value or ""
    wells = _plate_wells(root)
    images: list[ImageInfo] = []
    for image in root:  # the OME root's own Images, not markup inside an annotation
        if local(image.tag) != "Image":
            continue
        pixels = next((p for p in image if local(p.tag) == "Pixels"), None)
        if pixels is None:
            continue
        unread: list[str] = []
        sizes: dict[str, tuple[float | None, str | None]] = {
            axis: (_number(pixels, f"PhysicalSize{axis}", unread),
                   _unit(pixels, f"PhysicalSize{axis}Unit", "µm", unread)) for axis in "ZYX"}
        planes = [(_int(p.get("TheT")), _int(p.get("TheZ")), _int(p.get("TheC")),
                   _finite(p.get("DeltaT")), p.get("DeltaTUnit", "s"))
                  for p in pixels if local(p.tag) == "Plane"]
        increment = _finite(pixels.get("TimeIncrement"))  # any number the schema allows
        if pixels.get("TimeIncrement") is not None and increment is None:
            unread.append(f'TimeIncrement="{pixels.get("TimeIncrement")}"')
        step, step_unit, t_note = time_step_of(
            _int(pixels.get("SizeT")) or 1, increment,
            _unit(pixels, "TimeIncrementUnit", "s", unread), planes)
        sizes["T"] = (step, step_unit)
        channels: list[ChannelInfo] = []
        for ch in (c for c in pixels if local(c.tag) == "Channel"):
            try:
                value = int(ch.get("Color", "-1")) & 0xFFFFFFFF
                rgb: tuple[int, ...] | None = (
                    (value >> 24) & 255, (value >> 16) & 255, (value >> 8) & 255)
            except (TypeError, ValueError):
                unread.append(f'Color="{ch.get("Color")}"')
                rgb = None
            channels.append({"name": ch.get("Name"), "rgb": rgb,
                             "emission": _number(ch, "EmissionWavelength", unread),
                             "excitation": _number(ch, "ExcitationWavelength", unread),
                             "fluor": ch.get("Fluor")})
        refs = {r.get("ID") for r in image if local(r.tag) == "AnnotationRef"}
        images.append({"name": image.get("Name"), "sizes": sizes, "channels": channels,
                       "t_note": t_note, "notes": [notes[i] for i in notes if i in refs],
                       "unread": list(dict.fromkeys(unread)),
                       "stored": any(local(e.tag) == "TiffData" for e in pixels),
                       "well": wells.get(image.get("ID"))})
    return images


def _plate_wells(root: etree._Element) -> dict[str | None, Well]:
    """The well of each image a Plate's WellSamples name, by Image ID.

    The field is the sample's place in its well.
    """
    from .._xml import local

    out: dict[str | None, Well] = {}
    for plate in (e for e in root if local(e.tag) == "Plate"):
        for well in (e for e in plate if local(e.tag) == "Well"):
            row, column = _int(well.get("Row")), _int(well.get("Column"))
            if row is None or column is None or not Well(row, column).on_plate:
                continue
            samples = [e for e in well if local(e.tag) == "WellSample"]
            for k, sample in enumerate(samples):
                ref = next((e.get("ID") for e in sample if local(e.tag) == "ImageRef"), None)
                if ref is not None:
                    out[ref] = Well(row, column, k)
    return out


def _number(element: etree._Element, name: str, unread: list[str]) -> float | None:
    """A positive number attribute; one given that is none is listed in `unread`."""
    text = element.get(name)
    value = positive_float(text)
    if text is not None and value is None:
        unread.append(f'{name}="{text}"')
    return value


def _unit(element: etree._Element, name: str, default: str, unread: list[str]) -> str:
    """A unit attribute (`default` when absent); one nobody knows is listed in `unread`."""
    from ..units import symbol

    text = element.get(name)
    if text is not None and symbol(text) is None:
        unread.append(f'{name}="{text}"')
    return text if text is not None else default


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _finite(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def argb_color(value: str | int | None) -> str | None:
    """A Java signed ARGB integer (Micro-Manager, ImageJ) as '#RRGGBB'."""
    if value is None:
        return None
    try:
        v = int(value) & 0xFFFFFF
    except (TypeError, ValueError):
        return None
    return parse_color(((v >> 16) & 255, (v >> 8) & 255, v & 255))
