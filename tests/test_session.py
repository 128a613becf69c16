"""The Session: the file stays what it says, the user's edits are laid over it, and whoever
listens (the Metadata dock, the layers, the CLI) hears of each change."""

import json

import pytest

from napari_lightmic.session import Session
from tests.conftest import real_file
from tests.test_cli import lightmic

CZI = "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"


def test_edits_make_new_scenes_and_leave_the_file_as_read(vendor_copy):
    session = Session.open(vendor_copy(CZI))
    heard = []
    session.edited.connect(heard.append)
    file_scene = session.source.scenes[0]
    session.edit("scenes.0.channels.1.name", "GFP")
    session.edit("scenes.0.physical_pixel_sizes.X", "0.2")
    session.edit("scenes.0.units.X", "nm")
    assert heard == ["scenes.0.channels.1.name", "scenes.0.physical_pixel_sizes.X",
                     "scenes.0.units.X"]
    edited = session.effective_scene(0)
    assert edited.channel_names == ["LED555", "GFP"] and edited.channels[1].named
    assert (edited.physical_pixel_sizes["X"], edited.units["X"]) == (0.2, "nm")
    assert session.source.scenes[0] is file_scene  # what the file says is not touched
    assert file_scene.channel_names == ["LED555", "LED470"]
    assert file_scene.units["X"] == "µm"
    assert edited.data is file_scene.data  # the same lazy pixels
    written = session.effective_source()
    assert written.scenes[0] is edited and written.ome is session.source.ome
    # taking an edit back gives the file's value again
    session.edit("scenes.0.channels.1.name", "")
    assert session.effective_scene(0).channel_names == ["LED555", "LED470"]


def test_a_refused_edit_changes_nothing_and_says_why(vendor_copy):
    session = Session.open(vendor_copy(CZI))
    heard = []
    session.edited.connect(heard.append)
    before = session.record
    with pytest.raises(ValueError, match="scenes.0.channels.1.emission_nm"):
        session.edit("scenes.0.channels.1.emission_nm", "12")
    with pytest.raises(ValueError, match="greater than 0"):
        session.edit("scenes.0.physical_pixel_sizes.X", "-1")
    assert session.record == before and session.edits == {} and heard == []


def test_saved_edits_come_back_in_a_session_but_not_in_open_image(vendor_copy, opened):
    path = vendor_copy(CZI)
    session = Session.open(path)
    saved = []
    session.saved.connect(saved.append)
    session.edit("rembi.study.title", "Spindles")
    session.edit("scenes.0.channels.0.name", "Chromosomes")
    path_saved = session.save()
    assert saved == [path_saved]
    again = Session.open(path)
    assert again.loaded_edits and again.record.rembi.study.title == "Spindles"
    assert again.effective_scene(0).channel_names[0] == "Chromosomes"
    assert opened(path).scenes[0].channel_names[0] == "LED555"


def test_the_file_model_is_frozen(opened):
    import dataclasses

    source = opened(real_file(CZI))
    scene, channel = source.scenes[0], source.scenes[0].channels[0]
    for obj, name, value in ((source, "path", "x"), (scene, "name", "x"),
                             (channel, "name", "x"), (scene, "channels", ())):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, value)
    assert isinstance(source.scenes, tuple) and isinstance(scene.channels, tuple)


def test_info_says_when_the_sidecar_edits_are_applied(vendor_copy):
    path = vendor_copy(CZI)
    plain = lightmic("info", path, "--json")
    assert plain.returncode == 0 and "applied" not in plain.stderr
    done = lightmic("metadata", path, "--set", "scenes.0.channels.1.name=GFP")
    assert done.returncode == 0, done.stderr
    edited = lightmic("info", path, "--json")
    assert edited.returncode == 0
    assert f"edits from {path}.lightmic.json applied" in edited.stderr
    assert json.loads(edited.stdout)["scenes"][0]["channel_names"] == ["LED555", "GFP"]


def test_an_edited_source_pickles_for_workers(vendor_copy):
    import pickle

    import numpy as np

    with Session.open(vendor_copy(CZI)) as session:
        session.edit("scenes.0.channels.0.name", "Chromosomes")
        source = session.effective_source()
        back = pickle.loads(pickle.dumps(source))
        with back:
            assert back.scenes[0].channel_names == ["Chromosomes", "LED470"]
            plane = (0, 0, 2)
            np.testing.assert_array_equal(back.scenes[0].data[plane].compute(),
                                          source.scenes[0].data[plane].compute())


def test_unsaved_until_saved(vendor_copy):
    session = Session.open(vendor_copy(CZI))
    assert not session.unsaved
    session.edit("rembi.study.title", "Mitosis")
    assert session.unsaved
    session.save()
    assert not session.unsaved
    session.edit("rembi.study.title", "Mitosis")  # the same value: nothing to save
    assert not session.unsaved
    assert not Session.open(session.path).unsaved  # the sidecar's edits are saved ones
