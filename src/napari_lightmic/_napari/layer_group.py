"""The layers of one opened scene (one per channel) and how metadata edits reach them."""

from __future__ import annotations

from ..model import ImageSource, Scene
from .layers import PIXEL, _rgba


def source_of(layer) -> tuple[ImageSource, Scene] | None:
    """The opened file and scene behind a layer, if this plugin opened it."""
    meta = getattr(layer, "metadata", None) or {}
    source = meta.get("source")
    if not isinstance(source, ImageSource):
        return None
    index = meta.get("scene_index", 0)
    return (source, source.scenes[index]) if 0 <= index < len(source.scenes) else None


def scene_layers(viewer, source: ImageSource, scene: Scene) -> list:
    """Every image layer of the viewer showing this scene, in channel order."""
    found = []
    for layer in viewer.layers:
        meta = layer.metadata or {}
        if meta.get("source") is source and meta.get("scene_index") == scene.index \
                and layer._type_string == "image":
            found.append(layer)
    return sorted(found, key=lambda lyr: lyr.metadata.get("channel_index", 0))


def apply_scale(layers: list, scene: Scene) -> None:
    """Set the layers' scale and units from the scene's physical pixel sizes."""
    for layer in layers:
        axes = list(getattr(layer, "axis_labels", []) or [])
        scale, units = list(layer.scale), [str(u) for u in layer.units]
        for i, axis in enumerate(axes):
            size = scene.physical_pixel_sizes.get(axis)
            scale[i] = size or 1.0  # unknown: pixels
            units[i] = scene.units.get(axis, PIXEL) if size else PIXEL
        layer.scale = scale
        layer.units = units


def apply_channel(layer, scene: Scene, multi_scene: bool, field: str = "name") -> None:
    """Rename (field 'name') or recolour (field 'color') a channel layer after its channel;
    other fields leave the layer as it is."""
    from napari.utils.colormaps import Colormap

    index = layer.metadata.get("channel_index", 0)
    if index >= len(scene.channels):
        return
    channel = scene.channels[index]
    if field == "name":
        layer.name = f"{channel.name} [{scene.name}]" if multi_scene else channel.name
    if field == "color" and not layer.rgb:
        layer.colormap = Colormap([[0, 0, 0, 1], _rgba(channel.color)],
                                  name=f"{channel.name} {channel.color}",
                                  display_name=channel.color)
