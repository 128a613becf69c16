"""`ChunkedArray`: the readers' lazy pixels, read without dask, equal to numpy's answer.

Every view a reader makes (`canonical`: new axes, one index of an axis, transposes) and every
region a writer or the contrast estimate reads (ranges, steps, negative steps, single
indices) against the same indexing of the numpy array, and of its dask twin.
"""

import itertools

import numpy as np
import pytest

from napari_lightmic.errors import LightmicReadError
from napari_lightmic.scene.axes import ChunkOrigin, canonical, chunked_array
from napari_lightmic.scene.chunked import ChunkedArray, as_dask, normalized, read


class Counting:
    """An array-like that reads what it is indexed with, counting the reads."""

    def __init__(self, array):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype
        self.keys = []

    def __getitem__(self, key):
        self.keys.append(key)
        return self.array[key].copy()


@pytest.fixture
def source():
    data = np.arange(2 * 3 * 7 * 10, dtype=np.uint16).reshape(2, 3, 7, 10)
    counting = Counting(data)
    return data, counting, chunked_array(counting, (1, 2, 3, 4), ChunkOrigin("a.tif", "TCYX"))


def test_chunks_are_dask_s(source):
    data, _, lazy = source
    assert lazy.chunks == ((1, 1), (2, 1), (3, 3, 1), (4, 4, 2))
    assert normalized((3, 4), (0, 4)) == ((0,), (4,))
    assert lazy.to_dask().chunks == lazy.chunks
    assert lazy.to_dask() is lazy.to_dask()  # made once


REGIONS = [(), (0,), (1, slice(0, 2)), (slice(None), 2, slice(1, 6), slice(3, 9)),
           (0, 0, slice(None, None, 3), slice(1, None, 4)), (1, 1, 6, 9),
           (slice(None, None, -1), 0, slice(5, 0, -2), slice(None)), (0, 1, slice(4, 4)),
           (-1, -2, -3, -4)]


@pytest.mark.parametrize("key", REGIONS)
def test_reads_equal_numpy_and_dask(source, key):
    data, _, lazy = source
    np.testing.assert_array_equal(lazy.read(key), data[key])
    np.testing.assert_array_equal(read(lazy.to_dask(), key), data[key])


@pytest.mark.parametrize("axes", ["CTYX", "TYXC", "XYCT"])
def test_views_as_canonical_makes_them_read_as_numpy(source, axes):
    data, _, lazy = source
    order = ["TCYX".index(a) for a in axes]
    moved, moved_np = lazy.transpose(order), data.transpose(order)
    view, dims = canonical(moved, axes)
    expected, _ = canonical(moved_np, axes)
    assert isinstance(view, ChunkedArray) and dims == "TCZYX"
    assert view.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(view), expected)
    for key in [(0, 1, 0), (1, slice(None), 0, slice(2, 5)), (slice(None), 2, 0, 3, 9)]:
        np.testing.assert_array_equal(view.read(key), expected[key])
    np.testing.assert_array_equal(as_dask(view).compute(), expected)


def test_an_index_of_one_axis_and_new_axes_are_views(source):
    data, _, lazy = source
    view = lazy[None, 1, :, None]
    assert isinstance(view, ChunkedArray) and view.shape == (1, 3, 1, 7, 10)
    np.testing.assert_array_equal(np.asarray(view), data[None, 1, :, None])
    np.testing.assert_array_equal(view.read((0, 2, 0, slice(1, 3))), data[1, 2, 1:3])
    np.testing.assert_array_equal(as_dask(view).compute(), data[None, 1, :, None])
    with pytest.raises(IndexError):
        lazy[2]
    stepped = lazy[:, :, ::2]  # anything more is dask's
    np.testing.assert_array_equal(stepped.compute(), data[:, :, ::2])


def test_a_region_reads_each_chunk_it_covers_once_and_whole(source):
    _, counting, lazy = source
    counting.keys.clear()
    lazy.read((0, 1, slice(2, 5), slice(3, 5)))
    assert sorted(counting.keys) == [
        (slice(0, 1), slice(0, 2), slice(0, 3), slice(0, 4)),
        (slice(0, 1), slice(0, 2), slice(0, 3), slice(4, 8)),
        (slice(0, 1), slice(0, 2), slice(3, 6), slice(0, 4)),
        (slice(0, 1), slice(0, 2), slice(3, 6), slice(4, 8))]


def test_a_chunk_that_fails_is_the_plugins_error_naming_file_and_plane():
    class Broken:
        shape, dtype = (2, 4, 4), np.dtype("uint8")

        def __getitem__(self, key):
            raise OSError("bad sector")

    lazy = chunked_array(Broken(), (1, 4, 4), ChunkOrigin("cut.tif", "ZYX"))
    with pytest.raises(LightmicReadError, match=r"cut\.tif.*Z=1.*bad sector"):
        lazy.read((1,))


def test_pickles_as_its_chunks_and_view(source):
    import pickle

    data, _, lazy = source
    view = lazy.transpose((1, 0, 2, 3))[None]
    view.to_dask()
    copy = pickle.loads(pickle.dumps(view))
    assert copy._dask is None  # the dask array made is not pickled
    np.testing.assert_array_equal(np.asarray(copy), data.transpose(1, 0, 2, 3)[None])


def test_every_axis_order_and_region_of_a_small_array():
    data = np.arange(3 * 4 * 5, dtype=np.int32).reshape(3, 4, 5)
    lazy = chunked_array(data, (2, 3, 2), ChunkOrigin("x", "ZYX"))
    for order in itertools.permutations(range(3)):
        view, expected = lazy.transpose(order), data.transpose(order)
        for key in [(slice(1, None), slice(None, None, 2)), (0, slice(None, None, -1)),
                    (slice(None), 1, slice(1, 3))]:
            np.testing.assert_array_equal(view.read(key), expected[key])


def test_keys_it_cannot_view_go_to_dask_or_are_refused(source):
    data, _, lazy = source
    # what dask makes of them (as `scene.data` would): a boolean, an array of positions
    np.testing.assert_array_equal(lazy[True].compute(), lazy.to_dask()[True].compute())
    np.testing.assert_array_equal(lazy[np.array([1, 0])].compute(), data[np.array([1, 0])])
    np.testing.assert_array_equal(lazy[..., 3].compute(), data[..., 3])
    np.testing.assert_array_equal(np.asarray(lazy.transpose(1, 0, 2, 3)),
                                  data.transpose(1, 0, 2, 3))
    with pytest.raises(ValueError, match="permutation"):
        lazy.transpose((0, 0, 1, 2))
    for key in [(0, 0, 0, 0, 0), (None,), (Ellipsis, 1), (True,)]:
        with pytest.raises(IndexError, match="an int or a slice per axis"):
            lazy.read(key)


def test_one_dask_array_whichever_thread_asks_first(source):
    from concurrent.futures import ThreadPoolExecutor

    _, _, lazy = source
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: lazy.to_dask(), range(32)))
    assert len({id(d) for d in made}) == 1


@pytest.mark.parametrize("chunks, shape", [((2, 3), (5, 9)), ((4,), (0,)), ((7,), (7,)),
                                           (((2, 3),), (5,))])
def test_chunks_normalized_as_dask_normalizes_them(chunks, shape):
    from dask.array.core import normalize_chunks

    assert normalized(chunks, shape) == normalize_chunks(chunks, shape)
