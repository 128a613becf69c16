"""Units other than µm and seconds, set through a sidecar on a copy of a shared file, in
every output: NGFF axis units (ome-zarr-py), OME-XML units (OME-TIFF and OME-Zarr's
METADATA.ome.xml), and the plugin's own read of its OME-TIFF."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import tifffile

from tests.conftest import real_file

from . import ome_xml
from .expect import NGFF_UNITS

pytestmark = pytest.mark.interop

SOURCE = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"  # T3 Z5 C2
SIZES = {"X": 905.7, "Y": 905.7, "Z": 320.0, "T": 250.0}
TO_UM = {"nm": 1e-3, "µm": 1.0, "mm": 1e3, "m": 1e6, "Å": 1e-4}
UNITS = ["nm-ms", "mm-min", "Å-h", "m-s"]
IDS = {"Å-h": "angstrom-h"}  # ASCII test ids


@pytest.fixture(scope="module")
def unit_outputs(tmp_path_factory, testdata):
    """Per case: a copy of SOURCE with a sidecar giving X, Y, Z and T those units, and its
    OME-Zarr (0.5) and OME-TIFF conversions."""
    made = {}

    def get(case: str):
        if case not in made:
            length, time = case.split("-")
            folder = tmp_path_factory.mktemp("units")
            copy = folder / "source.czi"
            shutil.copy(real_file(SOURCE), copy)
            units = {"X": length, "Y": length, "Z": length, "T": time}
            (folder / "source.czi.lightmic.json").write_text(json.dumps({
                "lightmic_metadata": "1",
                "scenes": {"0": {"physical_pixel_sizes": SIZES, "units": units}}}))
            outs = {}
            for name in ("out.ome.zarr", "out.ome.tif"):
                done = subprocess.run([sys.executable, "-m", "napari_lightmic", "convert",
                                       str(copy), str(folder / name)],
                                      capture_output=True, text=True, timeout=600)
                assert done.returncode == 0, done.stderr
                outs[name.split(".")[-1]] = folder / name
            made[case] = units, outs
        return made[case]
    return get


@pytest.mark.parametrize("case", [
    pytest.param(c, id=IDS.get(c, c)) for c in UNITS])
def test_ngff_axis_units(case, unit_outputs):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    units, outs = unit_outputs(case)
    node = next(n for n in Reader(parse_url(str(outs["zarr"])))() if n.data)
    got = {a["name"].upper(): a.get("unit") for a in node.metadata["axes"]}
    assert got == {"T": NGFF_UNITS[units["T"]], "C": None, "Z": NGFF_UNITS[units["Z"]],
                   "Y": NGFF_UNITS[units["Y"]], "X": NGFF_UNITS[units["X"]]}
    scale = node.metadata["coordinateTransformations"][0][0]["scale"]
    assert scale == pytest.approx([SIZES["T"], 1.0, SIZES["Z"], SIZES["Y"], SIZES["X"]])


@pytest.mark.parametrize("fmt", ["tif", "zarr"])
@pytest.mark.parametrize("case", [
    pytest.param(c, id=IDS.get(c, c)) for c in UNITS])
def test_ome_xml_units(case, fmt, unit_outputs):
    units, outs = unit_outputs(case)
    if fmt == "tif":
        with tifffile.TiffFile(outs["tif"]) as tif:
            xml = tif.ome_metadata
    else:
        xml = (outs["zarr"] / "OME" / "METADATA.ome.xml").read_text()
    px = ome_xml.pixels(ome_xml.images(xml)[0])
    for axis in "XYZ":
        assert float(px.get(f"PhysicalSize{axis}")) == pytest.approx(SIZES[axis])
        assert px.get(f"PhysicalSize{axis}Unit", "µm") == units[axis], axis
    assert float(px.get("TimeIncrement")) == pytest.approx(SIZES["T"])
    assert px.get("TimeIncrementUnit", "s") == units["T"], "TimeIncrementUnit"


@pytest.mark.parametrize("case", [
    pytest.param(c, id=IDS.get(c, c)) for c in UNITS])
def test_ome_tiff_read_back_lengths(case, unit_outputs, opened):
    """The plugin's OME-TIFF reader gives sizes in µm; the lengths must survive."""

    units, outs = unit_outputs(case)
    back = opened(outs["tif"])
    try:
        scene = back.scenes[0]
        for axis in "XYZ":
            size = scene.physical_pixel_sizes.get(axis)
            assert size is not None, f"{axis} size lost"
            ours = size * TO_UM[scene.units.get(axis, "µm")]
            assert ours == pytest.approx(SIZES[axis] * TO_UM[units[axis]], rel=1e-9), axis
    finally:
        back.close()
