"""Every shared vendor file read as Bio-Formats 7.3 reads it (truth.json), or better on purpose.

Where this plugin keeps an axis Bio-Formats folds away, the comparison maps it the way
Bio-Formats does, and says why:
- Airyscan phases (CZI axis H) and LIF lambda sweeps (λ, Λ) are their own axes here;
  Bio-Formats folds them into T.
- LIF XZ scans keep Z as the vertical axis of each plane; Bio-Formats calls it Y (and
  calls the slow Y axis of an XZ-Y stack Z).
- The LSM file records a Z voxel of 1e-19 m for its single plane (Bio-Formats: 0.0001 fm);
  a single plane has no Z step, so the size is unknown here.
- Channel names Bio-Formats leaves empty (the LIF lambda sweeps) are named here after the
  detector ('HyD 1'); only non-empty reference names are compared.
- Channel names Bio-Formats leaves empty in a BigDataViewer dataset (the channel attribute
  named '1', its id) are named here after the view setup ('demoSlice.tif channel 1').
- Bio-Formats gives T no unit where the file records no time step; here too (no 'pixel'
  unit on T), and the scene's notes say the step is unknown.
- Scene names are not compared: Bio-Formats calls the CZI scenes TR1, TR2, 'Scene #3' where
  the file names them TR1, P1, TR2 (see test_czi.py).
"""

import json
from math import prod

import pytest

from tests.conftest import TESTDATA, real_file

TRUTH_PATH = TESTDATA / "truth.json"
# Files Bio-Formats could not read ("error" in truth.json) are tested on their own.
TRUTH_FILES = (
    sorted(k for k, v in json.loads(TRUTH_PATH.read_text()).items() if "series" in v)
    if TRUTH_PATH.exists() else []
)
# Files whose recorded Z step is not a measurement (see module docstring).
UNKNOWN_Z_ON_PURPOSE = {"lsm/test.lsm"}


def as_bioformats(scene) -> tuple[dict, dict]:
    """This plugin's scene in Bio-Formats' terms: sizes TCZYX and physical X/Y/Z."""
    sizes, physical, dims = scene.sizes, scene.physical_pixel_sizes, scene.dims
    out = {
        "T": prod(n for a, n in sizes.items() if a not in "CZYXS"),
        "C": sizes.get("C", 1) * sizes.get("S", 1),
        "Z": sizes.get("Z", 1), "Y": sizes.get("Y", 1), "X": sizes["X"],
    }
    phys = {a: physical.get(a) for a in "XYZ"}
    xz_scan = "Z" in dims and ("Y" not in dims or dims.index("Z") > dims.index("Y"))
    if xz_scan:
        out["Y"], out["Z"] = sizes["Z"], sizes.get("Y", 1)
        phys["Y"], phys["Z"] = physical.get("Z"), physical.get("Y")
    return out, phys


@pytest.mark.parametrize("relpath", TRUTH_FILES)
def test_file_matches_bioformats(relpath, truth, opened):
    expected = truth[relpath]
    source = opened(real_file(relpath))
    assert len(source.scenes) == expected["series_count"]
    for scene, ref in zip(source.scenes, expected["series"]):
        sizes, physical = as_bioformats(scene)
        assert sizes == ref["sizes"], scene.name
        assert scene.dtype == ref["type"]
        for axis in "XYZ":
            want = ref["physical"][axis]
            if axis == "Z" and relpath in UNKNOWN_Z_ON_PURPOSE:
                assert physical["Z"] is None
                continue
            if want is None:
                assert physical[axis] is None, (axis, physical[axis])
            else:
                # Tight enough to tell a LIF scan's X (0.14027984) from its Z (0.14027874).
                assert physical[axis] == pytest.approx(want, rel=1e-6), axis
                assert scene.units[_our_axis(scene, axis)] == ref["units"][axis]
        assert all(name.strip() for name in scene.channel_names)
        # Where Bio-Formats has real names, they are the same names.
        ref_names = [n for n in ref["channels"] if n]
        if len(ref_names) == scene.size("C"):
            assert scene.channel_names == ref_names


def _our_axis(scene, bf_axis: str) -> str:
    dims = scene.dims
    xz_scan = "Z" in dims and ("Y" not in dims or dims.index("Z") > dims.index("Y"))
    if xz_scan and bf_axis in "YZ":
        return {"Y": "Z", "Z": "Y"}[bf_axis]
    return bf_axis


@pytest.mark.parametrize("relpath", TRUTH_FILES)
def test_time_has_a_unit_only_where_the_file_records_a_step(relpath, opened):
    from napari_lightmic.scene.axes import NO_TIME_STEP
    from napari_lightmic.units import is_time

    for scene in opened(real_file(relpath)).scenes:
        step = scene.physical_pixel_sizes.get("T")
        if step:
            assert is_time(scene.units["T"]), (scene.name, scene.units)
        else:
            assert "T" not in scene.units, scene.name
            if scene.size("T") > 1:
                assert NO_TIME_STEP in scene.notes, scene.name
