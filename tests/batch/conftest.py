import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import real_file


@pytest.fixture(scope="module")
def client():
    """A real cluster of two worker processes, shared by a module's tests."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    with Client(cluster) as connected:
        yield connected
    cluster.close()


def make_collection(folder: Path) -> dict[str, np.ndarray]:
    """Small good files (OME-TIFFs, a PNG, a shared CZI) and two bad ones; the good pixels."""
    import imageio.v3 as iio
    import tifffile

    rng = np.random.default_rng(7)
    (folder / "sub").mkdir(parents=True)
    pixels = {"a.ome.tif": rng.integers(0, 4000, (2, 3, 40, 48), dtype=np.uint16),
              "sub/b.ome.tif": rng.integers(0, 255, (30, 20), dtype=np.uint8),
              "c.png": rng.integers(0, 255, (24, 32), dtype=np.uint8)}
    tifffile.imwrite(folder / "a.ome.tif", pixels["a.ome.tif"], ome=True,
                     metadata={"axes": "CZYX"})
    tifffile.imwrite(folder / "sub/b.ome.tif", pixels["sub/b.ome.tif"], ome=True)
    iio.imwrite(folder / "c.png", pixels["c.png"])
    shutil.copy(real_file("czi/DAPI_GFP.czi"), folder / "sub" / "d.czi")
    whole = (folder / "a.ome.tif").read_bytes()
    (folder / "truncated.ome.tif").write_bytes(whole[: len(whole) // 2])
    (folder / "text.czi").write_text("a note, not a CZI file\n")
    (folder / "notes.txt").write_text("not an image\n")
    return pixels


def lightmic(*args, **kwargs) -> subprocess.CompletedProcess:
    """`python -m napari_lightmic ARGS`, as a user runs the command."""
    return subprocess.run([sys.executable, "-m", "napari_lightmic", *map(str, args)],
                          capture_output=True, text=True, timeout=300, **kwargs)


def pixels_of(path) -> list[np.ndarray]:
    """Each scene's full-resolution pixels, squeezed."""
    from napari_lightmic.reading import open_image

    with open_image(path) as source:
        return [np.asarray(scene.data).squeeze() for scene in source.scenes]
