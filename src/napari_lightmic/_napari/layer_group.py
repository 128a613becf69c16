"""The layers of one scene, and how a session's edits reach them.

Layers are found through their `LayerRef`, by identity.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from .layer_ref import KEY, LayerRef, ref_of
from .layers import channel_colormap, layer_name, scale_and_units

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.viewer import Viewer

    from ..model import Scene
    from ..session import Session


def scene_layers(viewer: Viewer, session: Session, scene: int) -> list[Layer]:
    """Every image layer of the viewer showing this scene of this session, in channel order."""
    found = []
    for layer in viewer.layers:
        ref = ref_of(layer)
        if ref is not None and ref.session is session and ref.scene == scene \
                and layer._type_string == "image":
            found.append((ref.channel or 0, layer))
    return [layer for _, layer in sorted(found, key=lambda pair: pair[0])]


_followed: weakref.WeakKeyDictionary[Session, weakref.WeakSet[Viewer]] = \
    weakref.WeakKeyDictionary()


def follow_session(viewer: Viewer | None, session: Session) -> None:
    """Keep this viewer's layers of `session` in step with its edits (once per viewer)."""
    viewers = _followed.setdefault(session, weakref.WeakSet())
    if viewer is None or viewer in viewers:
        return
    viewers.add(viewer)
    viewer_ref = weakref.ref(viewer)

    def edited(key: str) -> None:
        shown = viewer_ref()
        if shown is not None:
            update_layers(shown, session, key)

    session.edited.connect(edited)


def update_layers(viewer: Viewer, session: Session, key: str) -> None:
    """Apply an edit of a scene's sizes, units or channels to the layers showing it.

    The ROI layers opened with the scene follow its sizes too: their vertices are in its pixels.
    """
    parts = key.split(".")
    if parts[0] != "scenes" or len(parts) < 3 or not parts[1].isdecimal():
        return
    index = int(parts[1])
    if not 0 <= index < len(session.source.scenes):
        return
    scene = session.effective_scene(index)
    layers = scene_layers(viewer, session, index)
    if parts[2] == "channels" and len(parts) == 5:
        multi = len(session.source.scenes) > 1
        for layer in layers:
            ref = ref_of(layer)  # never None: scene_layers found the layer by its reference
            if ref is not None and ref.channel == int(parts[3]):
                apply_channel(layer, scene, multi, parts[4])
    else:  # sizes or units: the image layers and the ROI layers over them (in its pixels)
        rois = [layer for layer in viewer.layers if layer._type_string in ("shapes", "points")
                and (ref := ref_of(layer)) is not None and ref.session is session
                and ref.scene == index]
        for layer in layers + rois:
            layer.scale, layer.units = scale_and_units(scene, layer.axis_labels)


def apply_channel(layer: Layer, scene: Scene, multi_scene: bool, field: str = "name") -> None:
    """Rename (field 'name') or recolour (field 'color') a channel layer after its channel.

    Other fields leave the layer as it is.
    """
    ref = ref_of(layer)
    index = ref.channel if ref is not None and ref.channel is not None else 0
    if index >= len(scene.channels):
        return
    channel = scene.channels[index]
    if field == "name":
        layer.name = layer_name(channel, scene, multi_scene)
    if field == "color" and not layer.rgb:
        layer.colormap = channel_colormap(channel)


__all__ = ["KEY", "LayerRef", "apply_channel", "follow_session", "ref_of",
           "scene_layers", "update_layers"]
