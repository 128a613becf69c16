"""OME-Zarr over real HTTP on 127.0.0.1, including servers that misbehave."""

import time

import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.reading import remote
from tests.http_server import SLOW_SECONDS
from tests.reading.zarr_fixtures import write_ome_zarr

TIMEOUT = 2.0  # seconds the client waits for a silent server (set by the zarr_server fixture)


def timed_error(url):
    start = time.monotonic()
    with pytest.raises(LightmicReadError) as info:
        open_image(url)
    print(info.value)
    return time.monotonic() - start, str(info.value)


def test_remote_ome_zarr_opens_lazily(zarr_server, opened):
    base, data = zarr_server
    scene = opened(f"{base}/image.ome.zarr").scenes[0]
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.25)
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[1, 2])


def test_not_found(zarr_server):
    base, _ = zarr_server
    elapsed, message = timed_error(f"{base}/missing.ome.zarr")
    assert "missing.ome.zarr" in message and elapsed < 5 * TIMEOUT


def test_slow_server_gives_up_in_bounded_time(zarr_server):
    base, _ = zarr_server
    elapsed, message = timed_error(f"{base}/slow/image.ome.zarr")
    assert elapsed < SLOW_SECONDS, f"waited {elapsed:.1f} s for a server that answers late"
    assert "slow/image.ome.zarr" in message


def test_truncated_json(zarr_server):
    base, _ = zarr_server
    elapsed, message = timed_error(f"{base}/truncated/image.ome.zarr")
    assert elapsed < 5 * TIMEOUT and "truncated/image.ome.zarr" in message


def test_dropped_connection(zarr_server):
    base, _ = zarr_server
    elapsed, message = timed_error(f"{base}/drop/image.ome.zarr")
    assert elapsed < 5 * TIMEOUT and "drop/image.ome.zarr" in message


def test_idr_ids_map_to_the_configured_url(zarr_server, tmp_path, monkeypatch, opened):
    base, _ = zarr_server
    assert remote.idr_url("6001240", "https://example.org/{image_id}.zarr") == \
        "https://example.org/6001240.zarr"
    monkeypatch.setattr(remote, "IDR_URL_TEMPLATE", base + "/{image_id}.ome.zarr")
    write_ome_zarr(tmp_path / "1234.ome.zarr", "0.4")
    source = opened("idr:1234")
    assert source.path == f"{base}/1234.ome.zarr"
    # every scene of an IDR image shares one session: the id is the file its URL is
    from napari_lightmic.session import Session, file_version

    with Session.open("idr:1234") as session:
        assert session.file_version == file_version("idr:1234")
    assert source.scenes[0].channel_names == ["DAPI", "GFP"]
    with pytest.raises(LightmicReadError, match="a number"):
        open_image("idr:abc")
    with pytest.raises(LightmicReadError, match="4321"):
        open_image("idr:4321")


@pytest.mark.parametrize(("path", "remote"), [
    ("https://example.org/a.zarr", True), ("http://127.0.0.1:8000/a.zarr", True),
    ("s3://bucket/a.zarr", True), ("gs://bucket/a.zarr", True), ("idr:6001240", True),
    ("/data/a.ome.zarr", False), ("C:\\data\\a.czi", False), ("file:///data/a.zarr", False),
    ("relative/a.czi", False)])
def test_one_definition_of_remote(path, remote):
    from napari_lightmic.metadata.sidecar import sidecar_path
    from napari_lightmic.reading.remote import is_remote

    assert is_remote(path) is remote
    assert (sidecar_path(path) is None) is remote  # no sidecar beside a remote source
