"""Display ranges from a small, strided read of one plane — never from the full data."""

from __future__ import annotations

import numpy as np

from ..model import Scene

MAX_SIDE = 512  # pixels per side read at most for the estimate


def displayed_axes(dims: str) -> str:
    """The two axes a 2D view shows: the last two, not counting RGB samples."""
    return dims.replace("S", "")[-2:]


def representative_plane(scene: Scene, channel: int):
    """Lazy 2D (or 2D+S) view of the smallest resolution level: first time point,
    middle Z, first of every other axis."""
    data = scene.levels[-1]
    shown = set(displayed_axes(scene.dims)) | {"S"}
    index = []
    for axis, n in zip(scene.dims, data.shape):
        if axis == "C":
            index.append(channel)
        elif axis in shown:
            index.append(slice(None))
        elif axis == "Z":
            index.append(n // 2)
        else:
            index.append(0)
    plane = data[tuple(index)]
    step = max(1, max(plane.shape[:2]) // MAX_SIDE)
    return plane[::step, ::step]


def estimate_contrast(scene: Scene, channel: int) -> tuple[float, float]:
    """0.1 and 99.9 percentiles of a downsampled representative plane of one channel."""
    plane = np.asarray(representative_plane(scene, channel))
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
