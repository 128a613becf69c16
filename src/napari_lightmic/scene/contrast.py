"""Display ranges from a few planes of the smallest level — never from every plane.

The planes are subsampled to about `MAX_SIDE` pixels a side after their chunks are read, so a
scene without a pyramid reads its chosen planes whole.
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..model import Scene
from .axes import CANONICAL, plane_index
from .chunked import read

if TYPE_CHECKING:
    import dask.array as da

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
    return [data[key] for key in _plane_keys(scene, data.shape, channel)]


def _plane_keys(scene: Scene, shape: tuple[int, ...], channel: int) -> list[tuple[Any, ...]]:
    """The index of each representative plane in a level of `shape`, subsampled to MAX_SIDE."""
    base = plane_index(scene.dims, shape, channel)
    extras = [i for i, a in enumerate(scene.dims) if a not in CANONICAL and shape[i] > 1]
    positions = [_spread(int(shape[i])) for i in extras]
    keys = []
    for chosen in list(product(*positions))[:MAX_PLANES]:
        index = list(base)
        for axis, at in zip(extras, chosen):
            index[axis] = at
        kept = [i for i, k in enumerate(index) if isinstance(k, slice)]
        step = max(1, max(int(shape[i]) for i in kept[:2]) // MAX_SIDE)
        for i in kept[:2]:
            index[i] = slice(None, None, step)
        keys.append(tuple(index))
    return keys


def _spread(n: int) -> list[int]:
    """Up to `SWEEP_PLANES` evenly spaced positions of an axis of `n`.

    The first, the middle (where napari opens a layer: step (n - 1) // 2) and the last.
    """
    if n <= SWEEP_PLANES:
        return list(range(n))
    last = n - 1
    return sorted({0, last // 4, last // 2, (3 * last) // 4, last})


def estimate_contrast(scene: Scene, channel: int) -> tuple[float, float]:
    """A display range for one channel from downsampled representative planes.

    The 0.1 and 99.9 percentiles of the representative plane; where the scene has extra
    axes (a lambda sweep), the median over a few planes along them of each plane's
    percentiles: the range of a typical plane of the sweep, the plane napari opens at among
    them, so that neither its brightest nor its darkest end sets it.
    """
    level = scene.pixel_levels[-1]
    planes = [read(level, key) for key in _plane_keys(scene, level.shape, channel)]
    ranges = [r for r in (_percentiles(plane) for plane in planes) if r is not None]
    if not ranges:
        return (0.0, 1.0)
    lo, hi = (float(np.median([r[k] for r in ranges])) for k in (0, 1))
    if hi <= lo:
        hi = lo + 1.0
    return (lo, hi)


def _percentiles(plane: npt.NDArray[Any]) -> tuple[float, float] | None:
    """0.1 and 99.9 percentiles of a plane's finite values (min and max if they are equal)."""
    if plane.dtype.kind == "f":
        plane = plane[np.isfinite(plane)]
    if plane.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(plane, (0.1, 99.9)))
    if hi <= lo:
        lo, hi = float(plane.min()), float(plane.max())
    return (lo, hi)
