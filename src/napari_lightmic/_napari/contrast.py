"""Layers > Visualize > Reset contrast to the file's display range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .layer_ref import ref_of

if TYPE_CHECKING:  # napari resolves the name itself when it injects the viewer
    import napari


def reset_display_range(viewer: napari.viewer.Viewer) -> None:
    """Give the selected layers back the contrast (and gamma) they opened with.

    The file's display range (and gamma) where the file records one (ZEN, NIS-Elements, LAS X,
    BigDataViewer, Imaris, OME-Zarr), else the plugin's estimate from the pixels. Kept on
    each layer's reference, so nothing is read again.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose selected layers (else its active layer) are reset; layers this
        plugin did not open are left as they are.
    """
    layers = list(viewer.layers.selection) or (
        [viewer.layers.selection.active] if viewer.layers.selection.active else [])
    for layer in layers:
        ref = ref_of(layer)
        if ref is None or ref.display_range is None or not hasattr(layer, "contrast_limits"):
            continue
        low, high = ref.display_range
        lowest, highest = layer.contrast_limits_range
        if low < lowest or high > highest:
            layer.contrast_limits_range = (min(low, lowest), max(high, highest))
        layer.contrast_limits = (low, high)
        scene = ref.effective_scene
        index = ref.channel or 0
        if index < len(scene.channels):
            layer.gamma = scene.channels[index].gamma or 1.0
