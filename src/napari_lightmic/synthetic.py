"""Synthetic microscopy images for the sample data, the tests and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_CHANNELS = (("DAPI", "#0000FF", 461.0), ("GFP", "#00FF00", 510.0),
                    ("mCherry", "#FF00FF", 610.0))


def cells(shape_zyx: tuple[int, int, int] = (16, 256, 256), n_cells: int = 24,
          seed: int = 0) -> np.ndarray:
    """CZYX uint16: nuclei, cytoplasm and spots of blob-shaped cells."""
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[: shape_zyx[0], : shape_zyx[1], : shape_zyx[2]]
    out = np.zeros((3, *shape_zyx), dtype=np.float32)
    for _ in range(n_cells):
        cz = rng.uniform(0.3, 0.7) * shape_zyx[0]
        cy, cx = rng.uniform(0.1, 0.9, 2) * shape_zyx[1:]
        r = rng.uniform(0.04, 0.07) * min(shape_zyx[1:])
        d2 = ((z - cz) * 4) ** 2 + (y - cy) ** 2 + (x - cx) ** 2
        out[0] += 3000 * np.exp(-d2 / (2 * (0.5 * r) ** 2))
        out[1] += 1500 * np.exp(-d2 / (2 * r**2)) * (1 - np.exp(-d2 / (2 * (0.5 * r) ** 2)))
        for _ in range(3):
            sy, sx = cy + rng.normal(0, r / 2), cx + rng.normal(0, r / 2)
            ds = ((z - cz) * 4) ** 2 + (y - sy) ** 2 + (x - sx) ** 2
            out[2] += 4000 * np.exp(-ds / 8)
    out += rng.normal(100, 10, out.shape)
    return np.clip(out, 0, 65535).astype(np.uint16)


def _ome_color(hex_color: str) -> int:
    """OME's signed RGBA integer for '#RRGGBB'."""
    from ome_types.model import Color

    return Color(hex_color).as_int32()


def write_ome_tiff(path: str | Path, data: np.ndarray, axes: str = "CZYX",
                   physical: Sequence[float] = (0.5, 0.2, 0.2),
                   channels: Iterable[tuple[str, str, float]] = DEFAULT_CHANNELS,
                   tile: tuple[int, int] | None = None) -> Path:
    """An OME-TIFF with channel names, colours, emission wavelengths and pixel sizes."""
    import tifffile

    path = Path(path)
    n_c = data.shape[axes.index("C")] if "C" in axes else 1
    chans = list(channels)[:n_c]
    metadata = {
        "axes": axes,
        "PhysicalSizeZ": physical[0], "PhysicalSizeZUnit": "µm",
        "PhysicalSizeY": physical[1], "PhysicalSizeYUnit": "µm",
        "PhysicalSizeX": physical[2], "PhysicalSizeXUnit": "µm",
        "Channel": {
            "Name": [c[0] for c in chans],
            "Color": [_ome_color(c[1]) for c in chans],
            "EmissionWavelength": [c[2] for c in chans],
        },
    }
    tifffile.imwrite(path, data, metadata=metadata, ome=True, photometric="minisblack",
                     tile=tile, bigtiff=data.nbytes > 2**31)
    return path
