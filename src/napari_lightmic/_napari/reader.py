"""The npe2 reader: any supported file or OME-Zarr folder, first scene by default."""

from __future__ import annotations

import os

from ..errors import LightmicReadError
from ..formats import format_for
from ..model import ImageSource
from ..reading import open_image
from .layers import scene_layer_data, scene_summary


def _key(path) -> tuple:
    """Which file, and which version of it: a file changed on disk is another source."""
    text = str(path)
    if "://" in text or text.startswith("idr:"):
        return (text,)
    try:
        info = os.stat(text)
        stamp = (info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = None
    return (os.path.abspath(text), stamp)


def shared_source(path, viewer=None) -> ImageSource:
    """The file behind `path`: the source that layers in the viewer already show (so that
    every scene of a file shares one source and one metadata record), else opened afresh
    (with the sidecar's edits as saved). A file changed on disk since is opened again."""
    key = _key(path)
    if viewer is None:
        import napari

        viewer = napari.current_viewer()
    for layer in (viewer.layers if viewer is not None else []):
        source = (layer.metadata or {}).get("source")
        if isinstance(source, ImageSource) and getattr(source, "opened_as", None) == key:
            return source
    source = open_image(path)
    source.opened_as = key
    return source


def get_reader(path):
    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    if not paths or not all(_claims(p) for p in paths):
        return None
    return read_paths


def _claims(path) -> bool:
    """Whether the registry has a reader for the path's extension that claims the path."""
    from ..reading.contract import reader_for

    fmt = format_for(path)
    return fmt is not None and reader_for(fmt).claims(str(path), fmt)


def read_paths(path) -> list[tuple]:
    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    layers: list[tuple] = []
    for p in paths:
        layers.extend(read_scene(p, 0))
    return layers or [(None,)]


def read_scene(path, scene: int | str = 0, viewer=None) -> list[tuple]:
    """Layers of one scene; an unreadable file becomes an error notification, not a dialog."""
    from napari.utils.notifications import show_error, show_info, show_warning

    try:
        source = shared_source(path, viewer)
        chosen = source.scene(scene)
        layers = scene_layer_data(source, chosen)
    except LightmicReadError as err:
        show_error(str(err))
        return []
    except Exception as exc:  # lazy reads can fail on truncated files
        show_error(str(LightmicReadError(path, f"{type(exc).__name__}: {exc}")))
        return []
    show_info(scene_summary(source, chosen))
    if source.format.advice:
        show_warning(source.format.advice)
    if source.sidecar_problem:
        show_warning(source.sidecar_problem)
    if len(source.scenes) > 1:
        _show_scene_picker(source, viewer)
    return layers


def _show_scene_picker(source: ImageSource, viewer=None) -> None:
    """Dock the scene picker, listing this file's scenes (from the same source), in the
    viewer."""
    import napari

    viewer = viewer or napari.current_viewer()
    if viewer is None:
        return
    try:
        _, widget = viewer.window.add_plugin_dock_widget("napari-lightmic", "Scenes")
    except Exception:  # no window (headless use): the notification has said it all
        return
    widget.set_path(source.path, source)
