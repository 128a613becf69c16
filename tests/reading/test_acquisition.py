"""Acquisition metadata as a user reads it off the instrument: objective, instrument,
wavelengths and channel names from real vendor files."""

import dataclasses

import pytest

from napari_lightmic import open_image
from napari_lightmic.metadata.prefill import record_from_source
from napari_lightmic.model import Acquisition
from tests.conftest import real_file


def _acq(relpath):
    with open_image(real_file(relpath)) as source:
        return record_from_source(source).rembi.image_acquisition


def test_nd2_objective_and_channel_wavelengths(opened):
    source = opened(real_file("nd2/example-multichannel.nd2"))
    objective = source.ome.instruments[0].objectives[0]
    assert objective.model == "Plan Apo λ 20x"
    assert objective.nominal_magnification == 20 and objective.lens_na == pytest.approx(0.75)
    channels = {c.name: (c.excitation_wavelength, c.emission_wavelength)
                for c in source.ome.images[0].pixels.channels}
    assert channels["DAPI"] == (405.0, 450.0)
    assert channels["TRITC BP"] == (405.0, 595.0)
    acq = record_from_source(source).rembi.image_acquisition
    assert acq.objective == "Plan Apo λ 20x (20×, NA 0.75)"
    assert acq.imaging_method.label == "Widefield fluorescence microscopy"


def test_czi_instrument_from_zen_metadata(opened):
    source = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"))
    instrument = source.ome.instruments[0]
    assert instrument.microscope.model == "Castor.Stand"
    objective = instrument.objectives[0]
    assert (objective.model, objective.nominal_magnification, objective.lens_na,
            objective.immersion.value) == ("Plan-Apochromat 50x/1.2", 50, 1.2, "Water")
    assert [d.model for d in instrument.detectors] == ["Axiocam 506"]
    image = source.ome.images[0]
    assert image.instrument_ref.id == instrument.id
    assert image.acquisition_date.isoformat().startswith("2016-02-12T09:41:02")


def test_airyscan_czi_is_recorded_as_airyscan():
    acq = _acq("czi/LSM880_AiryScan.czi")
    assert acq.imaging_method.label == "Airyscan"
    assert acq.instrument == "Carl Zeiss LSM 880, AxioObserver"
    assert acq.objective.startswith("Plan-Apochromat 63x/1.4 Oil DIC M27 (63×, NA 1.4, Oil")


def test_lif_instrument_and_channel_names(opened):
    source = opened(real_file("lif/testdata_2channel_xz.lif"))
    assert source.scenes[0].channel_names == ["Leica/FITC", "Leica/TRITC"]
    acq = record_from_source(source).rembi.image_acquisition
    assert acq.instrument == "Leica Microsystems TCS SP8 on DMI6000B-CS"
    assert acq.objective == "HC PL APO CS2 63x/1.30 GLYC (63×, NA 1.3, Glycerol)"
    assert acq.imaging_method.label == "Confocal microscopy"


def test_lsm_objective_from_scan_information():
    acq = _acq("lsm/test.lsm")
    assert acq.objective.startswith("EC Plan-Neofluar 40x/1.30 Oil DIC M27 (40×, NA 1.3, Oil")


def test_exported_ome_keeps_the_instrument(tmp_path, opened):
    from napari_lightmic.writing import convert

    done = convert(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"), tmp_path / "a.ome.tif")
    assert len(done.scenes) == 1 and done.seconds > 0
    out = done.path
    written = opened(out).ome
    assert written.instruments[0].objectives[0].model == "Plan-Apochromat 50x/1.2"
    assert written.images[0].instrument_ref is not None


def test_acquisition_is_built_only_when_asked_for(opened):
    calls = []
    source = opened(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"))
    factory = source.acquisition_factory
    source = dataclasses.replace(source, acquisition_factory=lambda: calls.append(1) or factory())
    assert not calls
    assert source.ome.instruments and calls == [1]


def test_lsm_scan_information_gives_objective_and_user():
    from napari_lightmic.reading.tiff import lsm_acquisition

    found = lsm_acquisition({"Objective": "Plan-Apochromat 10x/0.45 W", "User": " ann "})
    objective = found.instrument.objectives[0]
    assert (objective.nominal_magnification, objective.lens_na, objective.immersion.value) \
        == (10, 0.45, "Water")
    assert found.experimenters[0].user_name == "ann"
    assert lsm_acquisition({}).instrument is None


def test_czi_metadata_without_instrument_gives_date_and_user_only():
    from napari_lightmic._xml import parse_xml
    from napari_lightmic.reading.czi import czi_acquisition

    root = parse_xml(b"<ImageDocument><Metadata><Information><Document>"
                     b"<UserName>bob</UserName><CreationDate>2020-01-02T03:04:05.1234567Z"
                     b"</CreationDate></Document></Information></Metadata></ImageDocument>")
    found = czi_acquisition(root)
    assert found.instrument is None and found.experimenters[0].user_name == "bob"
    assert found.acquisition_date.isoformat() == "2020-01-02T03:04:05.123456+00:00"
    assert czi_acquisition(parse_xml(b"<ImageDocument/>")) == Acquisition()


def test_values_ome_refuses_give_an_empty_acquisition():
    from ome_types import model as ome

    from napari_lightmic.reading.acquisition import lenient

    def build():
        return Acquisition(instrument=ome.Instrument(objectives=[ome.Objective(immersion="Honey")]))

    assert lenient(build)() == Acquisition()
