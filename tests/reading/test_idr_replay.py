"""`idr:` paths against a loopback server replaying the IDR's recorded answers.

The recordings (tests/data/idr/, metadata only; provenance in its README) are served below
/idr/zarr/ as the IDR's host serves them; every path not recorded answers 404.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.reading import remote
from tests.http_server import serve

RESPONSES = Path(__file__).parents[1] / "data" / "idr" / "responses.json"


@pytest.fixture
def idr_host(tmp_path, monkeypatch):
    """The IDR's host, as recorded, on 127.0.0.1; `remote.IDR_HOST` points at it."""
    for path, body in json.loads(RESPONSES.read_text(encoding="utf-8")).items():
        target = tmp_path / "www" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    monkeypatch.setattr(remote, "HTTP_TIMEOUT", 5.0)
    with serve(tmp_path / "www") as base:
        monkeypatch.setattr(remote, "IDR_HOST", base + "/idr/zarr")
        yield base + "/idr/zarr"


def test_idr_paths_map_to_the_new_host():
    assert remote.IDR_HOST == "https://livingobjects.ebi.ac.uk/idr/zarr"
    assert remote.idr_url("6001240") == \
        "https://livingobjects.ebi.ac.uk/idr/zarr/v0.4/6001240.zarr"
    assert remote.idr_url("v0.4/idr0062A/6001240") == \
        "https://livingobjects.ebi.ac.uk/idr/zarr/v0.4/idr0062A/6001240.zarr"
    assert remote.idr_url("/v0.5/idr0062A/6001240_labels.zarr/") == \
        "https://livingobjects.ebi.ac.uk/idr/zarr/v0.5/idr0062A/6001240_labels.zarr"
    assert remote.idr_url("v0.5/idr0157/Asterella gracilis SWE/IMG_1033.ome.zarr") == (
        "https://livingobjects.ebi.ac.uk/idr/zarr/v0.5/idr0157/Asterella%20gracilis%20SWE/"
        "IMG_1033.ome.zarr")
    for bad in ("v0.4/../../etc", "idr0062A/6001240", "v0.4/a?b=1", "12a", ""):
        with pytest.raises(ValueError, match="a number or a path"):
            remote.idr_url(bad)


def test_an_ngff_04_image_of_the_idr_opens_by_its_path(idr_host, opened):
    source = opened("idr:v0.4/idr0076A/10501752")
    assert source.path == f"{idr_host}/v0.4/idr0076A/10501752.zarr"
    (scene,) = source.scenes
    assert scene.sizes == {"T": 1, "C": 50, "Z": 1, "Y": 494, "X": 464}
    assert scene.dtype == "float64"
    assert len(scene.levels) == 4 and scene.levels[3].shape == (1, 50, 1, 61, 58)
    assert scene.channel_names[:2] == ["Total HH3-113In", "Xe126-126Xe"]
    # no chunk was recorded: the server answers 404 and zarr gives the fill value
    np.testing.assert_array_equal(np.asarray(scene.levels[3][0, 0, 0, :2, :2]), np.zeros((2, 2)))


def test_an_ngff_05_image_of_the_idr_opens_with_its_scale_and_channels(idr_host, opened):
    scene = opened("idr:v0.5/idr0062A/6001240_labels.zarr").scenes[0]
    assert scene.sizes == {"T": 1, "C": 2, "Z": 236, "Y": 275, "X": 271}
    assert scene.channel_names == ["LaminB1", "Dapi"]
    assert scene.channel_colors == ["#0000FF", "#FFFF00"]
    assert scene.physical_pixel_sizes["Z"] == pytest.approx(0.5002025531914894)
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.3603981534640209)
    assert scene.units["X"] == "µm"
    # its labels/ lists label image '0', which the recording lacks: said, not hidden
    assert scene.labels == {}
    assert any("label image '0'" in note for note in scene.notes), scene.notes


def test_an_idr_bioformats2raw_collection_opens_as_its_images(idr_host, opened):
    source = opened("idr:v0.5/idr0033A/BR00109990_C2")
    assert len(source.scenes) == 9
    assert source.scenes[0].physical_pixel_sizes["X"] == pytest.approx(0.3)


def test_an_image_id_uses_the_template_on_the_host(idr_host, monkeypatch, opened):
    monkeypatch.setattr(remote, "IDR_URL_TEMPLATE", "{host}/v0.4/idr0076A/{image_id}.zarr")
    assert opened("idr:10501752").scenes[0].sizes["C"] == 50


def test_a_url_on_the_old_host_names_the_new_one_when_it_fails(idr_host, monkeypatch):
    old = idr_host.replace("/idr/zarr", "/gone/idr/zarr")
    monkeypatch.setattr(remote, "IDR_OLD_HOSTS", (old,))
    with pytest.raises(LightmicReadError) as info:
        open_image(f"{old}/v0.4/idr0076A/10501752.zarr")
    assert f"try {idr_host}/v0.4/idr0076A/10501752.zarr" in str(info.value)
    # and an id the host does not have says which URL was tried
    with pytest.raises(LightmicReadError, match="v0.4/999.zarr"):
        open_image("idr:999")


def test_lightmic_info_opens_an_idr_path_from_the_installed_command(idr_host):
    lightmic = Path(sys.executable).with_name("lightmic")
    env = {**os.environ, "LIGHTMIC_IDR_HOST": idr_host}
    result = subprocess.run([str(lightmic), "info", "--json", "idr:v0.5/idr0062A/6001240_labels"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["path"] == f"{idr_host}/v0.5/idr0062A/6001240_labels.zarr"
    assert info["scenes"][0]["channel_names"] == ["LaminB1", "Dapi"]
