"""Lazy downsampled levels for large planes that come without a pyramid.

Each level is a strided view of the full-resolution data: nothing is computed or stored, and
napari shows the level that fits the screen, so very large planes stay displayable.
"""

from __future__ import annotations

import dataclasses

from ..model import Scene
from ..pyramid import shown_factors

STRIDED_NOTE = "No pyramid in the file"  # about the display only: not carried into copies


def with_strided_levels(scene: Scene) -> Scene:
    """The scene with strided display levels where its large planes have no pyramid.

    Parameters
    ----------
    scene : Scene
        A scene as a reader built it.

    Returns
    -------
    Scene
        `scene` itself when it has a pyramid or its planes are small, else a copy with the
        strided levels and a note saying so.
    """
    if scene.pyramid or "Y" not in scene.dims or "X" not in scene.dims:
        return scene
    y, x = scene.dims.index("Y"), scene.dims.index("X")
    factors = shown_factors(scene.shape[y], scene.shape[x])
    if not factors:
        return scene
    pyramid = []
    for factor in factors:
        index = [slice(None)] * len(scene.dims)
        index[y] = index[x] = slice(None, None, factor)
        pyramid.append(scene.data[tuple(index)])
    note = f"{STRIDED_NOTE}: {len(pyramid)} strided levels added for display."
    return dataclasses.replace(scene, pyramid=pyramid, notes=[*scene.notes, note])
