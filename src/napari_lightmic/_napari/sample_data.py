"""Sample data: synthetic cells written as OME-TIFF and opened through the plugin's reader."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..synthetic import cells, write_ome_tiff
from .reader import read_scene


def sample_cells() -> list[tuple[Any, ...]]:
    """npe2 sample data: synthetic cells, written once to the temporary folder."""
    path = Path(tempfile.gettempdir()) / "napari-lightmic-sample-cells.ome.tif"
    if not path.exists():
        tmp = path.with_suffix(".part.ome.tif")
        write_ome_tiff(tmp, cells())
        tmp.replace(path)
    return read_scene(path, 0)
