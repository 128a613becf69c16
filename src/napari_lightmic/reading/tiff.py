"""The TIFF family through tifffile: OME-TIFF, Micro-Manager, Zeiss LSM, ImageJ and plain TIFF.

Read with tifffile rather than bioio-ome-tiff because bioio-ome-tiff chunks a whole Z stack
(one plane then reads them all), sees only level 0 of SubIFD pyramids, and cannot open a
Micro-Manager dataset through any of its files; the generic TIFF path loses an LSM file's
pixel size and channel names and offers its thumbnail as a second scene. Here every chunk
is one stored page or tile.
"""

from __future__ import annotations

import os

import dask.array as da

from .._xml import refuse_dtd
from ..colors import complete_colors, parse_color
from ..formats import FileFormat
from ..model import Channel, ImageSource, Scene
from .axes import canonical

UNIT_TO_UM = {"µm": 1.0, "um": 1.0, "micron": 1.0, "microns": 1.0, "nm": 1e-3, "mm": 1e3,
              "m": 1e6, "cm": 1e4, "\\u00B5m": 1.0}


def open_tiff(path: str, fmt: FileFormat) -> ImageSource:
    import tifffile

    tif = tifffile.TiffFile(path, mode="rb")
    try:
        if tif.is_ome:
            refuse_dtd(tif.pages.first.description, "the OME-XML")
        kind = tif.series[0].kind if tif.series else ""
        if tif.is_lsm:
            scenes, ome = _lsm(tif), None
        elif kind == "mmstack":
            scenes, ome = _micromanager(tif)
        elif tif.is_ome and kind == "ome":
            scenes, ome = _ome(tif)
        elif tif.is_imagej:
            scenes, ome = _imagej(tif), None
        else:
            scenes, ome = _plain(tif), None
        _check_extent(tif)
    except Exception:
        tif.close()
        raise
    stem = _stem(path)
    for scene in scenes:
        if not scene.name:
            scene.name = stem if len(scenes) == 1 else f"{stem} #{scene.index + 1}"
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="tifffile",
                       ome_factory=(lambda: ome) if ome is not None else None, handles=[tif])


def _check_extent(tif) -> None:
    """Refuse a truncated file: the last page of each series must lie inside its file."""
    for series in tif.series:
        pages = [p for p in (series.pages[0], series.pages[-1]) if p is not None]
        for page in pages:
            size = page.parent.filehandle.size
            ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts) if n]
            if ends and max(ends) > size:
                raise ValueError(
                    f"truncated: image data ends at byte {max(ends)} but the file has {size} bytes"
                )


def _stem(path: str) -> str:
    name = os.path.basename(path)
    for ext in (".ome.tiff", ".ome.tif", ".ome.btf", ".tiff", ".tif", ".lsm"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def series_dask(series, level: int = 0) -> da.Array:
    """A lazy array whose chunks are the stored pages or tiles of one series level."""
    import zarr

    store = series.aszarr(level=level)
    return da.from_zarr(zarr.open(store, mode="r"))




def _um(value, unit) -> float | None:
    if value is None:
        return None
    factor = UNIT_TO_UM.get(str(unit or "µm").strip(), None)
    try:
        out = float(value) * factor if factor is not None else None
    except (TypeError, ValueError):
        return None
    return out if out and out > 0 else None


def _scene(index, name, data, dims, physical, channels) -> Scene:
    sizes = dict(zip(dims, data.shape))
    if sizes.get("Z", 1) == 1:
        physical["Z"] = None  # a single plane has no Z step
    units = {a: "µm" for a, v in physical.items() if v}
    return Scene(index=index, name=name, data=data, dims=dims, physical_pixel_sizes=physical,
                 units=units, channels=channels)


def _ome(tif):
    import ome_types

    ome = ome_types.from_xml(tif.ome_metadata)
    scenes = []
    for index, series in enumerate(tif.series):
        image = ome.images[index] if index < len(ome.images) else None
        data, dims = canonical(series_dask(series), series.axes)
        pyramid = [canonical(series_dask(series, level), series.axes)[0]
                   for level in range(1, len(series.levels))]
        pixels = image.pixels if image is not None else None
        physical = {"Z": None, "Y": None, "X": None}
        if pixels is not None:
            for axis in "ZYX":
                unit = getattr(pixels, f"physical_size_{axis.lower()}_unit", None)
                physical[axis] = _um(getattr(pixels, f"physical_size_{axis.lower()}"),
                                     getattr(unit, "value", unit))
        n = dict(zip(dims, data.shape)).get("C", 1)
        chans = list(pixels.channels) if pixels is not None else []
        if len(chans) != n:
            chans = []
        colors = [None] * n
        if chans:
            all_white = all(c.color.as_rgb_tuple()[:3] == (255, 255, 255) for c in chans)
            colors = [None if all_white and n > 1 else parse_color(c.color.as_rgb_tuple()[:3])
                      for c in chans]
        emissions = [c.emission_wavelength for c in chans] or [None] * n
        colors = complete_colors(colors, emissions)
        channels = [
            Channel(name=(chans[i].name if chans and chans[i].name else f"Channel {i}"),
                    color=colors[i], emission_nm=emissions[i],
                    excitation_nm=chans[i].excitation_wavelength if chans else None,
                    fluor=chans[i].fluor if chans else None)
            for i in range(n)
        ]
        name = (image.name if image is not None else None) or series.name or ""
        scene = _scene(index, name, data, dims, physical, channels)
        scene.pyramid = pyramid
        scenes.append(scene)
    return scenes, ome


def _argb(value) -> str | None:
    """A Java signed ARGB integer (Micro-Manager, ImageJ) as '#RRGGBB'."""
    try:
        v = int(value) & 0xFFFFFF
    except (TypeError, ValueError):
        return None
    return parse_color(((v >> 16) & 255, (v >> 8) & 255, v & 255))


def _micromanager(tif):
    """A Micro-Manager dataset: one scene per stage position, whichever file was opened."""
    meta = tif.micromanager_metadata or {}
    summary = meta.get("Summary", {}) or {}
    display = meta.get("DisplaySettings") or []
    series = tif.series[0]
    data, axes = series_dask(series), series.axes
    names = list(summary.get("ChNames") or [])
    colors_raw = list(summary.get("ChColors") or [])
    pixel = _um(summary.get("PixelSize_um"), "µm")
    physical = {"Z": _um(summary.get("z-step_um"), "µm"), "Y": pixel, "X": pixel}
    positions = data.shape[axes.index("R")] if "R" in axes else 1
    position_list = summary.get("InitialPositionList") or []
    scenes = []
    for p in range(positions):
        pdata, paxes = (data[(slice(None),) * axes.index("R") + (p,)],
                        axes.replace("R", "")) if "R" in axes else (data, axes)
        pdata, dims = canonical(pdata, paxes)
        n = dict(zip(dims, pdata.shape)).get("C", 1)
        colors = complete_colors([_argb(colors_raw[i]) if i < len(colors_raw) else None
                                  for i in range(n)], [None] * n)
        channels = []
        for i in range(n):
            limits = None
            if i < len(display) and isinstance(display[i], dict) and "Max" in display[i]:
                limits = (float(display[i].get("Min", 0)), float(display[i]["Max"]))
            channels.append(Channel(name=names[i] if i < len(names) else f"Channel {i}",
                                    color=colors[i], contrast_limits=limits))
        info = position_list[p] if p < len(position_list) else {}
        scene = _scene(p, info.get("Label") or (f"Pos{p}" if positions > 1 else ""), pdata, dims,
                       dict(physical), channels)
        xy = (info.get("DeviceCoordinatesUm") or {}).get("XY")
        if xy and len(xy) == 2:
            scene.stage_position = {"Y": float(xy[1]), "X": float(xy[0])}
        scenes.append(scene)
    ome = None
    return scenes, ome


def _imagej(tif):
    meta = tif.imagej_metadata or {}
    series = tif.series[0]
    data, dims = canonical(series_dask(series), series.axes)
    sizes = dict(zip(dims, data.shape))
    unit = meta.get("unit")
    page = tif.pages[0]
    physical = {"Z": None, "Y": None, "X": None}
    if unit and unit not in ("pixel", "pixels"):
        for axis, tag in (("X", "XResolution"), ("Y", "YResolution")):
            res = page.tags.get(tag)
            if res is not None:
                num, den = res.value
                physical[axis] = _um(den / num if num else None, unit)
        physical["Z"] = _um(meta.get("spacing"), unit)
    n = sizes.get("C", 1)
    luts = meta.get("LUTs") or []
    colors = [parse_color(tuple(int(v) for v in luts[i][:, -1])) if i < len(luts) else None
              for i in range(n)]
    ranges = meta.get("Ranges")
    limits = [None] * n
    if ranges and len(ranges) >= 2 * n:
        limits = [(float(ranges[2 * i]), float(ranges[2 * i + 1])) for i in range(n)]
    elif n == 1 and "min" in meta and "max" in meta and "S" not in dims:
        limits = [(float(meta["min"]), float(meta["max"]))]
    colors = complete_colors(colors, [None] * n)
    channels = [Channel(name=f"Channel {i}", color=colors[i], contrast_limits=limits[i])
                for i in range(n)]
    return [_scene(0, "", data, dims, physical, channels)]


def _plain(tif):
    scenes = []
    for index, series in enumerate(tif.series):
        if series.kind == "lsm":
            continue
        data, dims = canonical(series_dask(series), series.axes)
        n = dict(zip(dims, data.shape)).get("C", 1)
        channels = [Channel(name=f"Channel {i}", color=c)
                    for i, c in enumerate(complete_colors([None] * n, [None] * n))]
        scene = _scene(index, "", data, dims, {"Z": None, "Y": None, "X": None}, channels)
        scene.pyramid = [canonical(series_dask(series, level), series.axes)[0]
                         for level in range(1, len(series.levels))]
        scenes.append(scene)
    return scenes


LSM_MIN_UM = 1e-6  # smaller LSM voxel sizes are unset fields, not measurements


def _lsm(tif):
    """Zeiss LSM: the image series only (not the thumbnail), with voxel size and channels."""
    meta = tif.lsm_metadata or {}
    series = tif.series[0]
    data, dims = canonical(series_dask(series), series.axes)
    physical = {}
    for axis in "ZYX":
        um = _um(meta.get(f"VoxelSize{axis}"), "m")
        physical[axis] = um if um and um > LSM_MIN_UM else None
    colors_meta = meta.get("ChannelColors") or {}
    names = list(colors_meta.get("ColorNames") or [])
    raw_colors = list(colors_meta.get("Colors") or [])
    n = dict(zip(dims, data.shape)).get("C", 1)
    colors = complete_colors(
        [parse_color(raw_colors[i][:3]) if i < len(raw_colors) else None for i in range(n)],
        [None] * n)
    channels = [Channel(name=names[i] if i < len(names) and names[i] else f"Channel {i}",
                        color=colors[i]) for i in range(n)]
    name = (meta.get("ScanInformation") or {}).get("Name") or ""
    return [_scene(0, "" if name == "Temp" else name, data, dims, physical, channels)]
