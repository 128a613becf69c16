"""Whole chunks written straight into a local zarr store, encoded exactly as zarr encodes them.

The OME-Zarr writer makes every chunk whole and once, into a folder nobody else sees until it
is renamed into place. zarr's general write path (an event loop hop, a read-modify-write check,
a temporary file and a rename per chunk) costs as much CPU as compressing; this path encodes
with the same numcodecs codec and writes the file. Anything it does not handle (shards, other
codecs, remote stores) goes through zarr.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import zarr


class ChunkWriter:
    """`writer[region] = block` for chunk-aligned regions of one zarr array."""

    def __init__(self, array: zarr.Array[Any]) -> None:
        self.array = array
        self.chunks = tuple(array.chunks)
        self.shape = tuple(array.shape)
        from zarr.storage import LocalStore

        store = array.store_path.store
        if not isinstance(store, LocalStore):
            raise TypeError(f"{array} is not in a local store (see `usable`)")
        self.folder = Path(store.root) / array.store_path.path
        self.key = array.metadata.encode_chunk_key
        self.codec = _numcodecs_codec(array)
        self.fill = array.metadata.fill_value
        # the byte order stored: the array's own in zarr v2, little-endian in v3's bytes codec
        self.stored = (array.dtype.newbyteorder("<") if array.metadata.zarr_format == 3
                       else np.dtype(array.metadata.dtype.to_native_dtype()
                                     if hasattr(array.metadata.dtype, "to_native_dtype")
                                     else array.dtype))
        # every chunk's folder made now, once: not a check per chunk while writing
        grid = [range(-(-n // c)) for n, c in zip(self.shape, self.chunks)]
        folders = {os.path.dirname(self.key(coords))
                   for coords in itertools.product(*grid[:-1], [0])} if grid else {""}
        for folder in sorted(folders):
            os.makedirs(self.folder / folder, exist_ok=True)
        self._root = os.fspath(self.folder)

    @staticmethod
    def usable(array: zarr.Array[Any]) -> bool:
        """Whether this path can write the array: local, unsharded, with a known codec."""
        from zarr.storage import LocalStore

        return (isinstance(array.store_path.store, LocalStore)
                and getattr(array, "shards", None) is None
                and _numcodecs_codec(array) is not False)

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        """Read a region back, through zarr."""
        return np.asarray(self.array[region])

    def __setitem__(self, region: tuple[slice, ...], block: np.ndarray[Any, Any]) -> None:
        """Write a chunk-aligned region, chunk by chunk."""
        starts = [range(r.start, r.stop, c) for r, c in zip(region, self.chunks)]
        for corner in itertools.product(*starts):
            index = tuple(slice(s - r.start, min(s + c, r.stop) - r.start)
                          for s, r, c in zip(corner, region, self.chunks))
            coords = tuple(s // c for s, c in zip(corner, self.chunks))
            self._write(coords, block[index])

    def _write(self, coords: tuple[int, ...], part: np.ndarray[Any, Any]) -> None:
        if part.shape != self.chunks:  # edge chunks are stored whole, padded with the fill
            whole = np.full(self.chunks, self.fill, dtype=part.dtype)
            whole[tuple(slice(0, n) for n in part.shape)] = part
            part = whole
        data = np.ascontiguousarray(part, dtype=self.stored)
        encoded = self.codec.encode(data) if self.codec is not None else data.tobytes()
        with open(os.path.join(self._root, self.key(coords)), "wb") as fh:
            fh.write(encoded)


def _numcodecs_codec(array: zarr.Array[Any]) -> Any:  # noqa: ANN401 numcodecs is untyped
    """The numcodecs codec doing what the array's compressor does.

    None for no compression; False when this path cannot write the array.
    """
    compressors = tuple(array.compressors or ())
    if array.metadata.zarr_format == 3:
        from zarr.codecs import BloscCodec, BytesCodec, GzipCodec

        serializer = getattr(array, "serializer", None)
        if not isinstance(serializer, BytesCodec) or tuple(array.filters or ()):
            return False
        if len(compressors) > 1:
            return False
        if not compressors:
            return None
        codec = compressors[0]
        if isinstance(codec, BloscCodec):
            return codec._blosc_codec
        if isinstance(codec, GzipCodec):
            from numcodecs import GZip

            return GZip(level=codec.level)
        return False
    if tuple(array.filters or ()) or len(compressors) > 1 or array.order != "C":
        return False
    return compressors[0] if compressors else None
