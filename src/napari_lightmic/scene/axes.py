"""Axis order shared by the readers: extra axes first, then T, C, Z, Y, X and RGB samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

import dask.array as da
import numpy as np
import numpy.typing as npt

from .budget import check_grid

if TYPE_CHECKING:
    from ..model import Scene

CANONICAL = "TCZYXS"


class Chunked(Protocol):
    """An array-like that reads what it is indexed with: what `lazy_array` wraps."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each axis."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The pixel type of every chunk read."""
        ...

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of one chunk (a slice per axis)."""
        ...


def displayed_axes(dims: str) -> str:
    """The two axes of a plane: the last two spatial ones (Y, X; or Z, X for an XZ scan)."""
    return "".join(a for a in dims if a in "ZYX")[-2:]


def plane_index(dims: str, shape: tuple[int, ...],
                channel: int | None) -> tuple[slice | int, ...]:
    """Index of a representative plane.

    The first time point, the middle Z, the first of every other axis; one channel, or all
    of them when `channel` is None.
    """
    shown = set(displayed_axes(dims)) | {"S"}
    index: list[slice | int] = []
    for axis, n in zip(dims, shape):
        if axis in shown or (axis == "C" and channel is None):
            index.append(slice(None))
        elif axis == "C" and channel is not None:
            index.append(channel)
        elif axis == "Z":
            index.append(n // 2)
        else:
            index.append(0)
    return tuple(index)


def canonical(data: da.Array, axes: str) -> tuple[da.Array, str]:
    """Add missing T, C, Z axes and order the rest as extras + TCZYX + S."""
    axes = axes.upper()
    if "Z" not in axes:
        for seq in ("I", "Q"):  # an unnamed stack is a Z stack, as in Fiji
            if seq in axes:
                axes = axes.replace(seq, "Z")
                break
    for axis in "TCZ":
        if axis not in axes:
            data, axes = data[None], axis + axes
    if "S" in axes and data.shape[axes.index("S")] not in (3, 4):
        # Samples that are not RGB(A) (grey + alpha, two-sample TIFFs) are channels.
        if data.shape[axes.index("C")] == 1:
            data = data[(slice(None),) * axes.index("C") + (0,)]
            axes = axes.replace("C", "").replace("S", "C")
    extras = [a for a in axes if a not in CANONICAL]
    order = "".join(extras) + "".join(a for a in CANONICAL if a in axes)
    return data.transpose([axes.index(a) for a in order]), order


def lazy_array(array: Chunked, chunks: tuple[int, ...] | tuple[tuple[int, ...], ...]) -> da.Array:
    """A dask array over an array-like that reads what it is indexed with.

    One call per chunk, no copy, no hashing of the data for a name. A grid too large to
    build is refused first (`budget.check_grid`).
    """
    if not any(isinstance(c, tuple) for c in chunks):
        check_grid(array.shape, chunks, np.dtype(array.dtype).itemsize)  # type: ignore[arg-type]
    data: da.Array = da.from_array(array, chunks=chunks, asarray=False, fancy=False, name=False,
                         meta=np.empty((0,) * len(array.shape), dtype=array.dtype))
    return data


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
    if not isinstance(data, da.Array):
        return np.asarray(data)
    from dask import local, threaded

    get = local.get_sync if scheduler == "synchronous" else threaded.get
    return np.asarray(data.compute(scheduler=get, callbacks=()))


class SerialReads:
    """A lazy array whose chunks are read one at a time.

    For readers that are not thread-safe (nd2): napari and the writers read chunks from
    several threads.
    """

    def __init__(self, data: da.Array) -> None:
        self._set(data)

    def _set(self, data: da.Array) -> None:
        import threading

        self.data, self.lock = data, threading.Lock()
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """Read one chunk, while no other thread reads one."""
        with self.lock:
            return compute(self.data[key], "synchronous")

    def __getstate__(self) -> dict[str, da.Array]:
        """Pickle the data alone."""
        return {"data": self.data}  # a lock does not pickle: the copy gets its own

    def __setstate__(self, state: dict[str, da.Array]) -> None:
        """Unpickle with a lock of its own."""
        self._set(state["data"])

    def to_dask(self) -> da.Array:
        """A dask array of the same chunks, each read under the lock."""
        return lazy_array(self, self.data.chunks)


NO_TIME_STEP = ("The file records no time step: T counts time points and is shown without "
                "a unit.")


def with_time_note(scene: Scene) -> Scene:
    """The scene, with a note saying so when it has time points but no recorded time step."""
    import dataclasses

    if scene.size("T") < 2 or scene.physical_pixel_sizes.get("T") or NO_TIME_STEP in scene.notes:
        return scene
    return dataclasses.replace(scene, notes=[*scene.notes, NO_TIME_STEP])
