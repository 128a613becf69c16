import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

# Real vendor files live beside the checkout and are never copied into the repo.
TESTDATA = Path(os.environ.get("LIGHTMIC_TESTDATA",
                               Path(__file__).resolve().parents[2] / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def truth(testdata) -> dict:
    return json.loads((testdata / "truth.json").read_text())


def real_file(relpath: str) -> Path:
    """A file of the shared test data, or a skip naming what is missing."""
    path = TESTDATA / relpath
    if not path.exists():
        pytest.skip(f"shared test file {relpath} not found")
    return path


@pytest.fixture(scope="session")
def micromanager_dataset(tmp_path_factory):
    """The Micro-Manager 1.4 dataset, unpacked (it is stored gzip-compressed)."""
    folder = TESTDATA / "ometiff" / "micromanager_1.4_multifile"
    if not folder.is_dir():
        pytest.skip("shared Micro-Manager dataset not found")
    out = tmp_path_factory.mktemp("mm")
    for gz in folder.glob("*.gz"):
        with gzip.open(gz) as src, open(out / gz.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


@pytest.fixture
def vendor_copy(tmp_path):
    """A copy of a shared file in a temporary folder, so sidecars can be written beside it."""
    def copy(relpath: str) -> Path:
        target = tmp_path / Path(relpath).name
        shutil.copy(real_file(relpath), target)
        return target
    return copy


@pytest.fixture
def notifications():
    """The napari notifications shown while the test runs."""
    from napari.utils.notifications import notification_manager

    seen = []
    notification_manager.notification_ready.connect(seen.append)
    yield seen
    notification_manager.notification_ready.disconnect(seen.append)


@pytest.fixture
def zarr_server(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1 serving tmp_path, with an OME-Zarr 0.5 image in it."""
    from napari_lightmic.reading import remote
    from tests.http_server import serve
    from tests.reading.zarr_fixtures import write_ome_zarr

    data = write_ome_zarr(tmp_path / "image.ome.zarr", "0.5")
    monkeypatch.setattr(remote, "HTTP_TIMEOUT", 2.0)
    with serve(tmp_path) as base:
        yield base, data


@pytest.fixture
def opened():
    """open_image for a test that reads from a source after opening it: every source opened
    is closed when the test ends, so no file is left open."""
    from napari_lightmic import open_image

    sources = []

    def open_(*args, **kwargs):
        source = open_image(*args, **kwargs)
        sources.append(source)
        return source

    yield open_
    for source in sources:
        source.close()
