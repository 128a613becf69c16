"""Tiles placed at pixel offsets as one lazy array: each chunk reads only the tiles it covers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..scene.axes import ChunkOrigin, chunked_array

if TYPE_CHECKING:
    from ..scene.chunked import ChunkedArray

CHUNK_XY = 2048


class TileMosaic:
    """Array-like stitching of tiles at pixel offsets.

    `tiles` is (M, ..., TY, TX[, S]), `offsets` [(y, x), ...] in pixels; `samples` says the
    last axis holds RGB samples. Later tiles are drawn over earlier ones where they
    overlap; gaps are zero.
    """

    def __init__(self, tiles: npt.NDArray[Any], offsets: npt.ArrayLike,
                 samples: bool = False) -> None:
        offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        offsets -= offsets.min(axis=0)
        self.tiles, self.offsets, self.samples = tiles, offsets, samples
        yx = slice(-3, -1) if samples else slice(-2, None)
        self.tile_shape = tuple(tiles.shape[yx])
        height = int(offsets[:, 0].max()) + self.tile_shape[0]
        width = int(offsets[:, 1].max()) + self.tile_shape[1]
        tail = (tiles.shape[-1],) if samples else ()
        self.shape = tuple(tiles.shape[1:yx.start]) + (height, width) + tail
        self.dtype = np.dtype(tiles.dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, key: slice | int | tuple[slice | int, ...]) -> npt.NDArray[Any]:
        """The stitched pixels of a region (a slice or index per axis)."""
        given = key if isinstance(key, tuple) else (key,)
        given = given + (slice(None),) * (self.ndim - len(given))
        squeeze = tuple(i for i, k in enumerate(given) if not isinstance(k, slice))
        sliced = tuple(k if isinstance(k, slice) else slice(k, k + 1) for k in given)
        tail = sliced[-1:] if self.samples else ()
        sliced = sliced[:-1] if self.samples else sliced
        lead = sliced[:-2]
        ys = range(*sliced[-2].indices(self.shape[len(lead)]))
        xs = range(*sliced[-1].indices(self.shape[len(lead) + 1]))
        lead_shape = [len(range(*k.indices(n))) for k, n in zip(lead, self.shape)]
        tail_shape = [len(range(*tail[0].indices(self.shape[-1])))] if tail else []
        out = np.zeros(lead_shape + [len(ys), len(xs)] + tail_shape, dtype=self.dtype)
        th, tw = self.tile_shape
        for m, (oy, ox) in enumerate(self.offsets):
            y0, y1 = max(ys.start, oy), min(ys.stop, oy + th)
            x0, x1 = max(xs.start, ox), min(xs.stop, ox + tw)
            if y0 >= y1 or x0 >= x1:
                continue
            region = self.tiles[(m, *lead, slice(y0 - oy, y1 - oy), slice(x0 - ox, x1 - ox),
                                 *tail)]
            window = (Ellipsis, slice(y0 - ys.start, y1 - ys.start),
                      slice(x0 - xs.start, x1 - xs.start)) + ((slice(None),) if tail else ())
            out[window] = region
        return out.squeeze(axis=squeeze) if squeeze else out

    def pixels(self, origin: ChunkOrigin) -> ChunkedArray:
        """A lazy array of the mosaic: one chunk per plane, in 2048-pixel squares.

        `origin` names the file and the mosaic's axes (without the tiles') in errors.
        """
        n_lead = self.ndim - 2 - (1 if self.samples else 0)
        yx = self.shape[n_lead:n_lead + 2]
        chunks = (1,) * n_lead + tuple(min(CHUNK_XY, n) for n in yx)
        chunks += (self.shape[-1],) if self.samples else ()
        return chunked_array(self, chunks, origin)
