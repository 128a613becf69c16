"""napari layers back into the core's model, so the writers can save what the user sees."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np

from ..colors import hex_color
from ..errors import LightmicReadError
from ..formats import format_for
from ..model import Channel, ImageSource, Scene
from ..reading import described_ome
from ..scene.axes import canonical
from ..units import symbol
from .layer_ref import KEY, LayerRef
from .rois import Frame, rois_of_layer

if TYPE_CHECKING:
    from ome_types import OME

    from ..metadata.record import MetadataRecord


def _axes(axis_labels: Sequence[object] | None, ndim: int) -> str:
    labels = [str(a).upper() for a in (axis_labels or [])]
    if len(labels) == ndim and all(len(a) == 1 and a in "TZYX" for a in labels):
        return "".join(labels)
    if ndim > 4:
        raise LightmicReadError("layers", f"a layer of {ndim} dimensions has no T, Z, Y, X "
                                          "axis labels to save it by")
    return "TZYX"[-ndim:]


def channel_name(layer_name: str, scene_name: str | None) -> str:
    """A layer's channel name: its name without the ' [scene]' this plugin adds.

    The plugin adds it for files of several scenes; other brackets are the user's.
    """
    return layer_name.removesuffix(f" [{scene_name}]") if scene_name else layer_name


def _ref(meta: dict[str, Any]) -> LayerRef | None:
    ref = (meta.get("metadata") or {}).get(KEY)
    return ref if isinstance(ref, LayerRef) else None


def _named(name: str, ref: LayerRef | None, live_scene: Scene | None) -> bool:
    """Whether a layer's channel name is a recorded one.

    Recorded: the file's (when it named the channel) or the user's (a layer renamed); not the
    default a file without names got.
    """
    index = ref.channel if ref is not None else None
    if live_scene is None or index is None or not 0 <= index < len(live_scene.channels):
        return True
    channel = live_scene.channels[index]
    return channel.named or name != channel.name


def colormap_color(colormap: object) -> str:
    """'#RRGGBB' of the brightest colour of a napari colormap (object or its dict)."""
    colors = (colormap.get("colors") if isinstance(colormap, dict)
              else getattr(colormap, "colors", None))
    if colors is None or not len(colors):
        return "#FFFFFF"
    r, g, b = (float(v) for v in np.asarray(colors)[-1][:3])
    return hex_color(r, g, b)


def _level0(data: Any) -> Any:  # noqa: ANN401 a layer's array (numpy, dask, zarr) or levels
    return data[0] if isinstance(data, (list, tuple)) else data


def source_from_layers(layer_data: list[tuple[Any, ...]]) -> tuple[
        ImageSource, dict[str, da.Array], MetadataRecord | None]:
    """One scene from image layers of the same shape (each layer one channel), and its labels.

    The Shapes and Points layers given become the scene's ROIs (`Scene.rois`: these alone
    are written, not the file's own). Also the metadata record of the file the layers were
    opened from (None for layers made here).

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
    physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
    unit_of: dict[str, str] = {}
    for axis, value, text in zip(axes, scale, units):
        unit = symbol(text, text)
        if unit != "pixel" and value:
            physical[axis] = float(value)
            unit_of[axis] = text if unit is None else unit
    origin = _ref(first)
    live_scene = origin.effective_scene if origin is not None else None
    channels: list[Channel] = []
    for _, meta in images:
        color = colormap_color(meta.get("colormap"))
        limits = meta.get("contrast_limits")
        name = channel_name(meta.get("name") or f"Channel {len(channels)}",
                            live_scene.name if live_scene is not None else None)
        channels.append(Channel(name=name, color=color,
                                named=_named(name, _ref(meta), live_scene),
                                contrast_limits=(float(limits[0]), float(limits[1]))
                                if limits else None))
    path = origin.session.path if origin is not None else "napari layers"
    fmt = format_for(path) or format_for("layers.ome.zarr")
    assert fmt is not None  # OME-Zarr is always known
    # the ROIs of the Shapes and Points layers given, in the first image layer's pixels
    frame = Frame.of(axes, first.get("scale"), first.get("translate"))
    rois = [roi for d, m, kind in layer_data if kind in ("shapes", "points")
            for roi in rois_of_layer(d, m, kind, frame)]
    scene = Scene(index=0, name=live_scene.name if live_scene is not None
                  else first.get("name") or "image",
                  pixels=data, dims=order, physical_pixel_sizes=physical, units=unit_of,
                  channels=channels, rois=rois)
    record = None
    ome_factory = None
    if origin is not None and live_scene is not None:  # a reference always has its scene
        live = origin.session
        ome_factory = partial(_one_image, live.source, live_scene.ome_image)
        # the metadata panel's REMBI record and privacy choice, not its scene edits
        record = live.record.model_copy(update={"scenes": {}})
    source = ImageSource(path=path, format=fmt, scenes=[scene], reader="napari layers",
                         ome_factory=ome_factory,
                         original_metadata=origin.session.source.original_metadata
                         if origin is not None else None, describe_ome=described_ome)
    return source, {name: da.asarray(_level0(d)) for name, d in labels.items()}, record


# Label values whose colours are written for a layer in napari's automatic colouring: a
# layer with more distinct values keeps its colours to napari's own cycle
MAX_COLORED_LABELS = 10_000


def label_colors(layer_data: list[tuple[Any, ...]]
                 ) -> dict[str, dict[int, tuple[int, int, int, int]]]:
    """The colours each Labels layer shows its labels in: name -> label value -> RGBA (0-255).

    A layer coloured label by label (a direct colormap) gives its own colours; one coloured
    automatically gives those of the values it holds, where its data is in memory (a lazy
    layer is not read whole for them). The background value has none.
    """
    from napari.utils.colormaps import DirectLabelColormap

    out: dict[str, dict[int, tuple[int, int, int, int]]] = {}
    for i, (data, meta, kind) in enumerate(layer_data):
        colormap = meta.get("colormap") if kind == "labels" else None
        if colormap is None:
            continue
        level0 = _level0(data)
        if isinstance(colormap, DirectLabelColormap):
            values = np.array([v for v in colormap.color_dict if v is not None], dtype=np.int64)
        elif isinstance(level0, np.ndarray):
            values = np.unique(level0)
        else:
            continue
        values = values[values != getattr(colormap, "background_value", 0)]
        if not 0 < values.size <= MAX_COLORED_LABELS:
            continue
        rgba = np.rint(np.clip(colormap.map(values), 0, 1) * 255).astype(int)
        out[meta.get("name", f"labels{i}")] = {
            int(v): (int(c[0]), int(c[1]), int(c[2]), int(c[3])) for v, c in zip(values, rgba)}
    return out


def _one_image(live: ImageSource, k: int) -> OME:
    """The opened file's OME, with only the image the layers show (and only its ROIs)."""
    from ..rois.ome import image_roi_ids

    base = live.ome.model_copy(deep=True)
    if 0 <= k < len(base.images):
        own = set(image_roi_ids(base, k))
        base.rois = [roi for roi in base.rois if roi.id in own]
        base.images = [base.images[k]]
    return base
