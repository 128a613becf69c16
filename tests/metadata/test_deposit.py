"""The IDR submission folder and BioImage Archive file list written from a record."""

import csv

import pytest

from napari_lightmic.metadata.deposit import export_idr, templates
from napari_lightmic.metadata.record import set_path
from napari_lightmic.session import Session
from tests.conftest import TESTDATA, real_file

IDR_TEMPLATES = TESTDATA.parent / "idr-templates"


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def test_shipped_layout_matches_the_idr_templates():
    if not IDR_TEMPLATES.is_dir():
        pytest.skip("../shared/idr-templates not found")
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "derive_idr_templates.py"
    spec = importlib.util.spec_from_file_location("derive", script)
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    assert derive.derive(IDR_TEMPLATES)["assay_columns"] == templates()["assay_columns"]
    assert derive.derive(IDR_TEMPLATES)["study_rows"] == templates()["study_rows"]


def test_idr_export_of_a_czi(tmp_path, opened):
    source = opened(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"))
    record = Session(source).record
    for key, value in [("rembi.study.title", "Nuclei in culture"),
                       ("rembi.study.authors", "Ada Lovelace; Alan Turing"),
                       ("rembi.study.licence", "CC BY 4.0"),
                       ("rembi.biosample.organism", "Homo sapiens"),
                       ("rembi.biosample.ncbi_taxon", "9606"),
                       ("rembi.biosample.biological_entity", "HeLa")]:
        record = set_path(record, key, value)
    study, assays, file_list = export_idr([source], tmp_path / "idr", record)
    rows = {r[0]: r[1:] for r in _rows(study) if r}
    assert rows["Study Title"] == ["Nuclei in culture"]
    assert rows["Study Organism Term Accession"] == ["NCBITaxon_9606"]
    assert rows["Study Person Last Name"] == ["Lovelace", "Turing"]
    assert rows["Study License URL"] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert rows["Experiment Imaging Method"] == ["Widefield fluorescence microscopy"]
    assert rows["Experiment Size"][0] == "5D Images: 3"
    table = _rows(assays)
    assert table[0] == templates()["assay_columns"]  # the template's column names, in order
    if IDR_TEMPLATES.is_dir():
        assert table[0] == _rows(IDR_TEMPLATES / "idr0000-experimentB-assays.txt")[0]
    assert len(table) == 1 + 3  # one row per scene
    row = dict(zip(table[0], table[1]))
    assert row["Image File"] == "S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"
    assert row["Comment [Image File Path]"] == row["Image File"]  # no folders (names of people)
    assert row["Characteristics [Organism]"] == "Homo sapiens"
    assert row["Channels"] == "DAPI:DAPI;EGFP:EGFP"
    files = _rows(file_list)
    assert files[0][0] == "Files" and files[1][:2] == ["S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", "CZI"]
