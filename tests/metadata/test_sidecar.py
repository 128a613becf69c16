"""Edits live beside the source and come back when the file is opened again; the source's
bytes never change and a malformed sidecar is never overwritten."""

import hashlib
import json

import pytest

from napari_lightmic import open_image
from napari_lightmic.metadata.record import set_path
from napari_lightmic.metadata.sidecar import SidecarError, sidecar_path, write_edits


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_edits_round_trip_through_the_sidecar(vendor_copy):
    path = vendor_copy("czi/DAPI_GFP.czi")
    before = _digest(path)
    source = open_image(path)
    record = set_path(source.record, "rembi.study.title", "Nuclei and GFP")
    record = set_path(record, "scenes.0.channels.1.name", "EGFP")
    record = set_path(record, "scenes.0.channels.1.color", "#00ff00")
    record = set_path(record, "scenes.0.physical_pixel_sizes.X", "0.25")
    record = set_path(record, "scenes.0.physical_pixel_sizes.Y", "0.25")
    saved = write_edits(source.path, source.file_record, record)
    assert saved == sidecar_path(path) and saved.name == "DAPI_GFP.czi.lightmic.json"
    stored = json.loads(saved.read_text())
    assert stored["lightmic_metadata"] == "1"
    assert stored["rembi"] == {"study": {"title": "Nuclei and GFP"}}  # only what changed
    again = open_image(path)
    scene = again.scenes[0]
    assert scene.channel_names == ["DAPI", "EGFP"] and scene.channels[1].color == "#00FF00"
    assert scene.physical_pixel_sizes["X"] == 0.25
    assert again.record.rembi.study.title == "Nuclei and GFP"
    assert again.record.scenes == record.scenes
    assert again.record.rembi.image_data.channels == "DAPI, EGFP"  # described as corrected
    assert _digest(path) == before


def test_clearing_a_prefilled_field_is_kept(vendor_copy):
    path = vendor_copy("nd2/example-zstack.nd2")
    source = open_image(path)
    assert source.record.rembi.image_acquisition.objective
    record = set_path(source.record, "rembi.image_acquisition.objective", "")
    write_edits(source.path, source.file_record, record)
    assert open_image(path).record.rembi.image_acquisition.objective is None


@pytest.mark.parametrize("content,reason", [
    ("{not json", "not valid JSON"),
    ('{"lightmic_metadata": "99"}', "schema version '99'"),
    ('{"lightmic_metadata": "1", "rembi": {"study": {"title": 3}}}', "rembi.study.title"),
    ("[1, 2]", "not a JSON object"),
])
def test_malformed_sidecar_is_reported_and_never_overwritten(vendor_copy, content, reason):
    path = vendor_copy("czi/DAPI_GFP.czi")
    bad = sidecar_path(path)
    bad.write_text(content)
    source = open_image(path)  # the image still opens
    assert reason in source.sidecar_problem and str(bad) in source.sidecar_problem
    assert source.scenes[0].channel_names == ["DAPI", "GFP"]
    record = set_path(source.record, "rembi.study.title", "x")
    with pytest.raises(SidecarError, match="left untouched"):
        write_edits(source.path, source.file_record, record)
    assert bad.read_text() == content


@pytest.mark.parametrize("content", [
    '{"lightmic_metadata": "1", "scenes": {"0": {"physical_pixel_sizes": {"X": ' + "1" * 5000
    + "}}}}",
    '{"lightmic_metadata": "1", "rembi": ' + "[" * 100000 + "]" * 100000 + "}",
])
def test_hostile_sidecar_is_reported_and_the_image_opens(vendor_copy, content):
    path = vendor_copy("lsm/test.lsm")
    sidecar_path(path).write_text(content)
    source = open_image(path)
    assert source.sidecar_problem and str(sidecar_path(path)) in source.sidecar_problem
    assert source.scenes[0].sizes["Y"] == source.scenes[0].sizes["X"] == 512
