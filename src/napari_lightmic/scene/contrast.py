"""Display ranges from small, strided reads of a few planes — never from the full data."""

from __future__ import annotations

from itertools import product

import dask.array as da
import numpy as np

from ..model import Scene
from .axes import CANONICAL, compute, plane_index

MAX_SIDE = 512  # pixels per side read at most for the estimate
SWEEP_PLANES = 5  # planes read at most along an extra axis (a λ sweep, Airyscan elements)
MAX_PLANES = 9  # planes read at most in all


def representative_plane(scene: Scene, channel: int) -> da.Array:
    """Lazy 2D (or 2D+S) view of the smallest resolution level.

    The first time point, the middle Z, the first of every other axis.
    """
    return representative_planes(scene, channel)[0]


def representative_planes(scene: Scene, channel: int) -> list[da.Array]:
    """Lazy 2D (or 2D+S) views of a few planes of the smallest resolution level.

    The first time point and the middle Z, at a few evenly spaced positions of each extra
    axis (a lambda sweep's wavelengths, Airyscan's detector elements): one plane of a sweep
    can be almost dark where another is bright. The first view is the representative plane.
    """
    data = scene.levels[-1]
    base = plane_index(scene.dims, data.shape, channel)
    extras = [i for i, a in enumerate(scene.dims) if a not in CANONICAL and data.shape[i] > 1]
    positions = [_spread(int(data.shape[i])) for i in extras]
    views = []
    for chosen in list(product(*positions))[:MAX_PLANES]:
        index = list(base)
        for axis, at in zip(extras, chosen):
            index[axis] = at
        plane = data[tuple(index)]
        step = max(1, max(plane.shape[:2]) // MAX_SIDE)
        views.append(plane[::step, ::step])
    return views


def _spread(n: int) -> list[int]:
    """Up to `SWEEP_PLANES` evenly spaced positions of an axis of `n`, the first first."""
    count = min(n, SWEEP_PLANES)
    return sorted({round(k * (n - 1) / max(1, count - 1)) for k in range(count)})


def estimate_contrast(scene: Scene, channel: int) -> tuple[float, float]:
    """0.1 and 99.9 percentiles of downsampled representative planes of one channel."""
    views = representative_planes(scene, channel)
    planes = compute(da.stack(views)) if len(views) > 1 else compute(views[0])
    if planes.dtype.kind == "f":
        planes = planes[np.isfinite(planes)]
    if planes.size == 0:
        return (0.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(planes, (0.1, 99.9)))
    if hi <= lo:
        lo, hi = float(planes.min()), float(planes.max())
    if hi <= lo:
        hi = lo + 1.0
    return (lo, hi)
