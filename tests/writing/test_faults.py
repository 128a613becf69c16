"""Writer faults: a full disk is one line and leaves nothing; a killed write is cleaned later.

A full disk is met two ways: an OSError(ENOSPC) injected into each writer's file writes (in
the process), and `lightmic convert` onto a real 2 MB tmpfs (mounted when the system allows).
"""

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_lightmic import WriteError, open_image
from napari_lightmic.cli import main
from napari_lightmic.writing import convert

OUTPUTS = ["out.ome.zarr", "out.ome.tif"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def noisy_source(tmp_path_factory) -> Path:
    """An 8 MB OME-TIFF of noise: it does not compress below 2 MB."""
    path = tmp_path_factory.mktemp("src") / "noise.ome.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 4000, (4, 1024, 1024),
                                                             dtype=np.uint16),
                     ome=True, metadata={"axes": "ZYX"})
    return path


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".out", "out")))


@pytest.mark.parametrize("output", OUTPUTS)
def test_full_disk_is_one_clear_error_and_leaves_nothing(noisy_source, tmp_path, monkeypatch,
                                                         capsys, output):
    from napari_lightmic.writing import chunks

    # every file write of both writers: zarr's chunks (ours and zarr's own) and tifffile's
    monkeypatch.setattr(chunks, "open", full_disk, raising=False)
    monkeypatch.setattr("zarr.storage._local._put", full_disk)
    monkeypatch.setattr(tifffile.FileHandle, "write", full_disk)
    before = digest(noisy_source)
    target = tmp_path / output
    with pytest.raises(WriteError, match="No space left on device") as raised:
        convert(noisy_source, target)
    assert "\n" not in str(raised.value)
    assert leftovers(tmp_path) == []
    assert main(["convert", str(noisy_source), str(target)]) == 1
    err = capsys.readouterr().err
    assert err == f"lightmic: {target}: cannot be written: No space left on device; nothing " \
                  "was written there\n"
    assert leftovers(tmp_path) == []
    assert digest(noisy_source) == before


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MB tmpfs, or a skip where mounting is not permitted."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("output", OUTPUTS)
def test_convert_onto_a_full_disk(noisy_source, small_tmpfs, output):
    before = digest(noisy_source)
    target = small_tmpfs / output
    done = subprocess.run([sys.executable, "-m", "napari_lightmic", "convert",
                           str(noisy_source), str(target)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr == (f"lightmic: {target}: cannot be written: No space left on "
                           "device; nothing was written there\n")
    assert os.listdir(small_tmpfs) == []
    assert digest(noisy_source) == before


@pytest.fixture(scope="module")
def big_source(tmp_path_factory) -> Path:
    """A 200 MiB OME-TIFF: slow enough to convert that it can be killed midway."""
    path = tmp_path_factory.mktemp("big") / "big.ome.tif"
    planes = (np.random.default_rng(i).integers(0, 4000, (2048, 2048), dtype=np.uint16)
              for i in range(25))
    tifffile.imwrite(path, planes, shape=(25, 2048, 2048), dtype=np.uint16, ome=True,
                     metadata={"axes": "ZYX"})
    return path


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_killed_conversion_is_cleaned_by_the_next(big_source, tmp_path, output):
    target = tmp_path / output
    proc = subprocess.Popen([sys.executable, "-m", "napari_lightmic", "convert",
                             str(big_source), str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial: list[Path] = []
    for _ in range(2400):  # until writing has begun (at most two minutes)
        partial = list(tmp_path.glob(f".{output}.partial-*"))
        if partial or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert partial, "the conversion never started writing"
    assert proc.returncode == -signal.SIGKILL
    assert partial[0].exists() and partial[0].name.startswith(f".{output}.partial-{proc.pid}-")
    # beside it: another target's dead partial, and one of this target a live process writes
    other = tmp_path / f".other{output}.partial-{dead_pid()}-0123abcd"
    live = tmp_path / f".{output}.partial-1-0123abcd"  # pid 1 is always alive
    other.touch()
    live.touch()

    done = subprocess.run([sys.executable, "-m", "napari_lightmic", "convert",
                           str(big_source), str(target)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not partial[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([output, other.name,
                                                                 live.name])
    scene = open_image(target).scenes[0]
    assert scene.shape[-3:] == (25, 2048, 2048)
    assert np.array_equal(np.asarray(scene.data[0, 0, 24]),
                          tifffile.imread(big_source, key=24))


def test_sidecar_and_idr_export_on_a_full_disk_say_so_and_leave_nothing(tmp_path, monkeypatch,
                                                                         capsys):
    """The metadata writers: `metadata --set` (the sidecar) and `--export-idr` (three files)."""
    source = tmp_path / "cells.ome.tif"
    tifffile.imwrite(source, np.zeros((2, 16, 16), np.uint16), ome=True,
                     metadata={"axes": "ZYX"})
    before = digest(source)
    real_write_text = Path.write_text

    def full(self, *args, **kwargs):
        if ".partial-" in self.name:  # a partial write: the writer must remove it
            real_write_text(self, "x", encoding="utf-8")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["metadata", str(source), "--set", "rembi.study.title=T"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert main(["metadata", str(source), "--export-idr", str(tmp_path / "idr")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["cells.ome.tif"]
    assert digest(source) == before
