"""Lazy downsampled levels for large planes that come without a pyramid.

Each level is a strided view of the full-resolution data: nothing is computed or stored, and
napari shows the level that fits the screen, so very large planes stay displayable.
"""

from __future__ import annotations

from ..model import Scene

PYRAMID_ABOVE = 8192  # planes larger than this (px, either side) get strided levels
PYRAMID_SMALLEST = 1024  # down to about this size


def add_strided_levels(scene: Scene) -> None:
    if scene.pyramid or "Y" not in scene.dims or "X" not in scene.dims:
        return
    y, x = scene.dims.index("Y"), scene.dims.index("X")
    height, width = scene.shape[y], scene.shape[x]
    if max(height, width) < PYRAMID_ABOVE:
        return
    factor = 2
    while max(height, width) // factor >= PYRAMID_SMALLEST:
        index = [slice(None)] * len(scene.dims)
        index[y] = index[x] = slice(None, None, factor)
        scene.pyramid.append(scene.data[tuple(index)])
        factor *= 2
    scene.notes.append(f"No pyramid in the file: {len(scene.pyramid)} strided levels added "
                       "for display.")
