"""Zeiss LSM through tifffile's LSM support: pixel size, channel names and colours.

The generic TIFF path sees none of these and offers the thumbnail as a second scene;
here only the image series is a scene.
"""

from __future__ import annotations

import os

import dask.array as da
from ..colors import complete_colors, parse_color
from ..formats import FileFormat
from ..model import Channel, ImageSource, Scene

MIN_SIZE_UM = 1e-6  # smaller voxel sizes are unset fields, not measurements


def open_lsm(path: str, fmt: FileFormat) -> ImageSource:
    import tifffile
    import zarr

    tif = tifffile.TiffFile(path, mode="rb")
    try:
        meta = tif.lsm_metadata or {}
        series = tif.series[0]
        axes = series.axes
        store = series.aszarr()
        data = da.from_zarr(zarr.open(store, mode="r"))
    except Exception:
        tif.close()
        raise
    dims = "TCZYX"
    for axis in dims:
        if axis not in axes:
            data = data[None]
            axes = axis + axes
    data = data.transpose([axes.index(a) for a in dims])
    sizes = dict(zip(dims, data.shape))

    physical: dict[str, float | None] = {}
    for axis in "ZYX":
        value = meta.get(f"VoxelSize{axis}")
        um = float(value) * 1e6 if value else None
        keep = um is not None and um > MIN_SIZE_UM and (axis != "Z" or sizes["Z"] > 1)
        physical[axis] = um if keep else None
    units = {a: "µm" for a, v in physical.items() if v}

    colors_meta = meta.get("ChannelColors") or {}
    names = list(colors_meta.get("ColorNames") or [])
    raw_colors = list(colors_meta.get("Colors") or [])
    n = sizes["C"]
    names = [names[i] if i < len(names) and names[i] else f"Channel {i}" for i in range(n)]
    colors = [parse_color(raw_colors[i][:3]) if i < len(raw_colors) else None for i in range(n)]
    channels = [Channel(name=names[i], color=c)
                for i, c in enumerate(complete_colors(colors, [None] * n))]
    name = (meta.get("ScanInformation") or {}).get("Name") or ""
    stem = os.path.splitext(os.path.basename(path))[0]
    scene = Scene(index=0, name=stem if name in ("", "Temp") else name, data=data, dims=dims,
                  physical_pixel_sizes=physical, units=units, channels=channels)
    return ImageSource(path=path, format=fmt, scenes=[scene], reader="tifffile", handles=[tif])
