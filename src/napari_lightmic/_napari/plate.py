"""HCS plates in napari: the wells' names over the mosaic, the Plate dock, a well's fields.

A plate opens as its mosaics (one scene per acquisition, chosen in the Scenes dock); the
wells' names are a Points layer of text at each well's top-left corner, and the Plate dock
(widgets/plate.py) opens a well's fields at full resolution as ordinary scenes, laid over
their tiles (`lay_over`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .layer_ref import ref_of
from .layers import scale_and_units

if TYPE_CHECKING:
    from napari.layers import Layer
    from napari.viewer import Viewer

    from ..model import Scene
    from ..plate import Plate
    from ..session import Session

PLATE_KEY = "lightmic_plate"  # a wells layer's metadata: the plate's path


def well_names_data(session: Session, scene: Scene) -> tuple[Any, ...]:
    """LayerData of the wells' names: text at the top-left corner of each well's cell.

    In the mosaic's scale, so the names sit on the wells whatever the pixel size.
    """
    plate = session.source.plate
    assert plate is not None and plate.layout is not None  # a plate source has both
    layout = plate.layout
    corners = [layout.cell_origin(w.row, w.column) for w in plate.wells]
    scale, units = scale_and_units(scene, ["Y", "X"])
    return (np.array(corners, dtype=float).reshape(-1, 2), {
        "name": f"Wells [{session.source.file_name}]",
        "features": {"well": [w.name for w in plate.wells]},
        # 12-point yellow names, the same size at any zoom; the points themselves unseen
        "text": {"string": "{well}", "anchor": "upper_left", "size": 12, "color": "yellow"},
        "size": 1, "face_color": "transparent", "border_width": 0,
        "scale": scale, "units": units, "metadata": {PLATE_KEY: session.path},
    }, "points")


def has_well_names(viewer: Viewer | None, session: Session) -> bool:
    """Whether the viewer shows this plate's wells layer already."""
    return viewer is not None and any(
        getattr(layer, "metadata", {}).get(PLATE_KEY) == session.path for layer in viewer.layers)


def show_plate_dock(session: Session, viewer: Viewer | None) -> None:
    """Dock (or show again) the Plate dock, showing this plate."""
    from .docks import shown_dock

    widget = shown_dock(viewer, "Plate") if session.source.plate is not None else None
    if widget is not None:
        widget.model.show(session.source.plate, session.path)


def slots(plate: Plate, name: str) -> dict[str, int]:
    """Each field of a well (by path) with its slot in its acquisition's mosaic."""
    well = plate.well(name)
    if well is None:
        return {}
    return {f.path: slot for group in plate.groups
            for slot, f in enumerate(plate.fields_of(well, group))}


def lay_over(layers: list[Layer], scene: Scene, origin: tuple[int, int]) -> None:
    """Move a field's layers onto its tile in the mosaic (the view only; the file is not told)."""
    scale, _ = scale_and_units(scene, ["Y", "X"])
    for layer in layers:
        if ref_of(layer) is None:
            continue
        translate = list(layer.translate)
        translate[-2:] = [origin[0] * scale[0], origin[1] * scale[1]]
        layer.translate = translate
