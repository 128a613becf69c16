"""The metadata record: schema shipped with the package, edits validated with reasons."""

import json
from importlib.resources import files

import pytest

from napari_lightmic.metadata.completeness import completeness
from napari_lightmic.metadata.record import SCHEMA_VERSION, MetadataRecord, json_schema, set_path


def test_shipped_schema_matches_the_model():
    shipped = json.loads(files("napari_lightmic.metadata").joinpath(
        f"data/metadata-record-{SCHEMA_VERSION}.schema.json").read_text(encoding="utf-8"))
    assert shipped == json_schema(), "run scripts/write_metadata_schema.py"
    assert shipped["$id"].endswith(f"/{SCHEMA_VERSION}.json")


def test_edam_term_set_by_label_stores_label_and_iri():
    record = set_path(MetadataRecord(), "rembi.image_acquisition.imaging_method",
                      "light-sheet microscopy")
    term = record.rembi.image_acquisition.imaging_method
    assert term.label == "Light-sheet microscopy"
    assert term.iri == "http://edamontology.org/topic_Light-sheet_microscopy"


@pytest.mark.parametrize("key,value,reason", [
    ("rembi.image_acquisition.imaging_method", "http://edamontology.org/topic_0000",
     "not an EDAM-bioimaging term"),
    ("rembi.image_acquisition.imaging_method.iri", "topic_nonsense", "give the whole term"),
    ("scenes.0.channels.0.emission_nm", "5", "greater than 100"),
    ("scenes.0.channels.0.excitation_nm", "40000", "less than 3000"),
    ("scenes.0.physical_pixel_sizes.X", "-0.1", "greater than 0"),
    ("scenes.0.units.X", "furlong", "not a unit for X"),
    ("scenes.0.channels.0.color", "red", "#RRGGBB"),
    ("scenes.0.channels.0.color", "#ff00f", "#RRGGBB"),
    ("rembi.biosample.ncbi_taxon", "unicorn", "a number such as 9606 (Homo sapiens)"),
    ("rembi.study.colour", "x", "no such field"),
])
def test_bad_values_are_refused_with_the_reason(key, value, reason):
    with pytest.raises(ValueError) as info:
        set_path(MetadataRecord(), key, value)
    assert key.rsplit(".", 1)[0] in str(info.value) and reason in str(info.value)


def test_completeness_counts_required_fields():
    record = MetadataRecord()
    assert (completeness(record).filled, completeness(record).total) == (0, 12)
    record = set_path(record, "rembi.study.title", "Mitosis in HeLa")
    record = set_path(record, "rembi.study.authors", "Ada Lovelace; Alan Turing")
    done = completeness(record)
    assert done.filled == 2 and "Study title" not in done.missing
    assert "Licence" in done.missing
    assert record.rembi.study.authors[1].name == "Alan Turing"


def test_guide_sidecar_example_is_valid(tmp_path):
    import re
    from pathlib import Path

    from napari_lightmic.metadata.sidecar import read_edits

    guide = Path(__file__).resolve().parents[2] / "docs" / "metadata.md"
    section = guide.read_text(encoding="utf-8").split("## The sidecar", 1)[1]
    example = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    (tmp_path / "a.czi.lightmic.json").write_text(example, encoding="utf-8")
    edits = read_edits(tmp_path / "a.czi")
    assert edits["scenes"]["0"]["channels"]["1"]["name"] == "EGFP"


@pytest.mark.parametrize("typed,fix", [("red", "#FF0000"), ("Magenta", "#FF00FF"),
                                       ("#0f0", "#00FF00")])
def test_a_refused_colour_offers_the_fix(typed, fix):
    from napari_lightmic.errors import RefusedEdit as Refused

    with pytest.raises(Refused) as info:
        set_path(MetadataRecord(), "scenes.0.channels.0.color", typed)
    assert "form #RRGGBB" in str(info.value) and fix in str(info.value)
    assert info.value.fix == fix
    record = set_path(MetadataRecord(), "scenes.0.channels.0.color", info.value.fix)
    assert record.scenes[0].channels[0].color == fix


@pytest.mark.parametrize("typed,number", [("human", "9606"), ("Homo sapiens", "9606"),
                                          ("mouse", "10090"), ("zebrafish", "7955"),
                                          ("Drosophila melanogaster", "7227"),
                                          ("NCBITaxon_6239", "NCBITaxon_6239")])
def test_ncbi_taxon_by_organism_name(typed, number):
    record = set_path(MetadataRecord(), "rembi.biosample.ncbi_taxon", typed)
    assert record.rembi.biosample.ncbi_taxon == number


def test_imaging_method_by_a_word_that_names_one_term_or_lists_the_candidates():
    record = set_path(MetadataRecord(), "rembi.image_acquisition.imaging_method", "confocal")
    assert record.rembi.image_acquisition.imaging_method.label == "Confocal microscopy"
    record = set_path(MetadataRecord(), "rembi.image_acquisition.imaging_method", "light sheet")
    assert record.rembi.image_acquisition.imaging_method.label == "Light-sheet microscopy"
    with pytest.raises(ValueError) as info:
        set_path(MetadataRecord(), "rembi.image_acquisition.imaging_method", "widefield")
    assert "names several" in str(info.value)
    assert "'Widefield fluorescence microscopy'" in str(info.value)
    assert "'Deconvolution widefield microscopy'" in str(info.value)


def test_cli_set_teaches_and_accepts_what_it_can_look_up(vendor_copy):
    """`lightmic metadata --set` through the installed command, as a user types it."""
    from tests.test_cli import lightmic

    path = vendor_copy("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")
    done = lightmic("metadata", path, "--set", "rembi.image_acquisition.imaging_method=confocal",
                    "--set", "rembi.biosample.ncbi_taxon=human", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["rembi"]["image_acquisition"]["imaging_method"]["label"] == \
        "Confocal microscopy"
    assert record["rembi"]["biosample"]["ncbi_taxon"] == "9606"
    done = lightmic("metadata", path, "--set", "scenes.0.channels.1.color=red")
    assert done.returncode == 2
    assert "#RRGGBB" in done.stderr and "#FF0000" in done.stderr
    done = lightmic("metadata", path, "--set", "rembi.biosample.ncbi_taxon=unicorn")
    assert done.returncode == 2 and "a number such as 9606 (Homo sapiens)" in done.stderr
    done = lightmic("metadata", path, "--set", "rembi.image_acquisition.imaging_method=widefield")
    assert done.returncode == 2 and "Widefield fluorescence microscopy" in done.stderr
