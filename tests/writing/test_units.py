"""Physical sizes keep their units through every reader and writer (one table: units.py).

NGFF names units in UDUNITS-2 words, OME by symbol; a unit both know is kept as it is, one
only OME knows is written to NGFF converted to micrometres or seconds.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_lightmic.units import UNITS, convert, unit
from napari_lightmic.writing import WriteOptions, write
from tests.conftest import real_file

LENGTHS = sorted(u.symbol for u in UNITS.values() if u.kind == "length" and u.symbol != "pixel")
TIMES = sorted(u.symbol for u in UNITS.values() if u.kind == "time")
# every length unit, each with a time unit beside it
PAIRS = [(length, TIMES[i % len(TIMES)]) for i, length in enumerate(LENGTHS)] + \
        [(LENGTHS[i % len(LENGTHS)], time) for i, time in enumerate(TIMES)]


def ome_tiff(path: Path, length: str, time: str) -> Path:
    data = np.arange(2 * 2 * 16 * 16, dtype=np.uint16).reshape(2, 2, 16, 16)
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "TZYX", "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": length,
        "PhysicalSizeY": 0.5, "PhysicalSizeYUnit": length,
        "PhysicalSizeZ": 2.0, "PhysicalSizeZUnit": length,
        "TimeIncrement": 1.5, "TimeIncrementUnit": time})
    return path


@pytest.mark.parametrize(("length", "time"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_every_unit_survives_both_formats(tmp_path, length, time, opened):
    source = opened(ome_tiff(tmp_path / "in.ome.tif", length, time))
    scene = source.scenes[0]
    assert scene.physical_pixel_sizes == pytest.approx({"T": 1.5, "Z": 2.0, "Y": 0.5, "X": 0.5})
    assert scene.units == {"T": time, "Z": length, "Y": length, "X": length}
    for target in ("out.ome.tif", "out5.ome.zarr", "out4.ome.zarr"):
        out = write(source, tmp_path / target, 0,
                    WriteOptions(ngff_version="0.4" if "4" in target else "0.5"))
        back = opened(out).scenes[0]
        for axis, size in (("T", 1.5), ("Z", 2.0), ("Y", 0.5), ("X", 0.5)):
            want = scene.units[axis]
            if target.endswith(".zarr") and unit(want).ngff is None:
                # NGFF has no such unit: the size is stated in micrometres or seconds
                base = "s" if axis == "T" else "µm"
                size, want = convert(size, want, base), base
            assert back.units.get(axis) == want, (target, axis)
            assert back.physical_pixel_sizes[axis] == pytest.approx(size, rel=1e-9), \
                (target, axis)


def test_time_increment_of_tifffile_and_deltat(tmp_path, opened):
    data = np.zeros((3, 8, 8), np.uint8)
    path = tmp_path / "t.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TYX", "TimeIncrement": 2.5,
                                                     "TimeIncrementUnit": "s"})
    scene = opened(path).scenes[0]
    assert scene.physical_pixel_sizes["T"] == 2.5 and scene.units["T"] == "s"
    # no TimeIncrement: the planes' DeltaT give the step
    path = tmp_path / "dt.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "TYX", "Plane": {"DeltaT": [0.0, 4.0, 8.0], "DeltaTUnit": ["ms"] * 3}})
    scene = opened(path).scenes[0]
    assert scene.physical_pixel_sizes["T"] == pytest.approx(4.0) and scene.units["T"] == "ms"
    assert any("DeltaT" in note for note in scene.notes)


def test_lif_time_step_survives_ome_tiff(tmp_path, opened):
    source = opened(real_file("lif/testdata_2channel_xz.lif"))
    assert source.scenes[0].physical_pixel_sizes["T"] == pytest.approx(0.53)
    back = opened(write(source, tmp_path / "xzt.ome.tif", 0)).scenes[0]
    assert back.physical_pixel_sizes["T"] == pytest.approx(0.53) and back.units["T"] == "s"
    back = opened(write(source, tmp_path / "xzt.ome.zarr", 0)).scenes[0]
    assert back.physical_pixel_sizes["T"] == pytest.approx(0.53) and back.units["T"] == "s"


def test_bigdataviewer_in_centimetres_converts_with_its_unit(tmp_path):
    shutil.copy(real_file("hdf5/bdv/demoSlice.h5"), tmp_path / "demoSlice.h5")
    xml = real_file("hdf5/bdv/demoSlice.xml").read_text()
    xml = xml.replace("<unit>pixel</unit>", "<unit>cm</unit>").replace(
        "<size>0.01500000015 0.01500000015 1.0</size>", "<size>1 1 10</size>")
    (tmp_path / "demoSlice.xml").write_text(xml)
    out = tmp_path / "cm.ome.zarr"
    lightmic = Path(sys.executable).with_name("lightmic")
    done = subprocess.run([str(lightmic), "convert", str(tmp_path / "demoSlice.xml"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    axes = json.loads((out / "zarr.json").read_text())["attributes"]["ome"]["multiscales"][0][
        "axes"]
    assert {a["name"]: a.get("unit") for a in axes} == {
        "t": None, "c": None, "z": "centimeter", "y": "centimeter", "x": "centimeter"}
    info = subprocess.run([str(lightmic), "info", str(out), "--json"], capture_output=True,
                          text=True, timeout=300)
    scene = json.loads(info.stdout)["scenes"][0]
    assert scene["physical_pixel_sizes"] == {"T": None, "Z": 10.0, "Y": 1.0, "X": 1.0}
    assert scene["units"] == {"Z": "cm", "Y": "cm", "X": "cm"}
    # and the OME-XML beside the pixels says the same
    xml = (out / "OME" / "METADATA.ome.xml").read_text()
    assert 'PhysicalSizeXUnit="cm"' in xml and 'PhysicalSizeZUnit="cm"' in xml


@pytest.mark.parametrize(("times", "first_t", "step"), [
    ([0.0, 1.0, 10.0], 0, None),  # irregular: a pause is no time step
    ([0.0, 2.0, 4.0], 1, None),  # TheT from 1 breaks OME's rule: no step, and no error
    ([0.0, 2.0, 4.1], 0, 2.05),
])
def test_time_step_from_deltat_only_when_regular(tmp_path, times, first_t, step, opened):
    path = tmp_path / "dt.ome.tif"
    tifffile.imwrite(path, np.zeros((3, 8, 8), np.uint8), ome=True, metadata={
        "axes": "TYX", "Plane": {"DeltaT": times, "DeltaTUnit": ["s"] * 3}})
    if first_t:
        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata
        for t in (2, 1, 0):
            xml = xml.replace(f'TheT="{t}"', f'TheT="{t + first_t}"')
        tifffile.imwrite(path, np.zeros((3, 8, 8), np.uint8), description=xml, metadata=None,
                         photometric="minisblack")
    scene = opened(path).scenes[0]
    assert scene.physical_pixel_sizes.get("T") == (None if step is None else pytest.approx(step))
