import json
import runpy
from pathlib import Path

import pytest

from napari_lightmic.metadata.edam import search, term, vocabulary
from tests.conftest import TESTDATA


def labels(results):
    return [t.label for t in results]


def test_confocal_finds_confocal_microscopy():
    assert labels(search("confocal"))[0] == "Confocal microscopy"


def test_light_sheet_finds_light_sheet_microscopy():
    assert labels(search("light sheet"))[0] == "Light-sheet microscopy"
    assert labels(search("Light-sheet"))[0] == "Light-sheet microscopy"


def test_synonyms_are_searched():
    assert "Light-sheet microscopy" in labels(search("LSFM"))
    assert "Confocal microscopy" in labels(search("CLSM"))


def test_lookup_by_iri_and_refusal_of_unknown_ids():
    found = search("confocal")[0]
    assert term(found.iri) == found
    assert term(found.iri.rsplit("/", 1)[-1]) == found
    with pytest.raises(ValueError, match="not an EDAM-bioimaging term"):
        term("http://edamontology.org/topic_99999")


def test_shipped_vocabulary_is_derived_from_the_ontology(tmp_path):
    """The script reproduces the shipped file, which names its source and licence."""
    tsv = TESTDATA.parent / "ontology" / "EDAM-bioimaging_alpha06.tsv"
    if not tsv.exists():
        pytest.skip("shared EDAM-bioimaging ontology not found")
    shipped = Path(__file__).parents[2] / "src/napari_lightmic/metadata/data/edam_bioimaging.json"
    data = json.loads(shipped.read_text(encoding="utf-8"))
    assert "CC BY-SA 4.0" in data["licence"] and "alpha06" in data["source"]
    script = Path(__file__).parents[2] / "scripts" / "derive_edam_vocabulary.py"
    derive = runpy.run_path(str(script), run_name="derive")["derive"]
    assert json.loads(json.dumps(derive(tsv))) == data
    assert len(vocabulary()) == len(data["terms"]) > 300
