"""NGFF 0.4 outputs read by a zarr-2 client (zarr<3, ome-zarr<0.11), in its own venv
(tests/interop/envs.py): what napari-ome-zarr and other zarr-2 era tools see."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from . import envs
from .conftest import FILES, NAMELESS, case, expected_images

pytestmark = pytest.mark.interop
READER = Path(__file__).with_name("zarr2_reader.py")


@pytest.fixture(scope="session")
def zarr2_python():
    try:
        return envs.zarr2_python()
    except envs.Unavailable as exc:
        pytest.skip(f"zarr-2 client env unavailable: {exc}")


_seen: dict[Path, dict] = {}


def read_with_zarr2(python: Path, out: Path) -> dict:
    if out not in _seen:
        done = subprocess.run([str(python), str(READER), str(out)], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        _seen[out] = json.loads(done.stdout)
    return _seen[out]


def digest(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array)
    array = array.astype(array.dtype.newbyteorder("<"), copy=False)
    total = array.sum(dtype=np.float64 if array.dtype.kind == "f" else np.int64)
    return {"sum": total.item(), "md5": hashlib.md5(array.tobytes()).hexdigest()}


def _check(key, converted, written, zarr2_python, client: str) -> None:
    out = converted(key, "0.4")
    seen = read_with_zarr2(zarr2_python, out)
    layout = len(seen["images"]) > 1 or seen["images"][0]["path"] != ""
    want = expected_images(written, key, "0.4", layout)
    assert len(seen["images"]) == len(want)
    for image, exp in zip(seen["images"], want):
        assert [a["name"] for a in image["axes"]] == [d.lower() for d in exp.dims]
        assert [a.get("unit") for a in image["axes"]] == [exp.ngff_unit(d) for d in exp.dims]
        assert [tuple(s) for s in image["levels"]] == exp.level_shapes
        assert np.dtype(image["dtype"]) == exp.dtype
        if key not in NAMELESS:
            assert image["channel_names"] == exp.channel_names
        assert image[client] == digest(exp.pixels), f"level-0 pixels of image {image['path']!r}"


@pytest.mark.parametrize("key", FILES)
def test_zarr2_plain(key, converted, written, zarr2_python):
    """zarr 2's own open (it honours .zarray's dimension_separator)."""
    _check(key, converted, written, zarr2_python, "zarr")


@pytest.mark.parametrize("key", [case(key) for key in FILES])
def test_zarr2_ome_zarr(key, converted, written, zarr2_python):
    """ome-zarr<0.11's Reader (an FSStore with '/' keys, as NGFF 0.4 prescribes)."""
    _check(key, converted, written, zarr2_python, "ome_zarr")
