"""Conversions never destroy anything: not the source, not an existing output."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile

from napari_lightmic.cli import main


@pytest.fixture(scope="module")
def big_source(tmp_path_factory):
    """A 512 MiB OME-TIFF: slow enough to convert that it can be killed midway."""
    path = tmp_path_factory.mktemp("src") / "big.ome.tif"
    planes = (np.random.default_rng(i).integers(0, 4000, (2048, 2048), dtype=np.uint16)
              for i in range(64))
    tifffile.imwrite(path, planes, shape=(64, 2048, 2048), dtype=np.uint16, ome=True,
                     metadata={"axes": "ZYX"})
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("output", ["out.ome.zarr", "out.ome.tif"])
def test_killed_conversion_leaves_no_output_and_the_source_intact(big_source, tmp_path,
                                                                  output):
    before = digest(big_source)
    target = tmp_path / output
    proc = subprocess.Popen([sys.executable, "-m", "napari_lightmic", "convert",
                             str(big_source), str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    partial = []
    while time.monotonic() < deadline and not partial:  # wait until writing has begun
        partial = list(tmp_path.glob(f".{output}.partial-*"))
        time.sleep(0.05)
    assert partial, "the conversion never started writing"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not target.exists()
    assert digest(big_source) == before


def test_existing_output_needs_overwrite(tmp_path, capsys):
    source = tmp_path / "small.ome.tif"
    tifffile.imwrite(source, np.zeros((2, 64, 64), np.uint16), ome=True,
                     metadata={"axes": "ZYX"})
    target = tmp_path / "out.ome.tif"
    target.write_bytes(b"precious")
    assert main(["convert", str(source), str(target)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert target.read_bytes() == b"precious"
    assert main(["convert", str(source), str(target), "--overwrite"]) == 0
    assert tifffile.TiffFile(target).is_ome


def test_the_source_is_never_the_target(tmp_path, capsys):
    source = tmp_path / "same.ome.tif"
    tifffile.imwrite(source, np.zeros((64, 64), np.uint16), ome=True)
    before = digest(source)
    assert main(["convert", str(source), str(source), "--overwrite"]) == 1
    assert "never written" in capsys.readouterr().err
    assert digest(source) == before


def test_validate_reports_problems(tmp_path, capsys):
    bad = tmp_path / "bad.ome.tif"
    tifffile.imwrite(bad, np.zeros((8, 8), np.uint8), description="<OME><Nope/></OME>",
                     metadata=None)
    assert main(["validate", str(bad)]) == 1
    assert "bad.ome.tif" in capsys.readouterr().out
