"""napari layers back into the core's model, so the writers can save what the user sees."""

from __future__ import annotations

import dask.array as da
import numpy as np

from ..colors import hex_color
from ..errors import LightmicReadError
from ..formats import format_for
from ..model import Channel, ImageSource, Scene
from ..scene.axes import canonical
from ..units import symbol


def _axes(axis_labels, ndim: int) -> str:
    labels = [str(a).upper() for a in (axis_labels or [])]
    if len(labels) == ndim and all(len(a) == 1 and a in "TZYX" for a in labels):
        return "".join(labels)
    if ndim > 4:
        raise LightmicReadError("layers", f"a layer of {ndim} dimensions has no T, Z, Y, X "
                                          "axis labels to save it by")
    return "TZYX"[-ndim:]


def channel_name(layer_name: str, metadata: dict) -> str:
    """A layer's channel name: its name without the ' [scene]' this plugin adds for files of
    several scenes (other brackets are the user's)."""
    scene = metadata.get("scene_name") if isinstance(metadata, dict) else None
    return layer_name.removesuffix(f" [{scene}]") if scene else layer_name


def _named(name: str, meta: dict, live_scene) -> bool:
    """Whether a layer's channel name is a recorded one: the file's (when it named the
    channel) or the user's (a layer renamed); not the default a file without names got."""
    index = (meta.get("metadata") or {}).get("channel_index")
    if live_scene is None or not isinstance(index, int) or \
            not 0 <= index < len(live_scene.channels):
        return True
    channel = live_scene.channels[index]
    return channel.named or name != channel.name


def colormap_color(colormap) -> str:
    """'#RRGGBB' of the brightest colour of a napari colormap (object or its dict)."""
    colors = (colormap.get("colors") if isinstance(colormap, dict)
              else getattr(colormap, "colors", None))
    if colors is None or not len(colors):
        return "#FFFFFF"
    r, g, b = (float(v) for v in np.asarray(colors)[-1][:3])
    return hex_color(r, g, b)


def _level0(data):
    return data[0] if isinstance(data, (list, tuple)) else data


def source_from_layers(layer_data: list[tuple]) -> tuple[ImageSource, dict[str, da.Array]]:
    """One scene from image layers of the same shape (each layer one channel), and labels.

    `layer_data` holds napari's (data, attributes, layer_type) tuples, as npe2 writers get.
    """
    images = [(d, m) for d, m, kind in layer_data if kind == "image"]
    labels = {m.get("name", f"labels{i}"): d for i, (d, m, kind) in enumerate(layer_data)
              if kind == "labels"}
    if not images:
        raise LightmicReadError("layers", "no image layer to save")
    shapes = {tuple(_level0(d).shape) for d, _ in images}
    if len(shapes) > 1:
        raise LightmicReadError("layers", "image layers of different shapes cannot be one "
                                          f"image: {sorted(shapes)}")
    first_data, first = images[0]
    rgb = bool(first.get("rgb"))
    ndim = _level0(first_data).ndim - (1 if rgb else 0)
    axes = _axes(first.get("axis_labels"), ndim)
    planes = [da.asarray(_level0(d)) for d, _ in images]
    data = da.stack(planes, axis=0)  # C first
    data, order = canonical(data, "C" + axes + ("S" if rgb else ""))
    scale = list(first.get("scale") or [1.0] * ndim)
    units = [str(u) for u in (first.get("units") or ["pixel"] * ndim)]
    physical, unit_of = {"Z": None, "Y": None, "X": None}, {}
    for axis, value, unit in zip(axes, scale, units):
        unit = symbol(unit, unit)
        if unit != "pixel" and value:
            physical[axis] = float(value)
            unit_of[axis] = unit
    origin = first.get("metadata") or {}
    live = origin.get("source")
    index = origin.get("scene_index", 0)
    live_scene = (live.scenes[index] if isinstance(live, ImageSource)
                  and isinstance(index, int) and 0 <= index < len(live.scenes) else None)
    channels = []
    for _, meta in images:
        color = colormap_color(meta.get("colormap"))
        limits = meta.get("contrast_limits")
        name = channel_name(meta.get("name") or f"Channel {len(channels)}",
                            meta.get("metadata") or {})
        channels.append(Channel(name=name, color=color, named=_named(name, meta, live_scene),
                                contrast_limits=tuple(float(v) for v in limits) if limits
                                else None))
    path = origin.get("path") or "napari layers"
    fmt = format_for(path) or format_for("layers.ome.zarr")
    scene = Scene(index=0, name=origin.get("scene_name") or first.get("name") or "image",
                  data=data, dims=order, physical_pixel_sizes=physical, units=unit_of,
                  channels=channels)
    source = ImageSource(path=path, format=fmt, scenes=[scene], reader="napari layers")
    if origin.get("ome") is not None:
        base = origin["ome"].model_copy(deep=True)
        k = live_scene.ome_image if live_scene is not None else index
        if isinstance(k, int) and 0 <= k < len(base.images):
            base.images = [base.images[k]]
        source._ome = base
    if isinstance(live, ImageSource):  # the metadata panel's REMBI record and privacy choice
        source.edits = {k: v for k, v in live.edits.items() if k in ("rembi", "privacy")}
        source.original_metadata = live.original_metadata
    return source, {name: da.asarray(_level0(d)) for name, d in labels.items()}
