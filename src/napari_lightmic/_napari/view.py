"""Open chosen scenes from Python: napari_lightmic.view(path, scene=2)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .reader import read_scene

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.viewer import Viewer


def add_layer_data(viewer: Viewer, layer_data: list[tuple[Any, ...]]) -> list[Layer]:
    """Add LayerData tuples to a viewer; channel_axis data give one layer per channel."""
    added: list[Layer] = []
    for data, kwargs, layer_type in layer_data:
        result = getattr(viewer, f"add_{layer_type}")(data, **kwargs)
        added.extend(result if isinstance(result, list) else [result])
    return added


def view(path: str | os.PathLike[str], scene: int | str = 0,
         viewer: Viewer | None = None) -> list[Layer]:
    """Add one scene of a file to a viewer (a new one if none) and return its layers."""
    import napari

    viewer = viewer or napari.current_viewer() or napari.Viewer()
    return add_layer_data(viewer, read_scene(path, scene, viewer))
