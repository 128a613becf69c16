"""OME-Zarr outputs (NGFF 0.5, 0.4, sharded 0.5, all scenes) read by readers nobody here
wrote: ome-zarr-py's Reader and tensorstore, against the plugin's read of the source."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from .conftest import (
    ALL_CASES,
    FILES,
    MULTI_SCENE,
    NAMELESS,
    ZARR_VARIANTS,
    case,
    expected_images,
    ngff_images,
    zarr_attrs,
)
from .expect import AXIS_TYPES, halve

pytestmark = pytest.mark.interop

def _ome_zarr_nodes(path: Path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(str(path))
    assert location is not None, f"ome-zarr cannot open {path}"
    nodes = [node for node in Reader(location)() if node.data]
    assert nodes, f"ome-zarr finds no image in {path}"
    return nodes[0]


@pytest.mark.parametrize("key,variant", ALL_CASES)
def test_ome_zarr_py(key, variant, converted, written):
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    want = expected_images(written, key, variant, layout)
    assert len(groups) == len(want), "images written"
    for group, exp in zip(groups, want):
        node = _ome_zarr_nodes(group)
        meta = node.metadata
        axes = meta["axes"]
        assert [a["name"] for a in axes] == [d.lower() for d in exp.dims], group
        assert [a.get("type") for a in axes] == [AXIS_TYPES[d] for d in exp.dims]
        assert [a.get("unit") for a in axes] == [exp.ngff_unit(d) for d in exp.dims], "units"
        assert [tuple(level.shape) for level in node.data] == exp.level_shapes, "levels"
        assert all(level.dtype == exp.dtype for level in node.data)
        scales = [[t for t in ts if t["type"] == "scale"][0]["scale"]
                  for ts in meta["coordinateTransformations"]]
        assert len(scales) == len(exp.level_shapes)
        for level, scale in enumerate(scales):
            assert scale == pytest.approx(exp.scale(level), rel=1e-9), f"scale of level {level}"
        assert meta["name"] == exp.scene.name
        if key not in NAMELESS:  # see test_no_invented_channel_names
            assert meta["channel_names"] == exp.channel_names
        # The file's own display settings are kept as omero windows.
        for channel, window in zip(exp.scene.channels, meta["contrast_limits"] or []):
            if channel.contrast_limits is not None and not exp.scene.rgb:
                assert window == pytest.approx(list(channel.contrast_limits)), channel.name
        colours = ["#" + "".join(f"{round(v * 255):02X}" for v in cmap[-1])
                   for cmap in meta["colormap"]]
        assert colours == exp.channel_colors
        np.testing.assert_array_equal(np.asarray(node.data[0]), exp.pixels)
        if len(node.data) > 1:  # level 1: 2x2 means of level 0 (rounded)
            axes_i = tuple(exp.dims.index(a) for a in exp.plane)
            ref = halve(exp.pixels, axes_i)
            got = np.asarray(node.data[1]).astype(np.float64)
            assert np.abs(got - ref).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("key,variant", ALL_CASES)
def test_tensorstore(key, variant, converted, written):
    ts = pytest.importorskip("tensorstore")
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    want = expected_images(written, key, variant, layout)
    assert len(groups) == len(want)
    driver = "zarr" if variant == "0.4" else "zarr3"
    for group, exp in zip(groups, want):
        datasets = zarr_attrs(group)["multiscales"][0]["datasets"]
        assert len(datasets) == len(exp.level_shapes)
        for level, (dataset, shape) in enumerate(zip(datasets, exp.level_shapes)):
            array = ts.open({"driver": driver, "kvstore": {
                "driver": "file", "path": str(group / dataset["path"])}},
                read=True).result()
            assert tuple(array.shape) == shape, f"level {level}"
            assert np.dtype(array.dtype.numpy_dtype) == exp.dtype
            if driver == "zarr3":
                assert list(array.domain.labels) == [d.lower() for d in exp.dims]
            if level == 0:
                np.testing.assert_array_equal(array.read().result(), exp.pixels)


@pytest.mark.parametrize("key,variant", [case(key, "0.4") for key in FILES])
def test_ngff_04_chunk_keys(key, variant, converted):
    """NGFF 0.4 requires '/'-separated chunk keys: zarr-2 clients (ome-zarr<0.11 opens an
    FSStore with key_separator='/') ignore .zarray's separator."""
    out = converted(key, variant)
    arrays = sorted(out.rglob(".zarray"))
    assert arrays
    for zarray in arrays:
        meta = json.loads(zarray.read_text())
        assert meta.get("dimension_separator") == "/", zarray
        first = zarray.parent.joinpath(*["0"] * len(meta["shape"]))
        assert first.is_file(), f"chunk key {first.relative_to(out)} missing"


def _ome_xml_images(out: Path) -> list[ET.Element]:
    tree = ET.parse(out / "OME" / "METADATA.ome.xml")
    return [e for e in tree.getroot() if e.tag.endswith("}Image")]


def _pixels(image: ET.Element) -> ET.Element:
    return next(e for e in image if e.tag.endswith("}Pixels"))


@pytest.mark.parametrize("key,variant", [
    case(key, variant)
    for key in FILES for variant in ZARR_VARIANTS])
def test_ome_xml_matches_arrays(key, variant, converted):
    """OME/METADATA.ome.xml, which bioformats2raw-layout readers (and OMERO) trust, agrees
    with the arrays: sizes by axis name (absent axes 1), channel names, image count."""
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    images = _ome_xml_images(out)
    assert len(images) == len(groups), "OME Images vs NGFF images"
    for image, group in zip(images, groups):
        ms = zarr_attrs(group)["multiscales"][0]
        names = [a["name"].upper() for a in ms["axes"]]
        level0 = group / ms["datasets"][0]["path"]
        meta = (json.loads((level0 / "zarr.json").read_text()) if (level0 / "zarr.json").exists()
                else json.loads((level0 / ".zarray").read_text()))
        sizes = dict(zip(names, meta["shape"]))
        pixels = _pixels(image)
        ome = {a: int(pixels.get(f"Size{a}")) for a in "XYZCT"}
        assert ome == {a: sizes.get(a, 1) for a in "XYZCT"}, \
            f"{image.get('Name')}: OME sizes {ome}, arrays {sizes}"
        labels = [c.get("label") for c in zarr_attrs(group).get("omero", {}).get("channels", [])]
        names_xml = [c.get("Name") for c in pixels if c.tag.endswith("}Channel")]
        # a channel the file does not name has no OME Name; its omero label is the display
        # default "Channel N"
        assert [x if x is not None else f"Channel {i}" for i, x in enumerate(names_xml)] \
            == labels


@pytest.mark.parametrize("key", [case(key) for key in MULTI_SCENE])
def test_convert_default_writes_every_scene(key, converted, source):
    """`lightmic convert FILE OUT.ome.zarr` (no --scene) keeps every scene."""
    out = converted(key, "0.5")
    layout, groups = ngff_images(out)
    assert layout and len(groups) == len(source(key).scenes)
