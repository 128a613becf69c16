"""OME-Zarr outputs (NGFF 0.5, 0.4, sharded 0.5, all scenes) read by two more clients nobody
here wrote: bioio-ome-zarr (through bioio's BioImage) and ngff-zarr (its validating reader,
whose pixels come through zarrista, not zarr-python), against the plugin's read of the
source. Level 0 is the only level whose pixels are read (test_ngff.py compares level 1)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pytest

from .conftest import (
    ALL_CASES,
    MULTI_SCENE,
    NAMELESS,
    ZARR_VARIANTS,
    expected_images,
    ngff_images,
)

pytestmark = pytest.mark.interop

def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "(not installed)"


BIOIO_OME_ZARR = _version("bioio-ome-zarr")
try:
    from bioio_base.exceptions import UnsupportedFileFormatError
except ImportError:  # bioio absent: its tests skip
    UnsupportedFileFormatError = Exception


def _labels(key: str, exp) -> list[str]:
    """The omero labels: the file's channel names, or the display default 'Channel N' for a
    file that records none (its OME-XML then names none; see test_no_invented_channel_names)."""
    if key in NAMELESS:
        return [f"Channel {i}" for i in range(len(exp.channel_names))]
    return exp.channel_names


def _bioimage(path: Path):
    bioio = pytest.importorskip("bioio")
    reader = pytest.importorskip("bioio_ome_zarr").Reader
    return bioio.BioImage(str(path), reader=reader)


@pytest.mark.parametrize("key,variant", ALL_CASES)
def test_bioio_ome_zarr(key, variant, converted, written):
    """Each image group (the bioformats2raw layout's series one by one: see
    test_bioio_ome_zarr_layout_root) as bioio's BioImage shows it."""
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    want = expected_images(written, key, variant, layout)
    assert len(groups) == len(want)
    for group, exp in zip(groups, want):
        img = _bioimage(group)
        assert img.scenes == (exp.scene.name,), group
        assert img.reader.dims.order == exp.dims
        assert img.reader.shape == exp.shape
        # BioImage's own view: always T, C, Z, Y, X, absent axes of size 1
        assert img.dims.order == "TCZYX"
        assert img.shape == tuple(dict(zip(exp.dims, exp.shape)).get(a, 1) for a in "TCZYX")
        assert img.dtype == exp.dtype
        scale = dict(zip(exp.dims, exp.scale(0)))
        sizes = img.physical_pixel_sizes
        for axis in "ZYX":
            got, should = getattr(sizes, axis), scale.get(axis)
            assert got == (None if should is None else pytest.approx(should, rel=1e-9)), axis
        if "T" in exp.dims:
            assert img.time_interval == pytest.approx(scale["T"], rel=1e-9)
        props = img.dimension_properties
        for axis in exp.dims.replace("C", ""):
            unit = getattr(props, axis).unit
            assert (str(unit) if unit is not None else None) == exp.ngff_unit(axis), axis
        assert img.channel_names == _labels(key, exp)
        assert [tuple(s) for s in img.resolution_level_dims.values()] == exp.level_shapes
        np.testing.assert_array_equal(img.data, exp.pixels_as(img.shape))


@pytest.mark.parametrize("key,variant", [
    pytest.param(key, variant, id=f"{key}-{variant}", marks=pytest.mark.xfail(
        strict=True, raises=UnsupportedFileFormatError,
        reason=f"bioio-ome-zarr {BIOIO_OME_ZARR} refuses the bioformats2raw layout that "
               "NGFF 0.4 and 0.5 define ('Detected transitional layout metadata key "
               "bioformats2raw.layout ... BioIO does *not* support reading stores using this "
               "format', bioio-devs/bioio-ome-zarr#109; support is asked in #121); it reads each "
               "series group (test_bioio_ome_zarr), and ngff-zarr "
               "validates the container against the spec's bf2raw and ome schemas "
               "(test_ngff_zarr)"))
    for key in MULTI_SCENE for variant in ZARR_VARIANTS])
def test_bioio_ome_zarr_layout_root(key, variant, converted, source):
    """A file of several scenes is written as the bioformats2raw layout: one BioImage with a
    scene per series is what a bioio user would want of it."""
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    assert layout and len(groups) == len(source(key).scenes)
    try:
        img = _bioimage(out)
    except UnsupportedFileFormatError as error:  # the known refusal, and only it, is the xfail
        assert "bioformats2raw.layout" in str(error), error
        raise
    assert len(img.scenes) == len(groups)


def _raw_attrs(group: Path) -> dict:
    """A group's attributes as stored: zarr.json's 'attributes' (v3) or .zattrs (v2)."""
    if (group / "zarr.json").exists():
        return json.loads((group / "zarr.json").read_text()).get("attributes", {})
    return json.loads((group / ".zattrs").read_text())


@pytest.mark.parametrize("key,variant", ALL_CASES)
def test_ngff_zarr(key, variant, converted, written):
    """ngff-zarr validates each image (the spec's JSON schema, then its strict structural
    rules) and reads it back: dims, levels, scales, units, names, level-0 pixels."""
    nz = pytest.importorskip("ngff_zarr")
    out = converted(key, variant)
    layout, groups = ngff_images(out)
    want = expected_images(written, key, variant, layout)
    assert len(groups) == len(want)
    ngff = "0.4" if variant == "0.4" else "0.5"
    if layout:  # the container's own schemas: the root, and OME/ that lists the series
        nz.validate(_raw_attrs(out), version=ngff, model="bf2raw")
        nz.validate(_raw_attrs(out / "OME"), version=ngff, model="ome")
    for group, exp in zip(groups, want):
        multiscales = nz.from_ngff_zarr(str(group), validate=True)
        assert str(_raw_attrs(group).get("ome", {}).get("version", ngff)) == ngff
        images = multiscales.images
        dims = tuple(d.lower() for d in exp.dims)
        assert [tuple(image.data.shape) for image in images] == exp.level_shapes, group
        for level, image in enumerate(images):
            assert image.dims == dims
            assert image.data.dtype == exp.dtype
            assert [image.scale[d] for d in dims] == pytest.approx(exp.scale(level), rel=1e-9)
        first = images[0]
        assert first.axes_units == {d.lower(): exp.ngff_unit(d) for d in exp.dims}, "units"
        assert first.name == exp.scene.name
        omero = multiscales.metadata.omero
        assert [c.label for c in omero.channels] == _labels(key, exp)
        np.testing.assert_array_equal(np.asarray(first.data), exp.pixels)
