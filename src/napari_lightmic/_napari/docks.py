"""The plugin's docks, added to a viewer's window (or shown again) from the reader's side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from napari.viewer import Viewer


def shown_dock(viewer: Viewer | None, name: str) -> Any | None:  # noqa: ANN401 - a dock widget
    """The plugin's dock `name` ('Scenes', 'Plate'), docked or shown again and raised.

    None without a viewer or a window (headless use: the layers are there anyway).
    """
    if viewer is None:
        return None
    try:
        dock, widget = viewer.window.add_plugin_dock_widget("napari-lightmic", name)
    except Exception:  # noqa: BLE001 no window
        return None
    dock.show()
    dock.raise_()
    return widget
