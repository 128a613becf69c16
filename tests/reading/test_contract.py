"""Every registered reader keeps the reader contract (reading/contract.py), on a file of each
shared family and on synthetic files for formats without one: it opens reading no pixels,
gives a lazy dask array per level with the declared shape and dtype, closes every file it
opened, pickles (for dask workers) reading the same plane after unpickling, and refuses bad
input with a LightmicReadError naming the path."""

from __future__ import annotations

import gc
import importlib
import pickle
import pkgutil
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import psutil
import pytest

import napari_lightmic.reading as reading_pkg
from napari_lightmic import LightmicReadError, open_image
from napari_lightmic.formats import FORMATS, format_for
from napari_lightmic.reading.contract import FormatReader, reader_for
from tests.conftest import real_file


@dataclass(frozen=True)
class Case:
    id: str
    format: str
    make: Callable[[Path], Path]  # the file (or folder) to open, given a temporary folder
    # where to cut the file for the truncation test, as a fraction of its size
    cut: float = 0.5


def _shared(relpath: str) -> Callable[[Path], Path]:
    return lambda tmp: real_file(relpath)


def _png(tmp: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.arange(20 * 30 * 3, dtype=np.uint8).reshape(20, 30, 3)).save(
        tmp / "photo.png")
    return tmp / "photo.png"


def _jpeg(tmp: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.full((16, 24), 128, np.uint8)).save(tmp / "snap.jpg", quality=90)
    return tmp / "snap.jpg"


def _hdf5(tmp: Path) -> Path:
    import h5py

    with h5py.File(tmp / "volumes.h5", "w") as f:
        f.create_dataset("raw", data=np.arange(5 * 40 * 30, dtype=np.uint16).reshape(5, 40, 30),
                         chunks=(1, 40, 30))
    return tmp / "volumes.h5"


def _ome_zarr(tmp: Path) -> Path:
    from tests.reading.zarr_fixtures import write_ome_zarr

    write_ome_zarr(tmp / "image.ome.zarr", "0.5")
    return tmp / "image.ome.zarr"


def _ome_tiff(tmp: Path) -> Path:
    from napari_lightmic.synthetic import write_ome_tiff

    data = np.arange(2 * 3 * 32 * 32, dtype=np.uint16).reshape(2, 3, 32, 32)
    return write_ome_tiff(tmp / "cells.ome.tif", data)


def _lof(tmp: Path) -> Path:
    from tests.reading.vendor_fixtures import cells, write_lof

    return write_lof(tmp / "cells.lof", cells())


def _xlif(frames: bool) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        from tests.reading.vendor_fixtures import cells, write_xlif

        return write_xlif(tmp / "cells.xlif", cells(), frames=frames)
    return make


def _xlef(tmp: Path) -> Path:
    from tests.reading.vendor_fixtures import write_project

    return write_project(tmp / "project")[0]


def _oif(tmp: Path) -> Path:
    from tests.reading.vendor_fixtures import cells, write_oif

    return write_oif(tmp / "cells.oif", cells((2, 3, 24, 32)))


def _oib(tmp: Path) -> Path:
    from tests.reading.vendor_fixtures import cells, write_oib

    return write_oib(tmp / "cells.oib", cells((2, 3, 24, 32)))


CASES = [
    Case("czi", "CZI", _shared("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi")),
    Case("czi-scenes", "CZI", _shared("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")),
    Case("lif", "LIF", _shared("lif/testdata_2channel_xz.lif")),
    Case("nd2", "ND2", _shared("nd2/example-multichannel.nd2")),
    Case("lsm", "LSM", _shared("lsm/test.lsm")),
    # pixels in the first fifth of the file, the unreferenced tail 45% of it
    Case("ome-tiff", "OME-TIFF",
         _shared("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff"), cut=0.15),
    Case("ome-tiff-synthetic", "OME-TIFF", _ome_tiff),
    Case("tiff", "TIFF", _shared("tiff/CH1_16bit.tif")),
    Case("tiff-rgb", "TIFF", _shared("tiff/Fluorescence_RGB.tif")),
    Case("imaris", "Imaris", _shared("ims/Minimal_IMS_File.ims")),
    Case("bigdataviewer", "BigDataViewer", _shared("hdf5/bdv/demoSlice.xml")),
    Case("hdf5", "HDF5", _hdf5),
    Case("ome-zarr", "OME-Zarr", _ome_zarr),
    Case("lof", "LOF", _lof),
    Case("xlif", "XLIF", _xlif(frames=False)),
    Case("xlif-tiff-frames", "XLIF", _xlif(frames=True)),
    Case("xlef", "XLEF", _xlef),
    Case("oif", "OIF", _oif),
    Case("oib", "OIB", _oib),
    Case("png", "PNG", _png),
    Case("jpeg", "JPEG", _jpeg),
]


@pytest.fixture(autouse=True)
def no_file_left_open() -> Iterator[None]:
    """Every file a test opens is closed when it ends (as nd2's conftest checks)."""
    gc.collect()
    before = {f.path for f in psutil.Process().open_files()}
    yield
    gc.collect()
    left = {f.path for f in psutil.Process().open_files()} - before
    assert not left, f"files left open: {sorted(left)}"


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case_path(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Case, Path]:
    case: Case = request.param
    return case, case.make(tmp_path)


def _no_compute(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A spy on dask's local schedulers: every compute appends to the returned list."""
    import dask.local
    import dask.threaded

    computed: list[int] = []
    original = dask.local.get_async

    def spy(*args: object, **kwargs: object) -> object:
        computed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(dask.local, "get_async", spy)
    monkeypatch.setattr(dask.threaded, "get_async", spy)
    return computed


def _last_plane(level: da.Array, dims: str) -> tuple[int | slice, ...]:
    """The index of the last plane: the last position on every axis but Y, X and S."""
    return tuple(slice(None) if a in "YXS" else n - 1 for a, n in zip(dims, level.shape))


def test_opens_lazily_with_declared_levels(case_path, monkeypatch):
    case, path = case_path
    computed = _no_compute(monkeypatch)
    with open_image(path) as source:
        assert not computed, "pixels were computed while opening"
        assert source.format.name == case.format
        assert source.scenes
        for scene in source.scenes:
            assert len(scene.dims) == scene.data.ndim
            previous = None
            for level in scene.levels:
                assert isinstance(level, da.Array)
                assert level.ndim == len(scene.dims) and level.dtype == scene.data.dtype
                if previous is not None:  # Y and X shrink, the other axes stay
                    assert all(n <= p if a in "YX" else n == p
                               for a, n, p in zip(scene.dims, level.shape, previous))
                previous = level.shape
        monkeypatch.undo()
        for scene in (source.scenes[0], source.scenes[-1]):
            for level in (scene.data, scene.levels[-1]):
                index = _last_plane(level, scene.dims)
                plane = np.asarray(level[index])
                assert plane.dtype == level.dtype
                assert plane.shape == level[index].shape


def test_closes_every_file_it_opened(case_path):
    _, path = case_path
    source = open_image(path)
    scene = source.scenes[-1]
    np.asarray(scene.data[_last_plane(scene.data, scene.dims)])
    source.close()
    del source, scene  # the autouse fixture checks that nothing is left open


def test_levels_pickle_and_read_the_same_plane(case_path):
    _, path = case_path
    with open_image(path) as source:
        for scene in (source.scenes[0], source.scenes[-1]):
            for level in (scene.data, scene.levels[-1]):
                index = _last_plane(level, scene.dims)
                copy = pickle.loads(pickle.dumps(level))
                np.testing.assert_array_equal(np.asarray(copy[index]),
                                              np.asarray(level[index]))
                del copy


def test_the_whole_source_pickles_with_its_metadata(case_path):
    """A source goes to a dask worker whole: scenes, OME and acquisition facts."""
    _, path = case_path
    with open_image(path) as source:
        copy = pickle.loads(pickle.dumps(source))
        with copy:
            assert [s.shape for s in copy.scenes] == [s.shape for s in source.scenes]
            assert len(copy.ome.images) == len(source.ome.images)
            assert copy.acquisition == source.acquisition
            scene = copy.scenes[-1]
            index = _last_plane(scene.data, scene.dims)
            np.testing.assert_array_equal(np.asarray(scene.data[index]),
                                          np.asarray(source.scenes[-1].data[index]))
        del copy


def _bad_copy(path: Path, tmp: Path, content: Callable[[bytes], bytes]) -> Path:
    """A copy of `path` (or of its metadata file, for a folder) with its bytes changed."""
    target = tmp / "bad" / path.name
    if path.is_dir():
        shutil.copytree(path, target)
        meta = target / "zarr.json"
        meta.write_bytes(content(meta.read_bytes()))
        return target
    target.parent.mkdir()
    target.write_bytes(content(path.read_bytes()))
    return target


def _expect_refused(path: Path) -> None:
    with pytest.raises(LightmicReadError) as info:
        with open_image(path) as source:
            for scene in source.scenes:  # a reader may find damage only when reading
                np.asarray(scene.data[_last_plane(scene.data, scene.dims)])
    assert str(path) in str(info.value)


def test_refuses_a_truncated_file(case_path, tmp_path):
    case, path = case_path
    _expect_refused(_bad_copy(path, tmp_path, lambda data: data[: int(len(data) * case.cut)]))


def test_refuses_a_file_with_the_wrong_leading_bytes(case_path, tmp_path):
    _, path = case_path
    _expect_refused(_bad_copy(path, tmp_path, lambda data: b"\x00NOPE\x00" * 8 + data[48:]))


# Formats recognised but refused, with the cause and what to do instead
REFUSED = {"OIR"}


def test_every_registered_format_has_a_contract_case():
    assert {c.format for c in CASES} | REFUSED == {f.name for f in FORMATS}
    assert not {c.format for c in CASES} & REFUSED


def test_an_oir_file_is_refused_naming_the_file_the_cause_and_a_way_out(tmp_path):
    """OIR's library (oirfile) needs Python 3.12: the file is named, not taken for another."""
    path = tmp_path / "cells.oir"
    path.write_bytes(b"OLYMPUSRAWFORMAT" + bytes(112))
    with pytest.raises(LightmicReadError) as info:
        open_image(path)
    text = str(info.value)
    assert str(path) in text and "oirfile" in text and "bfconvert" in text


def test_every_registry_row_names_a_reader_and_every_reader_is_registered():
    for fmt in FORMATS:
        assert isinstance(reader_for(fmt), FormatReader), fmt.name
    modules = {f"{reading_pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(
        reading_pkg.__path__)}
    readers = {name for name in modules if hasattr(importlib.import_module(name), "READER")}
    assert readers == {fmt.reader for fmt in FORMATS}


def test_bigdataviewer_reader_claims_only_spimdata_xml(tmp_path):
    fmt = format_for("x.xml")
    spim, other = tmp_path / "a.xml", tmp_path / "b.xml"
    spim.write_text('<?xml version="1.0"?><SpimData version="0.2"></SpimData>')
    other.write_text("<settings/>")
    reader = reader_for(fmt)
    assert reader.claims(str(spim), fmt) and not reader.claims(str(other), fmt)

