"""OME-XML as an independent reader sees it: plain ElementTree, no ome-types."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from .expect import Expected, ome_color

OME_TYPES = {"uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "int8": "int8",
             "int16": "int16", "int32": "int32", "float32": "float", "float64": "double"}


def children(element: ET.Element, tag: str) -> list[ET.Element]:
    return [e for e in element if e.tag.rsplit("}", 1)[-1] == tag]


def images(xml: str) -> list[ET.Element]:
    return children(ET.fromstring(xml.encode() if isinstance(xml, str) else xml), "Image")


def pixels(image: ET.Element) -> ET.Element:
    return children(image, "Pixels")[0]


def channel_names(image: ET.Element) -> list[str | None]:
    return [c.get("Name") for c in children(pixels(image), "Channel")]


def check_pixels(image: ET.Element, exp: Expected, names: bool = True) -> None:
    """An OME Image's Pixels against what the scene should be in OME (XZ: Z as Y)."""
    px = pixels(image)
    sizes = {a: int(px.get(f"Size{a}")) for a in "XYZCT"}
    assert sizes == exp.ome_sizes(), "sizes"
    assert px.get("Type") == OME_TYPES[exp.dtype.name], "pixel type"
    for axis, (value, unit) in exp.ome_physical().items():
        got = px.get(f"PhysicalSize{axis}")
        if value is None:
            assert got is None, f"PhysicalSize{axis}"
        else:
            assert got is not None and float(got) == pytest.approx(value, rel=1e-9), \
                f"PhysicalSize{axis}"
            assert px.get(f"PhysicalSize{axis}Unit", "µm") == unit, f"PhysicalSize{axis}Unit"
    value, unit = exp.time_increment
    got = px.get("TimeIncrement")
    if value is None:
        assert got is None, "TimeIncrement"
    else:
        assert got is not None and float(got) == pytest.approx(value, rel=1e-9), "TimeIncrement"
        assert px.get("TimeIncrementUnit", "s") == unit, "TimeIncrementUnit"
    chans = children(px, "Channel")
    assert len(chans) == sizes["C"]
    if names:
        assert [c.get("Name") for c in chans] == exp.channel_names, "channel names"
    assert [int(c.get("Color")) if c.get("Color") else None for c in chans] == \
        [ome_color(c) for c in exp.channel_colors], "channel colours"
