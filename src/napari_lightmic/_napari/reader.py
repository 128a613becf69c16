"""The npe2 reader: any supported file or OME-Zarr folder, first scene by default."""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from ..session import Session, file_version
from .layer_group import follow_session, ref_of
from .layers import scene_layer_data

if TYPE_CHECKING:
    from napari.utils.notifications import Notification
    from napari.viewer import Viewer

    from ..formats import FileFormat
    from ..model import Scene

PathLike: TypeAlias = "str | os.PathLike[str]"
PathOrPaths: TypeAlias = "PathLike | list[PathLike] | tuple[PathLike, ...]"
LayerData: TypeAlias = "list[tuple[Any, ...]]"


def current_viewer() -> Viewer | None:
    """The current napari viewer, or None: no Qt import for it when no window was made.

    A file read without a viewer (npe2's reader called from a script) then costs no import
    of napari's Qt window (0.3-0.5 s).
    """
    if "napari._qt.qt_main_window" not in sys.modules:  # no window: no viewer to find
        return None
    import napari

    return napari.current_viewer()


def shared_session(path: PathLike, viewer: Viewer | None = None) -> Session:
    """The file behind `path`: the session that layers in the viewer already show.

    So every scene of a file shares one session and one metadata record; else the file is
    opened afresh (with the sidecar's edits as saved). A file changed on disk since is opened
    again.
    """
    return shown_session(path, viewer) or Session.open(path)


def shown_session(path: PathLike, viewer: Viewer | None = None) -> Session | None:
    """The session the viewer's layers show the file behind `path` with, if any.

    Only a session of the file as it is on disk now; None when no layer shows it.
    """
    version = file_version(str(path))
    if viewer is None:
        viewer = current_viewer()
    for layer in (viewer.layers if viewer is not None else []):
        ref = ref_of(layer)
        if ref is not None and ref.session.file_version == version:
            return ref.session
    return None


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
    """Layers of one scene; an unreadable file becomes an error notification, not a dialog.

    A file newly shown in the viewer is announced quietly (see `_announcements`), and the
    plugin's toasts about the file before go. A file with several scenes brings up the
    Scenes dock.
    """
    from napari.utils.notifications import show_error

    viewer = viewer or current_viewer()
    try:
        session = shared_session(path, viewer)
        chosen = session.effective_scene(scene)
        layers = scene_layer_data(session, chosen)
    except Exception as exc:  # noqa: BLE001 reader's boundary: truncated files fail lazily
        from ..reading import read_error

        show_error(str(read_error(path, exc)))
        return []
    newly_shown = not _showing(viewer, session)
    follow_session(viewer, session)
    source = session.source
    if len(source.scenes) > 1:
        _show_scene_picker(session, viewer)
    if source.plate is not None:  # the wells' names over the mosaic, and the Plate dock
        from .plate import has_well_names, show_plate_dock, well_names_data

        if not has_well_names(viewer, session):
            layers.append(well_names_data(session, chosen))
        show_plate_dock(session, viewer)
    if newly_shown:
        _say(_announcements(session, chosen, viewer), viewer)
    return layers


def _say(notifications: list[Notification], viewer: Viewer | None) -> None:
    """Dispatch the notifications: as toasts kept in place for a viewer, else as they are."""
    from napari.utils.notifications import notification_manager

    if viewer is not None:  # Qt is loaded: the viewer has a window
        from .toasts import say

        say(notifications, viewer)
    else:
        for notification in notifications:
            notification_manager.dispatch(notification)


def _announcements(session: Session, chosen: Scene,
                   viewer: Viewer | None) -> list[Notification]:
    """What to tell the user about a file newly shown, in the order to say it.

    At info level: the format's advice the first time the viewer meets the format, then the
    file's scenes and where to choose them. A sidecar that could not be used stays a warning:
    the user's own saved edits are being ignored. napari shows the last toast on top and the
    earlier ones when it closes.
    """
    from napari.utils.notifications import Notification

    source = session.source
    said = []
    if _first_advice(source.format, viewer):
        said.append(Notification(f"{source.format.advice} (Said once; the Metadata panel's "
                                 "File section keeps this note.)", severity="info"))
    if source.plate is not None:
        plate = source.plate
        said.append(Notification(
            f"Plate of {len(plate.rows)} × {len(plate.columns)} wells ({source.file_name}): "
            "click a well in the Plate panel to open its fields"
            + (f"; {len(source.scenes)} acquisitions: choose in the Scenes panel (showing "
               f"{chosen.name})" if len(source.scenes) > 1 else ""), severity="info"))
    elif len(source.scenes) > 1:
        said.append(Notification(
            f"{len(source.scenes)} scenes: choose in the Scenes panel ({source.file_name}, "
            f"showing {chosen.index}: {chosen.name})", severity="info"))
    if session.sidecar_problem:
        said.append(Notification(session.sidecar_problem, severity="warning"))
    return said


def _showing(viewer: Viewer | None, session: Session) -> bool:
    """Whether layers in the viewer already show this session."""
    refs = (ref_of(layer) for layer in (viewer.layers if viewer is not None else []))
    return any(ref is not None and ref.session is session for ref in refs)


# The formats whose advice each viewer has shown (None: no viewer, headless use)
_advised: weakref.WeakKeyDictionary[Viewer, set[str]] = weakref.WeakKeyDictionary()
_advised_headless: set[str] = set()


def _first_advice(fmt: FileFormat, viewer: Viewer | None) -> bool:
    """Whether the format has advice the viewer has not shown yet (noting that it will).

    Once per format in a viewer's session, because the advice names the format (and differs
    for lossy ones); the Metadata dock's File section keeps it for every file.
    """
    if not fmt.advice:
        return False
    said = _advised.setdefault(viewer, set()) if viewer is not None else _advised_headless
    if fmt.name in said:
        return False
    said.add(fmt.name)
    return True


def _show_scene_picker(session: Session, viewer: Viewer | None = None) -> None:
    """Dock (or show again) the scene picker, listing this file's scenes (same session)."""
    from .docks import shown_dock

    widget = shown_dock(viewer, "Scenes")
    if widget is None:
        return
    if widget.session is not session:
        widget.set_path(session.path, session)
