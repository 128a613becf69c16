"""The layers of one opened scene (one per channel) and how metadata edits reach them."""

from __future__ import annotations

from ..model import ImageSource, Scene
from .layers import channel_colormap, layer_name, scale_and_units


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
        layer.scale, layer.units = scale_and_units(scene, layer.axis_labels)


def apply_channel(layer, scene: Scene, multi_scene: bool, field: str = "name") -> None:
    """Rename (field 'name') or recolour (field 'color') a channel layer after its channel;
    other fields leave the layer as it is."""
    index = layer.metadata.get("channel_index", 0)
    if index >= len(scene.channels):
        return
    channel = scene.channels[index]
    if field == "name":
        layer.name = layer_name(channel, scene, multi_scene)
    if field == "color" and not layer.rgb:
        layer.colormap = channel_colormap(channel)
