"""The npe2 reader: any supported file or OME-Zarr folder, first scene by default."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import LightmicReadError
from ..session import Session, file_version
from .layer_group import follow_session, ref_of
from .layers import scene_layer_data, scene_summary

if TYPE_CHECKING:
    from napari.viewer import Viewer

PathLike: TypeAlias = "str | os.PathLike[str]"
PathOrPaths: TypeAlias = "PathLike | list[PathLike] | tuple[PathLike, ...]"
LayerData: TypeAlias = "list[tuple[Any, ...]]"


def shared_session(path: PathLike, viewer: Viewer | None = None) -> Session:
    """The file behind `path`: the session that layers in the viewer already show.

    So every scene of a file shares one session and one metadata record; else the file is
    opened afresh (with the sidecar's edits as saved). A file changed on disk since is opened
    again.
    """
    version = file_version(str(path))
    if viewer is None:
        import napari

        viewer = napari.current_viewer()
    for layer in (viewer.layers if viewer is not None else []):
        ref = ref_of(layer)
        if ref is not None and ref.session.file_version == version:
            return ref.session
    return Session.open(path)


def get_reader(path: PathOrPaths) -> Callable[..., LayerData] | None:
    """npe2 reader contribution: `read_paths` for the paths this plugin reads, else None."""
    from ..reading import claims

    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    if not paths or not all(claims(p) for p in paths):
        return None
    return read_paths


def read_paths(path: PathOrPaths) -> LayerData:
    """The first scene of each path, as napari LayerData."""
    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    layers: LayerData = []
    for p in paths:
        layers.extend(read_scene(p, 0))
    return layers or [(None,)]


def read_scene(path: PathLike, scene: int | str = 0,
               viewer: Viewer | None = None) -> LayerData:
    """Layers of one scene; an unreadable file becomes an error notification, not a dialog."""
    import napari
    from napari.utils.notifications import show_error, show_info, show_warning

    viewer = viewer or napari.current_viewer()
    try:
        session = shared_session(path, viewer)
        chosen = session.effective_scene(scene)
        layers = scene_layer_data(session, chosen)
    except LightmicReadError as err:
        show_error(str(err))
        return []
    except Exception as exc:  # noqa: BLE001 reader's boundary: truncated files fail lazily
        show_error(str(LightmicReadError(path, f"{type(exc).__name__}: {exc}")))
        return []
    follow_session(viewer, session)
    source = session.source
    show_info(scene_summary(source, chosen))
    if source.format.advice:
        show_warning(source.format.advice)
    if session.sidecar_problem:
        show_warning(session.sidecar_problem)
    if len(source.scenes) > 1:
        _show_scene_picker(session, viewer)
    return layers


def _show_scene_picker(session: Session, viewer: Viewer | None = None) -> None:
    """Dock the scene picker, listing this file's scenes (from the same session)."""
    if viewer is None:
        return
    try:
        _, widget = viewer.window.add_plugin_dock_widget("napari-lightmic", "Scenes")
    except Exception:  # noqa: BLE001 no window (headless use): the notification said it all
        return
    widget.set_path(session.path, session)
