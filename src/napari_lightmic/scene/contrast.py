"""Display ranges from a small, strided read of one plane — never from the full data."""

from __future__ import annotations

import dask.array as da
import numpy as np

from ..model import Scene
from .axes import compute, plane_index

MAX_SIDE = 512  # pixels per side read at most for the estimate


def representative_plane(scene: Scene, channel: int) -> da.Array:
    """Lazy 2D (or 2D+S) view of the smallest resolution level.

    The first time point, the middle Z, the first of every other axis.
    """
    data = scene.levels[-1]
    plane = data[plane_index(scene.dims, data.shape, channel)]
    step = max(1, max(plane.shape[:2]) // MAX_SIDE)
    view: da.Array = plane[::step, ::step]
    return view


def estimate_contrast(scene: Scene, channel: int) -> tuple[float, float]:
    """0.1 and 99.9 percentiles of a downsampled representative plane of one channel."""
    plane = compute(representative_plane(scene, channel))
    if plane.dtype.kind == "f":
        plane = plane[np.isfinite(plane)]
    if plane.size == 0:
        return (0.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(plane, (0.1, 99.9)))
    if hi <= lo:
        lo, hi = float(plane.min()), float(plane.max())
    if hi <= lo:
        hi = lo + 1.0
    return (lo, hi)
