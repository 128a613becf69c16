"""Edits live beside the source and come back when the file is opened again; the source's
bytes never change and a malformed sidecar is never overwritten."""

import hashlib
import json

import pytest

from napari_lightmic.metadata.sidecar import SidecarError, sidecar_path
from napari_lightmic.session import Session


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_edits_round_trip_through_the_sidecar(vendor_copy, opened):
    path = vendor_copy("czi/DAPI_GFP.czi")
    before = _digest(path)
    session = Session.open(path)
    session.edit("rembi.study.title", "Nuclei and GFP")
    session.edit("scenes.0.channels.1.name", "EGFP")
    session.edit("scenes.0.channels.1.color", "#00ff00")
    session.edit("scenes.0.physical_pixel_sizes.X", "0.25")
    record = session.edit("scenes.0.physical_pixel_sizes.Y", "0.25")
    assert session.source.scenes[0].channel_names == ["DAPI", "GFP"]  # the file, unchanged
    saved = session.save()
    assert saved == sidecar_path(path) and saved.name == "DAPI_GFP.czi.lightmic.json"
    stored = json.loads(saved.read_text())
    assert stored["lightmic_metadata"] == "1"
    assert stored["rembi"] == {"study": {"title": "Nuclei and GFP"}}  # only what changed
    assert opened(path).scenes[0].channel_names == ["DAPI", "GFP"]  # what the file says
    again = Session.open(path)
    assert again.loaded_edits
    scene = again.effective_scene(0)
    assert scene.channel_names == ["DAPI", "EGFP"] and scene.channels[1].color == "#00FF00"
    assert scene.physical_pixel_sizes["X"] == 0.25
    assert again.record.rembi.study.title == "Nuclei and GFP"
    assert again.record.scenes == record.scenes
    assert again.record.rembi.image_data.channels == "DAPI, EGFP"  # described as corrected
    assert _digest(path) == before


def test_clearing_a_prefilled_field_is_kept(vendor_copy):
    path = vendor_copy("nd2/example-zstack.nd2")
    session = Session.open(path)
    assert session.record.rembi.image_acquisition.objective
    session.edit("rembi.image_acquisition.objective", "")
    session.save()
    assert Session.open(path).record.rembi.image_acquisition.objective is None


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
    session = Session.open(path)  # the image still opens
    assert reason in session.sidecar_problem and str(bad) in session.sidecar_problem
    assert session.effective_scene(0).channel_names == ["DAPI", "GFP"]
    session.edit("rembi.study.title", "x")
    with pytest.raises(SidecarError, match="left untouched"):
        session.save()
    assert bad.read_text() == content


@pytest.mark.parametrize("content", [
    '{"lightmic_metadata": "1", "scenes": {"0": {"physical_pixel_sizes": {"X": ' + "1" * 5000
    + "}}}}",
    '{"lightmic_metadata": "1", "rembi": ' + "[" * 100000 + "]" * 100000 + "}",
])
def test_hostile_sidecar_is_reported_and_the_image_opens(vendor_copy, content):
    path = vendor_copy("lsm/test.lsm")
    sidecar_path(path).write_text(content)
    session = Session.open(path)
    assert session.sidecar_problem and str(sidecar_path(path)) in session.sidecar_problem
    assert session.source.scenes[0].sizes["Y"] == session.source.scenes[0].sizes["X"] == 512
