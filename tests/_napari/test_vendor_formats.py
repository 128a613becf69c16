"""The Leica LAS X and Olympus FluoView files as a user reaches them: opened in napari through
`viewer.open`, and described by the installed `lightmic info` command."""

from __future__ import annotations

import numpy as np
import pytest

from tests.reading.vendor_fixtures import PIXEL_UM, Z_STEP_UM, cells, write_oib, write_project
from tests.test_cli import lightmic

PLUGIN = "napari-lightmic"


def test_an_xlef_project_opens_in_napari_as_its_images(make_napari_viewer, tmp_path):
    project, truth = write_project(tmp_path / "project")
    viewer = make_napari_viewer()
    layers = viewer.open(project, plugin=PLUGIN)
    # the first of its two scenes, one layer per channel named by its dye, in µm
    assert [layer.name for layer in layers] == ["DAPI [Image 1]", "Alexa 488 [Image 1]"]
    first = layers[0]
    assert first.axis_labels[-3:] == ("Z", "Y", "X")
    assert tuple(first.scale[-3:]) == pytest.approx((Z_STEP_UM, PIXEL_UM, PIXEL_UM))
    assert [str(u) for u in first.units][-3:] == ["micrometer"] * 3
    np.testing.assert_array_equal(np.asarray(first.data).reshape(3, 24, 32),
                                  truth["Image 1"][:, 0])


def test_an_oib_opens_in_napari(make_napari_viewer, tmp_path):
    data = cells((2, 3, 24, 32))
    viewer = make_napari_viewer()
    layers = viewer.open(write_oib(tmp_path / "cells.oib", data), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["DAPI", "Alexa 488"]
    np.testing.assert_array_equal(np.asarray(layers[1].data).reshape(3, 24, 32), data[1])


def test_lightmic_info_describes_a_project_and_refuses_oir(tmp_path):
    project, _ = write_project(tmp_path / "project")
    done = lightmic("info", project)
    assert done.returncode == 0, done.stderr
    assert "format: XLEF (Leica), proprietary" in done.stdout
    assert "scenes: 2" in done.stdout and "[1] Image 2:" in done.stdout
    assert "channels: DAPI #0000FF, Alexa 488 #00FF00" in done.stdout
    oir = tmp_path / "cells.oir"
    oir.write_bytes(b"OLYMPUSRAWFORMAT" + bytes(112))
    done = lightmic("info", oir)
    assert done.returncode != 0
    assert str(oir) in done.stderr and "Python 3.12" in done.stderr and "bfconvert" in done.stderr
