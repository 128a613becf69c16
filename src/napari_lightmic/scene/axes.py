"""Axis order shared by the readers: extra axes first, then T, C, Z, Y, X and RGB samples."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from ..errors import LightmicReadError, cause_of
from .budget import check_grid

if TYPE_CHECKING:
    import dask.array as da

    from ..model import Scene
    from .chunked import ChunkedArray, LazyPixels

CANONICAL = "TCZYXS"
P = TypeVar("P", "da.Array", "ChunkedArray")  # a lazy array of either kind


class Chunked(Protocol):
    """An array-like that reads what it is indexed with: what `chunked_array` wraps."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each axis."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The pixel type of every chunk read."""
        ...

    def __getitem__(self, key: tuple[slice, ...]) -> Any:  # noqa: ANN401 - an array of any kind
        """The pixels of one chunk (a slice per axis): a numpy array."""
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


def canonical(data: P, axes: str) -> tuple[P, str]:
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


@dataclass(frozen=True)
class ChunkOrigin:
    """Where a lazy array's chunks are read from: what names a chunk that fails to read.

    Attributes
    ----------
    path : str
        The file (or folder, or URL) opened.
    axes : str
        One letter per axis of the wrapped array, as the file orders them (``I`` or ``Q``
        for an unnamed stack is read as Z, as `canonical` does).
    at : tuple of (str, int)
        The array's own position on axes it does not have (Imaris and BigDataViewer store
        one dataset per time point and channel).
    """

    path: str
    axes: str
    at: tuple[tuple[str, int], ...] = ()

    def plane(self, key: tuple[slice | int, ...], shape: tuple[int, ...]) -> str:
        """The plane a chunk key covers, as ``T=0, C=1, Z=4`` (a range where it spans more)."""
        axes = self.axes.upper()
        if "Z" not in axes:
            for seq in ("I", "Q"):
                if seq in axes:
                    axes = axes.replace(seq, "Z")
                    break
        where: dict[str, str] = {a: str(i) for a, i in self.at}
        for axis, k, n in zip(axes, key, shape):
            if axis in "YXS":
                continue
            if isinstance(k, slice):
                span = range(*k.indices(n))
                text = str(span.start) if len(span) <= 1 else f"{span.start}-{span[-1]}"
            else:
                text = str(int(k))
            where[axis] = text
        extras = [a for a in where if a not in "TCZ"]
        order = extras + [a for a in "TCZ"]
        return ", ".join(f"{a}={where.get(a, '0')}" for a in order)


# Never turned into a read error: the user or the interpreter stopping the read.
_NOT_READ_ERRORS = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)
def chunk_error(origin: ChunkOrigin, key: tuple[slice | int, ...], shape: tuple[int, ...],
                exc: BaseException) -> LightmicReadError:
    """The one-line error for a chunk that could not be read, naming the file and plane."""
    return LightmicReadError(origin.path, f"plane {origin.plane(key, shape)} cannot be "
                                          f"decoded: {cause_of(exc)}")


class GuardedChunks:
    """A `Chunked` whose every failed read is a `LightmicReadError` naming the file and plane.

    Whatever the library raises while a chunk is read or decoded (a codec error, an
    ``OSError``, a ``ValueError`` of a damaged header, a ``MemoryError``...) is raised once,
    here, as one `LightmicReadError`; a `LightmicReadError` from a nested read passes as it
    is. With `report` set (`tolerant`: the viewer's copies), the error is given to `report`
    and the chunk reads as zeros instead.
    """

    def __init__(self, array: Chunked, origin: ChunkOrigin,
                 report: Callable[[LightmicReadError], None] | None = None) -> None:
        self.array, self.origin, self.report = array, origin, report
        self.shape, self.dtype = tuple(array.shape), np.dtype(array.dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of one chunk; a failure as a `LightmicReadError` (or zeros, reported)."""
        try:
            out: npt.NDArray[Any] = self.array[key]
        except _NOT_READ_ERRORS:
            raise
        except LightmicReadError as err:
            return self._failed(key, err)
        except BaseException as exc:  # noqa: BLE001 - every library's failure, named once
            return self._failed(key, chunk_error(self.origin, key, self.shape, exc), exc)
        return out

    def _failed(self, key: tuple[slice, ...], err: LightmicReadError,
                exc: BaseException | None = None) -> npt.NDArray[Any]:
        if self.report is None:
            if exc is None:
                raise err
            raise err from exc
        self.report(err)
        given = key if isinstance(key, tuple) else (key,)
        given = given + (slice(None),) * (self.ndim - len(given))
        sizes = [len(range(*k.indices(n))) for k, n in zip(given, self.shape)
                 if isinstance(k, slice)]
        return np.zeros(sizes, dtype=self.dtype)

    def tolerant(self, report: Callable[[LightmicReadError], None]) -> GuardedChunks:
        """A copy whose failed chunks read as zeros, each failure given to `report`."""
        return GuardedChunks(self.array, self.origin, report)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the array and where it is from (a report callback stays behind)."""
        return GuardedChunks, (self.array, self.origin)


def chunked_array(array: Chunked, chunks: tuple[int, ...] | tuple[tuple[int, ...], ...],
                  origin: ChunkOrigin) -> ChunkedArray:
    """A lazy array over an array-like that reads what it is indexed with, without dask.

    One call per chunk, no copy. The one place every reader's pixels are read through: a
    chunk that cannot be read or decoded raises a `LightmicReadError` naming `origin`'s file
    and the chunk's plane (`GuardedChunks`). A grid too large to build is refused first
    (`budget.check_grid`).
    """
    from .chunked import ChunkedArray, normalized

    if not any(isinstance(c, tuple) for c in chunks):
        check_grid(array.shape, chunks, np.dtype(array.dtype).itemsize)  # type: ignore[arg-type]
    guarded = GuardedChunks(array, origin)
    return ChunkedArray(guarded, normalized(chunks, guarded.shape))


def tolerant(data: da.Array, report: Callable[[LightmicReadError], None]) -> da.Array:
    """The same lazy array, its failed chunks read as zeros and given to `report`.

    For a viewer, which shows what it can of a damaged file: every `GuardedChunks` the
    array's graph reads from is swapped for its `tolerant` copy (the arrays of the core
    keep raising).
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    graph = data.__dask_graph__()
    if not isinstance(graph, HighLevelGraph):
        return data
    layers = dict(graph.layers)
    swapped = False
    for name, layer in graph.layers.items():
        if not isinstance(layer, MaterializedLayer) or len(layer.mapping) != 1:
            continue
        ((key, value),) = layer.mapping.items()
        if isinstance(value, GuardedChunks):
            layers[name] = MaterializedLayer({key: value.tolerant(report)})
            swapped = True
    if not swapped:
        return data
    rebuilt = HighLevelGraph(layers, dict(graph.dependencies))
    return da.Array(rebuilt, data.name, data.chunks, meta=data._meta)


class SerialReads:
    """A lazy array whose chunks are read one at a time.

    For readers whose library is not thread-safe (bioio's plugins, TIFF series of several
    files): napari and the writers read chunks from several threads.
    """

    def __init__(self, data: LazyPixels, origin: ChunkOrigin) -> None:
        self.origin = origin
        self._set(data)

    def _set(self, data: LazyPixels) -> None:
        import threading

        self.data, self.lock = data, threading.Lock()
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """Read one chunk, while no other thread reads one."""
        from .chunked import read

        with self.lock:
            return read(self.data, key, "synchronous")

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the data and its origin alone."""
        # a lock does not pickle: the copy gets its own
        return {"data": self.data, "origin": self.origin}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle with a lock of its own."""
        self.origin = state["origin"]
        self._set(state["data"])

    def pixels(self) -> ChunkedArray:
        """A lazy array of the same chunks, each read under the lock."""
        return chunked_array(self, self.data.chunks, self.origin)


NO_TIME_STEP = ("The file records no time step: T counts time points and is shown without "
                "a unit.")


def with_time_note(scene: Scene) -> Scene:
    """The scene, with a note saying so when it has time points but no recorded time step."""
    import dataclasses

    if scene.size("T") < 2 or scene.physical_pixel_sizes.get("T") or NO_TIME_STEP in scene.notes:
        return scene
    return dataclasses.replace(scene, notes=[*scene.notes, NO_TIME_STEP])
