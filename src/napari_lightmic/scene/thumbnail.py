"""Small colour composites of a scene, from its smallest resolution level."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..model import Scene
from .axes import plane_index
from .chunked import compute

THUMB_SIDE = 96


def thumbnail(scene: Scene, side: int = THUMB_SIDE) -> npt.NDArray[np.uint8]:
    """RGB uint8 of at most side x side: every channel in its colour, additively."""
    data = scene.levels[-1]
    view = data[plane_index(scene.dims, data.shape, None)]  # C, Y, X (, S)
    ys, xs = view.shape[1:3]
    step = max(1, -(-max(ys, xs) // side))
    planes = compute(view[:, ::step, ::step]).astype(np.float32)
    if scene.rgb:
        rgb = planes[0, ..., :3]
        hi = np.percentile(rgb, 99.5) or 1.0
        shown: npt.NDArray[np.uint8] = np.clip(rgb / hi * 255, 0, 255).astype(np.uint8)
        return shown
    out = np.zeros(planes.shape[1:] + (3,), np.float32)
    for plane, channel in zip(planes, scene.channels):
        lo, hi = np.percentile(plane, (0.5, 99.5))
        norm = np.clip((plane - lo) / ((hi - lo) or 1.0), 0, 1)
        color = np.array([int(channel.color[i:i + 2], 16) / 255 for i in (1, 3, 5)], np.float32)
        out += norm[..., None] * color
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)
