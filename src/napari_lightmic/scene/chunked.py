"""A reader's pixels as a lazy array of the file's own chunks, read without dask.

What a reader opens is a `ChunkedArray`: the file's chunks (a `GuardedChunks`) viewed with
axes moved, added (of size one) or fixed at one index, as `axes.canonical` orders them. The
writers and the contrast estimate read regions straight from the chunks (`read`), so that a
conversion in a fresh process never imports dask.array (with pandas, xarray and scipy: about
0.7 s); napari and everything else that computes gets the same pixels as one dask array
(`to_dask`, made once).
"""

from __future__ import annotations

import bisect
import itertools
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import dask.array as da

Index: TypeAlias = "tuple[int | slice, ...]"


class Chunks(Protocol):
    """What a `ChunkedArray` reads: the reader's chunks, guarded (`axes.GuardedChunks`)."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    ndim: int

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of one whole chunk (a slice per axis)."""
        ...


def normalized(chunks: Sequence[int] | Sequence[Sequence[int]],
               shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Chunk sizes along each axis, as dask gives them (`(2, 2, 1)` for 5 in chunks of 2).

    dask's `normalize_chunks` for the one form readers give, without importing dask.array.
    """
    out = []
    for c, n in zip(chunks, shape):
        if isinstance(c, Sequence):
            out.append(tuple(int(k) for k in c))
            continue
        size = max(1, int(cast(int, c)))
        whole, rest = divmod(int(n), size)
        out.append((size,) * whole + ((rest,) if rest or not whole else ()))
    return tuple(out)


def _viewing(k: object) -> bool:
    """Whether an index makes a view: a new axis, a whole axis, or one position of one."""
    return (k is None or (isinstance(k, slice) and k == slice(None))
            or (isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))))


class ChunkedArray:
    """A lazy array over the chunks of a `GuardedChunks`, viewed with axes moved or added.

    Axis i of the view is axis ``axes[i]`` of the chunks, or a new axis of size one where
    that is None; axes of the chunks in `fixed` are held at one index (and not in the view).
    Every chunk a read covers is read whole, as dask reads it (the same keys asked of the
    same `GuardedChunks`: the same errors, the same locks), and the part wanted is cut
    from it.
    """

    def __init__(self, source: Chunks, chunks: tuple[tuple[int, ...], ...],
                 axes: tuple[int | None, ...] | None = None,
                 fixed: dict[int, int] | None = None) -> None:
        self.source, self.source_chunks = source, chunks
        self.fixed = dict(fixed or {})
        self.axes = tuple(j for j in range(source.ndim) if j not in self.fixed) \
            if axes is None else tuple(axes)
        self.dtype = source.dtype
        self.shape = tuple(1 if j is None else int(source.shape[j]) for j in self.axes)
        self.ndim = len(self.shape)
        self.chunks = tuple((1,) if j is None else chunks[j] for j in self.axes)
        self._edges = [[0, *itertools.accumulate(c)] for c in chunks]
        self._dask: da.Array | None = None
        self._making = threading.Lock()  # one dask array, whichever thread asks first

    def __repr__(self) -> str:
        """Its shape and type (not its pixels)."""
        return f"ChunkedArray(shape={self.shape}, dtype={self.dtype})"

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array."""
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def transpose(self, *order: int | Sequence[int] | None) -> ChunkedArray:
        """The view with its axes in `order` (reversed when none), as `np.ndarray.transpose`."""
        given = order[0] if len(order) == 1 and not isinstance(order[0], int) else order
        axes = tuple(reversed(range(self.ndim))) if given in (None, ()) \
            else tuple(int(i) for i in cast("Sequence[int]", given))
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"axes {axes} are not a permutation of {self.ndim} axes")
        return ChunkedArray(self.source, self.source_chunks, tuple(self.axes[i] for i in axes),
                            self.fixed)

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401 - a view, or dask's answer
        """New axes (None), whole axes (`:`) and one index of an axis: another view.

        Anything else (ranges, steps, arrays) is dask's: ``to_dask()[key]``.
        """
        key = key if isinstance(key, tuple) else (key,)
        if not all(_viewing(k) for k in key) or sum(k is not None for k in key) > self.ndim:
            return self.to_dask()[key]
        key = key + (slice(None),) * (self.ndim - sum(k is not None for k in key))
        axes: list[int | None] = []
        fixed = dict(self.fixed)
        at = iter(range(self.ndim))
        for k in key:
            if k is None:
                axes.append(None)
                continue
            i = next(at)
            if isinstance(k, slice):
                axes.append(self.axes[i])
                continue
            n = self.shape[i]
            if not -n <= int(k) < n:
                raise IndexError(f"index {k} is out of bounds for axis {i} with size {n}")
            j = self.axes[i]
            if j is not None:  # an index of a new axis of one: the axis is gone
                fixed[j] = int(k) % n
        return ChunkedArray(self.source, self.source_chunks, tuple(axes), fixed)

    def read(self, key: Index = ()) -> npt.NDArray[Any]:
        """The pixels of a region: an int or a slice (any step) per axis of the view."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > self.ndim or not all(
                isinstance(k, slice) or (isinstance(k, (int, np.integer))
                                         and not isinstance(k, (bool, np.bool_))) for k in key):
            raise IndexError(f"a region of {self.ndim} axes is an int or a slice per axis, "
                             f"not {key!r}")
        key = key + (slice(None),) * (self.ndim - len(key))
        wanted = [slice(None)] * self.source.ndim  # per axis of the chunks
        for held, f in self.fixed.items():
            wanted[held] = slice(f, f + 1)
        after: list[int | slice] = []  # what is taken of the block read, per view axis
        for k, j, n in zip(key, self.axes, self.shape):
            if j is None:  # a new axis of one: indexed as numpy would
                after.append(k)
            elif isinstance(k, slice):
                span = range(*k.indices(n))
                if not span:
                    wanted[j], taken = slice(0, 0), slice(None)
                else:  # read forwards whatever the step, then stepped
                    lo, hi = min(span[0], span[-1]), max(span[0], span[-1]) + 1
                    wanted[j] = slice(lo, hi)
                    taken = slice(span[0] - lo, None, span.step)
                after.append(taken)
            else:
                at = int(k) + n if int(k) < 0 else int(k)
                if not 0 <= at < n:
                    raise IndexError(f"index {k} is out of bounds for an axis of size {n}")
                wanted[j] = slice(at, at + 1)
                after.append(0)
        block = self._region(wanted)
        # the chunks' axes: the fixed ones dropped, the rest in the view's order, new ones added
        block = block[tuple(0 if j in self.fixed else slice(None)
                            for j in range(self.source.ndim))]
        order = self._order()
        if order != list(range(len(order))):
            block = block.transpose(order)
        if None in self.axes:
            sizes = iter(block.shape)
            block = block.reshape([1 if j is None else next(sizes) for j in self.axes])
        if any(not (isinstance(t, slice) and t == slice(None)) for t in after):
            block = block[tuple(after)]
        return block

    def _order(self) -> list[int]:
        """The view's order of the chunks' axes left once the fixed ones are dropped."""
        kept = [j for j in range(self.source.ndim) if j not in self.fixed]
        return [kept.index(j) for j in self.axes if j is not None]

    def _region(self, wanted: list[slice]) -> npt.NDArray[Any]:
        """A region of the chunks (a forward slice per axis), from the whole chunks it covers."""
        pieces = []  # per axis: (a chunk, the part of it wanted, where that goes in the block)
        for want, edge in zip(wanted, self._edges):
            lo, hi, _ = want.indices(edge[-1])
            k = bisect.bisect_right(edge, lo) - 1
            axis = []
            while k + 1 < len(edge) and edge[k] < hi:
                start, stop = edge[k], edge[k + 1]
                a, b = max(lo, start), min(hi, stop)
                axis.append((slice(start, stop), slice(a - start, b - start),
                             slice(a - lo, b - lo)))
                k += 1
            pieces.append(axis)
        shape = tuple(len(range(*w.indices(e[-1]))) for w, e in zip(wanted, self._edges))
        chunks = list(itertools.product(*pieces))
        if len(chunks) == 1:
            got = np.asarray(self.source[tuple(key for key, _, _ in chunks[0])])
            return got[tuple(part for _, part, _ in chunks[0])]
        block = np.empty(shape, dtype=self.dtype)
        for piece in chunks:
            got = np.asarray(self.source[tuple(key for key, _, _ in piece)])
            block[tuple(at for _, _, at in piece)] = got[tuple(part for _, part, _ in piece)]
        return block

    def __array__(self, dtype: npt.DTypeLike | None = None,
                  copy: bool | None = None) -> npt.NDArray[Any]:
        """Every pixel (for small arrays: a whole read)."""
        out = self.read()
        return out if dtype is None else out.astype(dtype, copy=False)

    def to_dask(self) -> da.Array:
        """The same pixels as a dask array: one task per chunk, made once."""
        with self._making:
            if self._dask is None:
                self._dask = self._made()
            return self._dask

    def _made(self) -> da.Array:
        import dask.array as da

        base: da.Array = da.from_array(self.source, chunks=self.source_chunks, asarray=False,
                                       fancy=False, name=False,
                                       meta=np.empty((0,) * self.source.ndim, dtype=self.dtype))
        data = base
        if self.fixed:
            data = data[tuple(self.fixed.get(j, slice(None)) for j in range(self.source.ndim))]
        order = self._order()
        if order != list(range(len(order))):
            data = data.transpose(order)
        if None in self.axes:
            data = data[tuple(None if j is None else slice(None) for j in self.axes)]
        return data

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the chunks and the view (not the dask array made from them)."""
        return ChunkedArray, (self.source, self.source_chunks, self.axes, self.fixed)


LazyPixels: TypeAlias = "da.Array | ChunkedArray"


def as_dask(data: LazyPixels) -> da.Array:
    """A scene's pixels as dask: a `ChunkedArray`'s dask array, a dask array as it is."""
    return data.to_dask() if isinstance(data, ChunkedArray) else data


def read(data: LazyPixels, key: Index = (),
         scheduler: Literal["threads", "synchronous"] = "threads") -> npt.NDArray[Any]:
    """The pixels of a region of either kind of lazy array.

    A `ChunkedArray` is read on the calling thread; a dask array computed by `scheduler`.
    """
    if isinstance(data, ChunkedArray):
        return data.read(key)
    return compute(data[key] if key else data, scheduler)


def compute(data: da.Array | npt.ArrayLike,
            scheduler: Literal["threads", "synchronous"] = "threads") -> npt.NDArray[Any]:
    """The values of a dask array (or an array-like), computed without dask's callbacks.

    napari registers a `dask.cache.Cache` as a global callback while it slices; a compute on
    another thread (thumbnails, contrast, writers, chunk reads nested in napari's own
    compute) would share that cache's bookkeeping (`KeyError` in `_posttask`) and swap
    dask's global callback set under napari. Every compute of this package goes through
    here, in this process: dask's threaded scheduler, or "synchronous" (the calling
    thread) where the caller is already parallel. The scheduler is given to dask as its
    function, not its name: for a name or none dask first looks for a distributed client,
    importing `distributed` (0.1-0.4 s on the first compute of a session).
    """
    dask_array = sys.modules.get("dask.array")  # not imported: `data` is no dask array
    if dask_array is None or not isinstance(data, dask_array.Array):
        return np.asarray(data)
    from dask import local, threaded

    get = local.get_sync if scheduler == "synchronous" else threaded.get
    return np.asarray(data.compute(scheduler=get, callbacks=()))
