"""From a scene of the core to napari layer data: one image layer per channel."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import LightmicReadError
from ..model import Channel, Scene
from ..scene.axes import displayed_axes, tolerant
from ..scene.contrast import estimate_contrast
from .layer_ref import KEY, LayerRef

if TYPE_CHECKING:
    import dask.array as da
    from napari.utils.colormaps import Colormap

    from ..session import Session

PIXEL = "pixel"
# The unit of an axis that is not a length and has no recorded step (a time axis without a
# time step, Airyscan detector elements): a count of planes, not pixels or seconds
COUNT = "dimensionless"


SHOWN_UNITS = {"length": "µm", "time": "s"}  # layers of every file overlay in these


def scale_and_units(scene: Scene, axes: Sequence[str]) -> tuple[list[float], list[str]]:
    """Layer scale and units for these axes.

    The physical size in µm (lengths) or s (time), whatever unit the file records, so layers
    of different files overlay. Where the size is unknown: 1 pixel for Z, Y and X, and a
    step of 1 without a unit for every other axis (T without a recorded time step counts
    time points; it is not in pixels). `axes` are letters or the scene's axis labels.
    """
    scale: list[float] = []
    units: list[str] = []
    for label in axes:
        axis = scene.axis_letter(str(label))
        size = scene.physical_pixel_sizes.get(axis)
        shown = _shown(size, scene.units.get(axis)) if size else None
        scale.append(shown[0] if shown else 1.0)
        units.append(shown[1] if shown else (PIXEL if axis in "ZYX" else COUNT))
    return scale, units


def _translation(scene: Scene, axis: str) -> float:
    """The stage position of an axis in the layers' unit (0 where not recorded)."""
    position = (scene.stage_position or {}).get(axis)
    shown = _shown(position, scene.units.get(axis)) if position else None
    return shown[0] if shown else 0.0


def _shown(value: float, unit: str | None) -> tuple[float, str] | None:
    """A size in the unit layers use; None for pixels and unknown units."""
    from ..units import convert
    from ..units import unit as unit_of

    found = unit_of(unit or "µm")
    if found is None or found.symbol == PIXEL:
        return None
    target = SHOWN_UNITS[found.kind]
    return convert(value, found.symbol, target), target


def layer_name(channel: Channel, scene: Scene, multi_scene: bool) -> str:
    """A channel layer's name; with the scene's in brackets when the file has several."""
    return f"{channel.name} [{scene.name}]" if multi_scene else channel.name


def channel_colormap(channel: Channel) -> Colormap:
    """Black to the channel's colour, named by the colour."""
    from napari.utils.colormaps import Colormap

    return Colormap([[0, 0, 0, 1], _rgba(channel.color)], name=f"{channel.name} {channel.color}",
                    display_name=channel.color)


class ReadErrorReport:
    """Says once, as an error notification, each plane of a file that cannot be read.

    The layers' chunks are read on napari's slicing threads, again at every redraw: the
    first failure of a plane is shown, its repeats are not.
    """

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def __call__(self, err: LightmicReadError) -> None:
        """Show `err`, unless its file and plane were already shown."""
        plane = err.cause.split(" cannot be decoded", 1)[0]
        with self.lock:
            if (err.path, plane) in self.seen:
                return
            self.seen.add((err.path, plane))
        from napari.utils.notifications import show_error

        show_error(f"{err} (shown as zeros)")


def shown_scene(scene: Scene, report: ReadErrorReport) -> Scene:
    """The scene as napari reads it: a chunk that fails reads as zeros, said once (`report`).

    The core's arrays keep raising (the command line and the writers fail on damage); only
    the viewer shows what it can.
    """
    return dataclasses.replace(
        scene, pixels=tolerant(scene.data, report),
        pyramid=[tolerant(level, report) for level in scene.levels[1:]],
        labels={name: tolerant(label, report) for name, label in scene.labels.items()})


def scene_layer_data(session: Session, scene: Scene) -> list[tuple[Any, ...]]:
    """LayerData for one scene (as the session edited it).

    Its channels as image layers (RGB data as RGB layers), each carrying its `LayerRef`.
    A chunk that cannot be read shows as zeros, and the file and plane in one error
    notification (`shown_scene`).
    """
    source = session.source
    scene = shown_scene(scene, ReadErrorReport())
    levels, dims = _squeeze(scene)
    non_channel = [a for a in dims if a not in ("C", "S")]
    scale, units = scale_and_units(scene, non_channel)
    multi_scene = len(source.scenes) > 1
    names = [layer_name(ch, scene, multi_scene) for ch in scene.channels]
    contrast = [ch.contrast_limits or estimate_contrast(scene, i)
                for i, ch in enumerate(scene.channels)]
    metadata = {KEY: LayerRef(session, scene.index)}
    kwargs: dict[str, Any] = {
        "scale": scale,
        "units": units,
        "axis_labels": [scene.axis_label(a) for a in non_channel],
        "metadata": metadata,
    }
    if scene.stage_position and all(scene.physical_pixel_sizes.get(a) for a in "YX"):
        kwargs["translate"] = [_translation(scene, a) if multi_scene else 0.0
                               for a in non_channel]
    rgb = scene.rgb
    if rgb:
        kwargs["rgb"] = True
    if len(levels) > 1:
        kwargs["multiscale"] = True
    data: da.Array | list[da.Array] = levels if len(levels) > 1 else levels[0]
    n = scene.size("C")
    if n > 1 or not rgb:
        kwargs["channel_axis"] = dims.index("C")
        kwargs["metadata"] = [{KEY: LayerRef(session, scene.index, i, contrast[i])}
                              for i in range(n)]
        kwargs["name"] = names
        kwargs["contrast_limits"] = contrast
        kwargs["gamma"] = [ch.gamma or 1.0 for ch in scene.channels]
        if not rgb:
            kwargs["colormap"] = [channel_colormap(ch) for ch in scene.channels]
        kwargs["blending"] = ["additive"] * n if n > 1 else "translucent_no_depth"
    else:
        first = (slice(None),) * dims.index("C") + (0,)
        data = [level[first] for level in levels] if len(levels) > 1 else levels[0][first]
        kwargs["name"] = names[0]
        kwargs["metadata"] = {KEY: LayerRef(session, scene.index, 0)}
        if levels[0].dtype.itemsize > 1:  # every level has the dtype of the first
            kwargs["contrast_limits"] = contrast[0]
            kwargs["gamma"] = scene.channels[0].gamma or 1.0
            kwargs["metadata"] = {KEY: LayerRef(session, scene.index, 0, contrast[0])}
    layers: list[tuple[Any, ...]] = [(data, kwargs, "image")]
    for name, label in scene.labels.items():
        label_data = label[(slice(None),) * scene.dims.index("C") + (0,)]
        keep = [i for i, a in enumerate(a for a in scene.dims if a != "C") if a in dims]
        squeeze = tuple(slice(None) if i in keep else 0 for i in range(label_data.ndim))
        colors = scene.label_colors.get(name)
        layers.append((label_data[squeeze], {
            "name": f"{name} [{scene.name}]" if multi_scene else name,
            "scale": scale, "units": units, "axis_labels": kwargs["axis_labels"],
            "translate": kwargs.get("translate", [0.0] * len(non_channel)),
            "metadata": metadata,
            # the file's colours (NGFF image-label); a value it gives none is grey
            **({"colormap": {None: (0.5, 0.5, 0.5, 1.0), 0: (0.0, 0.0, 0.0, 0.0),
                             **{v: tuple(x / 255 for x in c) for v, c in colors.items()}}}
               if colors else {}),
        }, "labels"))
    layers.extend(_roi_layers(session, scene, non_channel, kwargs, multi_scene))
    return layers


def _roi_layers(session: Session, scene: Scene, axes: Sequence[str], image: dict[str, Any],
                multi_scene: bool) -> list[tuple[Any, ...]]:
    """Shapes and Points layers of the scene's ROIs, over its image layers (z/t-aware)."""
    from .rois import Frame, roi_layer_data

    rois = session.rois(scene.index)
    if not rois or "Y" not in axes or "X" not in axes:
        return []
    frame = Frame.of("".join(axes), image["scale"], image.get("translate"))
    return roi_layer_data(rois, frame, f" [{scene.name}]" if multi_scene else "",
                          {KEY: LayerRef(session, scene.index)}, image.get("units"))


def _squeeze(scene: Scene) -> tuple[list[da.Array], str]:
    """Every level without the axes of size one that are not channel, sample or displayed."""
    keep = set(displayed_axes(scene.dims)) | {"C", "S"}
    index: list[int | slice] = []
    kept: list[str] = []
    for axis, n in zip(scene.dims, scene.shape):
        if n == 1 and axis not in keep:
            index.append(0)
        else:
            index.append(slice(None))
            kept.append(axis)
    return [level[tuple(index)] for level in scene.levels], "".join(kept)


def _rgba(color: str) -> list[float]:
    text = color.lstrip("#")
    return [int(text[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]

