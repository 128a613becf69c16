"""Olympus FluoView OIF and OIB on files built in tests/reading/vendor_fixtures.py: oiffile
reads each fixture as written (the OIB through its own compound-file reader), and the plugin
gives the sizes, channels, acquisition facts, privacy findings and the pixels written, one
plane read at a time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from napari_lightmic import LightmicReadError
from napari_lightmic.metadata.privacy import scan
from tests.reading.vendor_fixtures import (
    INTERVAL_MS,
    PIXEL_UM,
    Z_STEP_UM,
    cells,
    write_oib,
    write_oif,
)

SHAPE = (2, 3, 24, 32)  # C, Z, Y, X


def _write(kind: str, tmp_path, data):
    return (write_oif if kind == "oif" else write_oib)(tmp_path / f"cells.{kind}", data)


@pytest.mark.parametrize("kind", ["oif", "oib"])
def test_oiffile_reads_the_fixtures_as_written(kind, tmp_path):
    import oiffile

    data = cells(SHAPE)
    with oiffile.OifFile(_write(kind, tmp_path, data)) as oif:
        assert oif.is_oib == (kind == "oib")
        assert oif.axes == "ZCYX" and oif.shape == (3, 2, 24, 32) and oif.dtype == "uint16"
        np.testing.assert_array_equal(oif.asarray("s_C002Z003.tif"), data[1, 2])
        np.testing.assert_array_equal(oif.asarray().reshape(SHAPE), data)


@pytest.mark.parametrize("kind", ["oif", "oib"])
def test_sizes_channels_and_pixels(kind, tmp_path, opened):
    data = cells(SHAPE)
    source = opened(_write(kind, tmp_path, data))
    assert source.format.name == kind.upper() and source.reader == "oiffile"
    assert "proprietary" in source.format.advice
    (scene,) = source.scenes
    assert scene.name == "cells" and scene.dims == "TCZYX"
    assert scene.sizes == {"T": 1, "C": 2, "Z": 3, "Y": 24, "X": 32}
    assert scene.physical_pixel_sizes["X"] == pytest.approx(PIXEL_UM)
    assert scene.physical_pixel_sizes["Y"] == pytest.approx(PIXEL_UM)
    assert scene.physical_pixel_sizes["Z"] == pytest.approx(Z_STEP_UM)  # recorded in nm
    assert scene.units == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert scene.channel_names == ["DAPI", "Alexa 488"]
    assert [(c.excitation_nm, c.emission_nm) for c in scene.channels] == [(405, 455),
                                                                          (475, 525)]
    assert len(set(scene.channel_colors)) == 2  # from the emission wavelengths
    assert scene.data.chunksize == (1, 1, 1, 24, 32)  # one plane, one TIFF, per chunk
    np.testing.assert_array_equal(np.asarray(scene.data[0]), data)


def test_acquisition_facts_for_the_metadata_dock(tmp_path, opened):
    acquisition = opened(write_oib(tmp_path / "cells.oib", cells(SHAPE))).acquisition
    objective = acquisition.instrument.objectives[0]
    assert objective.model == "UPLSAPO 60X O"
    assert objective.nominal_magnification == 60 and objective.lens_na == 1.35
    assert acquisition.instrument.microscope.model == "FV1000"
    assert acquisition.acquisition_date == datetime(2012, 3, 4, 10, 11, 12)


@pytest.mark.parametrize("kind", ["oif", "oib"])
def test_privacy_scan_finds_the_user_folder_in_the_settings(kind, tmp_path, opened):
    source = opened(_write(kind, tmp_path, cells(SHAPE)))
    found = {(f.kind, f.value) for f in scan(source.ome, source.original_metadata,
                                              source.format.name)}
    assert ("user folder", "jdoe") in found


def test_reads_only_the_planes_shown(tmp_path, opened, monkeypatch):
    """Opening reads no TIFF; one plane reads its one TIFF."""
    import oiffile

    read: list[str] = []
    original = oiffile.OifFile.asarray

    def spy(self, series=0, **kwargs):
        read.append(series)
        return original(self, series, **kwargs)

    monkeypatch.setattr(oiffile.OifFile, "asarray", spy)
    scene = opened(write_oif(tmp_path / "cells.oif", cells(SHAPE))).scenes[0]
    assert read == []
    np.asarray(scene.data[0, 1, 2])
    assert [name.rsplit("/", 1)[-1] for name in read] == ["s_C002Z003.tif"]


def test_a_missing_plane_is_named(tmp_path, opened):
    path = write_oif(tmp_path / "cells.oif", cells(SHAPE))
    (tmp_path / "cells.oif.files" / "s_C002Z001.tif").unlink()
    with pytest.raises(LightmicReadError) as info:
        opened(path)
    assert str(path) in str(info.value)
    assert "incomplete: 1 of 6 planes have no TIFF (first: C=1, Z=0)" in str(info.value)


def test_an_oif_without_its_folder_is_refused(tmp_path, opened):
    path = write_oif(tmp_path / "cells.oif", cells(SHAPE))
    for tif in (tmp_path / "cells.oif.files").iterdir():
        tif.unlink()
    (tmp_path / "cells.oif.files").rmdir()
    with pytest.raises(LightmicReadError) as info:
        opened(path)
    assert "cells.oif.files" in str(info.value)


@pytest.mark.parametrize("kind", ["oif", "oib"])
def test_a_time_series_places_every_plane_and_its_interval(kind, tmp_path, opened):
    """Planes named s_C001Z002T003.tif land at their T, C and Z; the interval (ms) in s."""
    data = cells((4, 2, 3, 24, 32))  # T, C, Z, Y, X
    scene = opened(_write(kind, tmp_path, data)).scenes[0]
    assert scene.sizes == {"T": 4, "C": 2, "Z": 3, "Y": 24, "X": 32}
    assert scene.physical_pixel_sizes["T"] == pytest.approx(INTERVAL_MS / 1000)
    assert scene.units["T"] == "s"
    np.testing.assert_array_equal(np.asarray(scene.data), data)


def test_planes_of_an_axis_the_reader_does_not_place_are_said_left_out(tmp_path, opened):
    """A lambda (L) axis beside C and Z: the first position is read, the others named."""
    data = cells(SHAPE)
    path = write_oif(tmp_path / "cells.oif", data)
    folder = tmp_path / "cells.oif.files"
    for plane in sorted(folder.glob("s_*.tif")):
        for position in (2, 3):
            (folder / plane.name.replace(".tif", f"L{position:03d}.tif")).write_bytes(
                plane.read_bytes())
    (scene,) = opened(path).scenes
    assert ("The planes of axis L (3 positions) beyond its first are not read: this reader "
            "places T, C, Z, Y and X only.") in scene.notes
