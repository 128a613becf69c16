"""Open chosen scenes from Python: napari_lightmic.view(path, scene=2)."""

from __future__ import annotations

from .reader import read_scene


def add_layer_data(viewer, layer_data: list[tuple]) -> list:
    """Add LayerData tuples to a viewer; channel_axis data give one layer per channel."""
    added = []
    for data, kwargs, layer_type in layer_data:
        result = getattr(viewer, f"add_{layer_type}")(data, **kwargs)
        added.extend(result if isinstance(result, list) else [result])
    return added


def view(path, scene: int | str = 0, viewer=None) -> list:
    """Add one scene of a file to a viewer (a new one if none) and return its layers."""
    import napari

    viewer = viewer or napari.current_viewer() or napari.Viewer()
    return add_layer_data(viewer, read_scene(path, scene, viewer))
