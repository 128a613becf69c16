"""What an output should hold, from this plugin's own read of the source.

A scene is written as `writing.common.as_5d` maps it (README, "Saving"): T, C, Z, Y, X, with
further axes (Airyscan phase, lambda) folded into T, RGB samples as channels, and an XZ scan's
Z stored as Y (tests/writing/test_xz_scans.py checks that against Bio-Formats). The pyramid
is the writer's own: 2x2 means of Y and X down to about 256 px.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from napari_lightmic.model import Scene
from napari_lightmic.writing.common import as_5d

SMALLEST_LEVEL = 256
# NGFF axis units (the UDUNITS-2 names NGFF 0.4/0.5 list) for the units this plugin uses.
NGFF_UNITS = {"µm": "micrometer", "nm": "nanometer", "mm": "millimeter", "m": "meter",
              "Å": "angstrom", "cm": "centimeter", "pm": "picometer",
              "s": "second", "ms": "millisecond", "µs": "microsecond", "ns": "nanosecond",
              "min": "minute", "h": "hour"}
AXIS_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}
INVENTED_NAME = re.compile(r"^Channel \d+$")


@dataclass
class Expected:
    """One written image."""

    scene: Scene
    dims: str  # 'TCZYX', or 'TCYX'
    shape: tuple[int, ...]
    dtype: np.dtype
    physical: dict[str, float | None]
    units: dict[str, str]
    channel_names: list[str]
    channel_colors: list[str]  # '#RRGGBB'
    _data: object

    @cached_property
    def pixels(self) -> np.ndarray:
        return np.asarray(self._data)

    plane = ("Y", "X")

    @cached_property
    def level_shapes(self) -> list[tuple[int, ...]]:
        axes = [self.dims.index(a) for a in self.plane]
        shapes = [self.shape]
        while max(shapes[-1][i] for i in axes) > SMALLEST_LEVEL and \
                min(shapes[-1][i] for i in axes) >= 2:
            shapes.append(tuple((n + 1) // 2 if i in axes else n
                                for i, n in enumerate(shapes[-1])))
        return shapes

    def scale(self, level: int) -> list[float]:
        return [(self.physical.get(a) or 1.0) * (2.0**level if a in self.plane else 1.0)
                for a in self.dims]

    def ngff_unit(self, axis: str) -> str | None:
        """The unit an NGFF axis should carry: none for channels, unknown sizes and pixels."""
        if axis == "C" or not self.physical.get(axis):
            return None
        unit = self.units.get(axis)
        return NGFF_UNITS.get(unit) if unit and unit != "pixel" else None

    def ome_sizes(self) -> dict[str, int]:
        """OME-XML (OME-TIFF, OME-Zarr's METADATA.ome.xml) sizes: the arrays'."""
        sizes = dict(zip(self.dims, self.shape))
        return {a: sizes.get(a, 1) for a in "XYZCT"}

    def ome_physical(self) -> dict[str, tuple[float | None, str | None]]:
        """OME PhysicalSize{X,Y,Z} and their units."""
        out = {}
        for axis in "XYZ":
            value = self.physical.get(axis)
            out[axis] = (value, self.units.get(axis) if value else None)
        return out

    @property
    def time_increment(self) -> tuple[float | None, str | None]:
        value = self.physical.get("T")
        return value, (self.units.get("T") if value else None)

    def pixels_as(self, shape) -> np.ndarray:
        """Level 0, reshaped to a reader's shape (readers may add or drop size-1 axes)."""
        return self.pixels.reshape(shape)


def expected(scene: Scene) -> Expected:
    image = as_5d(scene)
    return Expected(scene=scene, dims=image.dims, shape=tuple(int(n) for n in image.data.shape),
                    dtype=np.dtype(image.data.dtype), physical=dict(image.physical),
                    units=dict(image.units), channel_names=[c.name for c in image.channels],
                    channel_colors=[c.color.upper() for c in image.channels],
                    _data=image.data)


def halve(block: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    """2x2 means over two axes (odd edges repeat their last row or column), as float64."""
    pad = [(0, 0)] * block.ndim
    for i in axes:
        pad[i] = (0, block.shape[i] % 2)
    block = np.pad(block.astype(np.float64), pad, mode="edge")
    y, x = axes
    total = 0
    for dy in (0, 1):
        for dx in (0, 1):
            index = [slice(None)] * block.ndim
            index[y], index[x] = slice(dy, None, 2), slice(dx, None, 2)
            total = total + block[tuple(index)]
    return total / 4


def ome_color(hex_color: str) -> int:
    """'#RRGGBB' as an OME Color: signed 32-bit RGBA, opaque."""
    value = (int(hex_color.lstrip("#"), 16) << 8) | 0xFF
    return value - 2**32 if value >= 2**31 else value
