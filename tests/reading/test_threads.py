"""Computes on worker threads stay out of dask's global callbacks, which napari uses.

napari registers a `dask.cache.Cache` as a global dask callback while it slices. A compute
started on another thread meanwhile (a thumbnail, a contrast estimate, a writer's block, a
chunk read nested in napari's own compute) would run that cache's callbacks too, and the two
computes clear each other's bookkeeping: `KeyError` in `dask/cache.py:_posttask`.
"""

import threading

import dask.array as da
import numpy as np
import pytest
from dask.cache import Cache
from dask.callbacks import Callback

from napari_lightmic import open_image
from napari_lightmic.scene.contrast import estimate_contrast
from napari_lightmic.scene.thumbnail import thumbnail
from napari_lightmic.synthetic import write_ome_tiff
from napari_lightmic.writing import write
from tests.conftest import real_file


class Spy(Callback):
    """A global callback that counts the tasks it sees, as napari's cache would."""

    def __init__(self):
        super().__init__()
        self.tasks = 0

    def _pretask(self, key, dsk, state):
        self.tasks += 1


@pytest.fixture
def source(tmp_path):
    data = np.random.default_rng(0).integers(0, 4000, (3, 5, 256, 256), dtype=np.uint16)
    with open_image(write_ome_tiff(tmp_path / "c.ome.tif", data, physical=(0.8, 0.1, 0.1))) as s:
        yield s


def test_our_computes_never_run_global_callbacks(source, tmp_path, opened):
    scene, spy = source.scenes[0], Spy()
    with spy:  # as napari's slicing does with its cache
        thumbnail(scene)
        estimate_contrast(scene, 1)
        write(source, tmp_path / "o.ome.zarr")
        write(source, tmp_path / "o.ome.tif")
        # a chunk read that computes inside another compute (nd2 reads are serialised)
        nd2 = opened(real_file("nd2/example-zstack.nd2")).scenes[0]
        thumbnail(nd2)
        assert spy.tasks == 0
        assert Callback.active == {spy._callback}  # not swapped away by our computes
        # and a compute of napari's own still sees it
        da.ones(4, chunks=2).sum().compute()
        assert spy.tasks > 0


def test_napari_cache_and_our_threads_together(opened):
    """The race itself: napari-like cached computes beside thumbnails and contrast."""
    data = np.random.default_rng(1).integers(0, 4000, (2, 3, 128, 128), dtype=np.uint16)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        scene = opened(write_ome_tiff(Path(folder) / "r.ome.tif", data)).scenes[0]
        cache, errors = Cache(1e8), []
        x = da.ones((32, 64, 64), chunks=(1, 64, 64)) + 1

        def napari_like():
            try:
                for _ in range(150):
                    with cache:
                        x.sum().compute()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def ours():
            try:
                for _ in range(150):
                    thumbnail(scene)
                    estimate_contrast(scene, 1)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=napari_like), threading.Thread(target=ours)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a compute hung"
        assert not errors, errors[:2]


def test_the_decoding_setting_is_each_writers_own(source, tmp_path, monkeypatch):
    """A writer decodes pages on one thread each (its blocks run in parallel); napari's
    threads and other writers keep tifffile's default."""
    import tifffile

    from napari_lightmic.reading.tiff import DECODE_WORKERS, single_threaded_decoding

    seen = {}
    thread = threading.Thread(target=lambda: seen.setdefault("other", DECODE_WORKERS.get()))
    with single_threaded_decoding():
        thread.start()
        thread.join()
        assert DECODE_WORKERS.get() == 1
    assert seen["other"] is None and DECODE_WORKERS.get() is None

    used = []
    original = tifffile.TiffPage.asarray

    def spy(self, *args, **kwargs):
        used.append(kwargs.get("maxworkers"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffPage, "asarray", spy)
    write(source, tmp_path / "o.ome.zarr")
    # every plane copied in the writer's pool threads; a contrast estimate per channel aside
    assert used.count(1) >= 15 and used.count(None) <= 3
    used.clear()
    thumbnail(source.scenes[0])
    assert used and set(used) == {None}
