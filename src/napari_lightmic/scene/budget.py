"""What an opened file may ask of memory: declared sizes checked before anything is allocated.

A damaged or hostile file can declare any size. Two things grow with what it declares
without reading a byte of it: the chunk grid dask builds (a tuple entry per chunk along each
axis, a task per chunk read) and the buffer one chunk read allocates. Both are refused here,
with the reason, above limits a user can raise:

``LIGHTMIC_MAX_CHUNKS``
    Chunks in one level of one scene (default 10,000,000: a 200,000-plane series read plane
    by plane, or a 100,000² pixel plane in 32² tiles, fit easily).
``LIGHTMIC_MAX_PLANE_BYTES``
    Bytes of one chunk, the most a single read allocates: a whole plane for readers that
    read planes, a tile for tiled ones (default 4 GiB).

A source must have a scene, and every scene at least one pixel along each axis.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import LightmicReadError

if TYPE_CHECKING:
    from ..model import ImageSource
    from .chunked import LazyPixels

DEFAULT_MAX_CHUNKS = 10_000_000
DEFAULT_MAX_PLANE_BYTES = 4 << 30


class SizeRefused(LightmicReadError):
    """A declared size beyond what the file or the limits allow (the cause says which).

    Raised where the path may not be known (a chunk grid); `open_image` names the file.
    """

    def __init__(self, cause: str, path: str = "") -> None:
        super().__init__(path, cause)


def max_chunks() -> int:
    """Chunks one level may have (``LIGHTMIC_MAX_CHUNKS``)."""
    return _limit("LIGHTMIC_MAX_CHUNKS", DEFAULT_MAX_CHUNKS)


def max_plane_bytes() -> int:
    """Bytes one chunk read may allocate (``LIGHTMIC_MAX_PLANE_BYTES``)."""
    return _limit("LIGHTMIC_MAX_PLANE_BYTES", DEFAULT_MAX_PLANE_BYTES)


def _limit(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def check_grid(shape: Sequence[int], chunks: Sequence[int], itemsize: int = 1) -> None:
    """Refuse a chunk grid too large to build, before dask builds it.

    Parameters
    ----------
    shape : sequence of int
        The array's size along each axis.
    chunks : sequence of int
        One chunk's size along each axis.
    itemsize : int
        Bytes per element.

    Raises
    ------
    SizeRefused
        More chunks than `max_chunks`, or a chunk of more bytes than `max_plane_bytes`.
    """
    shape = [int(n) for n in shape]
    chunks = [max(1, min(int(c), n)) for c, n in zip(chunks, shape)]
    _check_count(math.prod(-(-n // c) for n, c in zip(shape, chunks)),
                 f"{shape_text(shape)} in chunks of {shape_text(chunks)}")
    _check_bytes(math.prod(chunks) * itemsize, chunks)


def check_source(source: ImageSource) -> None:
    """Refuse a source with no scene, or whose scenes declare an empty axis or too many chunks.

    Parameters
    ----------
    source : ImageSource
        Just opened, nothing read.

    Raises
    ------
    SizeRefused
        Naming the scene and the size.
    """
    if not source.scenes:  # a cut file whose pages are all past its end, say
        raise SizeRefused("no image could be read from the file (it holds no scene)")
    for scene in source.scenes:
        for level in scene.pixel_levels:
            try:
                _check_array(level)
            except SizeRefused as exc:
                where = f"scene {scene.name!r}: " if len(source.scenes) > 1 else ""
                raise SizeRefused(f"{where}{exc.cause}") from None


def _check_array(data: LazyPixels) -> None:
    _check_sizes(data.shape)
    _check_count(math.prod(len(c) for c in data.chunks), shape_text(data.shape))
    largest = [max(c) for c in data.chunks]
    _check_bytes(math.prod(largest) * np.dtype(data.dtype).itemsize, largest)


def _check_count(count: int, size: str) -> None:
    if count > max_chunks():
        raise SizeRefused(f"declares a size of {size}: {count:,} chunks, more than the limit "
                          f"of {max_chunks():,} (LIGHTMIC_MAX_CHUNKS)")


def _check_sizes(shape: Sequence[int]) -> None:
    if any(n <= 0 for n in shape):
        raise SizeRefused(f"declares a size of {shape_text(shape)}: an axis of {min(shape)} "
                          "pixels (a width, height or count of 0)")


def _check_bytes(nbytes: int, chunk: Sequence[int]) -> None:
    if nbytes > max_plane_bytes():
        raise SizeRefused(f"declares reads of {shape_text(chunk)} pixels ({_gib(nbytes)} each), "
                          f"more than the limit of {_gib(max_plane_bytes())} "
                          "(LIGHTMIC_MAX_PLANE_BYTES)")


def shape_text(shape: Sequence[int]) -> str:
    """A shape as the messages write it: '3 × 512 × 512'."""
    return " × ".join(str(int(n)) for n in shape)


def _gib(nbytes: int) -> str:
    return f"{nbytes / (1 << 30):,.1f} GiB"
