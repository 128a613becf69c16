"""OME-Zarr over real HTTP on 127.0.0.1, including servers that misbehave."""

import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.reading import remote
from tests.reading.zarr_fixtures import write_ome_zarr

TIMEOUT = 2.0  # seconds the client waits for a silent server in these tests
SLOW = 8.0  # seconds the slow server sleeps before answering (bounded, then it answers)


class Handler(SimpleHTTPRequestHandler):
    """Serves the folder; /slow/ answers late, /drop/ hangs up, /truncated/ cuts JSON."""

    def do_GET(self):
        if self.path.startswith("/slow/"):
            time.sleep(SLOW)
            self.path = self.path[len("/slow"):]
        elif self.path.startswith("/drop/"):
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif self.path.startswith("/truncated/"):
            self.path = self.path[len("/truncated"):]
            if self.path.endswith((".json", ".zattrs", ".zgroup")):
                body = b'{"zarr_format": 3, "node_type": "gr'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    data = write_ome_zarr(tmp_path / "image.ome.zarr", "0.5")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(tmp_path)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(remote, "HTTP_TIMEOUT", TIMEOUT)
    yield f"http://127.0.0.1:{httpd.server_address[1]}", data
    httpd.shutdown()
    httpd.server_close()


def timed_error(url):
    start = time.monotonic()
    with pytest.raises(LightmicReadError) as info:
        open_image(url)
    print(info.value)
    return time.monotonic() - start, str(info.value)


def test_remote_ome_zarr_opens_lazily(server):
    base, data = server
    scene = open_image(f"{base}/image.ome.zarr").scenes[0]
    assert scene.channel_names == ["DAPI", "GFP"]
    assert scene.physical_pixel_sizes["X"] == pytest.approx(0.25)
    np.testing.assert_array_equal(np.asarray(scene.data[0, 1, 2]), data[1, 2])


def test_not_found(server):
    base, _ = server
    elapsed, message = timed_error(f"{base}/missing.ome.zarr")
    assert "missing.ome.zarr" in message and elapsed < 5 * TIMEOUT


def test_slow_server_gives_up_in_bounded_time(server):
    base, _ = server
    elapsed, message = timed_error(f"{base}/slow/image.ome.zarr")
    assert elapsed < SLOW, f"waited {elapsed:.1f} s for a server that answers after {SLOW} s"
    assert "slow/image.ome.zarr" in message


def test_truncated_json(server):
    base, _ = server
    elapsed, message = timed_error(f"{base}/truncated/image.ome.zarr")
    assert elapsed < 5 * TIMEOUT and "truncated/image.ome.zarr" in message


def test_dropped_connection(server):
    base, _ = server
    elapsed, message = timed_error(f"{base}/drop/image.ome.zarr")
    assert elapsed < 5 * TIMEOUT and "drop/image.ome.zarr" in message


def test_idr_ids_map_to_the_configured_url(server, tmp_path, monkeypatch):
    base, _ = server
    assert remote.idr_url("6001240", "https://example.org/{image_id}.zarr") == \
        "https://example.org/6001240.zarr"
    monkeypatch.setattr(remote, "IDR_URL_TEMPLATE", base + "/{image_id}.ome.zarr")
    write_ome_zarr(tmp_path / "1234.ome.zarr", "0.4")
    source = open_image("idr:1234")
    assert source.path == f"{base}/1234.ome.zarr"
    assert source.scenes[0].channel_names == ["DAPI", "GFP"]
    with pytest.raises(LightmicReadError, match="a number"):
        open_image("idr:abc")
    with pytest.raises(LightmicReadError, match="4321"):
        open_image("idr:4321")
