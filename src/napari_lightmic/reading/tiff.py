"""The TIFF family through tifffile: OME-TIFF, Micro-Manager, Zeiss LSM, ImageJ and plain TIFF.

Read with tifffile rather than bioio-ome-tiff because bioio-ome-tiff chunks a whole Z stack
(one plane then reads them all), sees only level 0 of SubIFD pyramids, and cannot open a
Micro-Manager dataset through any of its files; the generic TIFF path loses an LSM file's
pixel size and channel names and offers its thumbnail as a second scene. Here every chunk
is one stored page or tile.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import math
import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from ..colors import complete_colors, default_colors, parse_color
from ..formats import FileFormat, file_stem
from ..model import Acquisition, Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, canonical, chunked_array
from ..scene.budget import SizeRefused, shape_text
from ..wells import site_generator_well
from .acquisition import given, immersion, lenient, positive_float
from .contract import ReaderBase
from .handles import Closable, Held, LazyHandle
from .ome_xml import (
    ImageInfo,
    argb_color,
    make_scene,
    ome_images,
    ome_scene,
    size_and_unit,
)

if TYPE_CHECKING:
    import tifffile
    from lxml import etree
    from ome_types import OME

    from ..scene.chunked import ChunkedArray


def open_tiff(path: str, fmt: FileFormat) -> ImageSource:
    """Open a TIFF, OME-TIFF, Micro-Manager, LSM or ImageJ file with tifffile.

    Parameters
    ----------
    path : str
        A local file; the other files of a multi-file dataset are found beside it.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per series (per stage position for Micro-Manager), a chunk per page or
        tile, every SubIFD level a pyramid level.

    Raises
    ------
    ValueError
        If the file is truncated or damaged, or a file of its dataset cannot be opened.
    """
    import tifffile

    with _logged_errors() as problems:
        tif = tifffile.TiffFile(path, mode="r")
        tif.lightmic_path = path  # type: ignore[attr-defined] # names the file in read errors
        root = _check_ome_files(tif, path)
        unmapped: Exception | None
        try:
            _ = tif.series, tif.is_ome  # tifffile reports damage while parsing these
            unmapped = None
        except Exception as exc:  # noqa: BLE001 - an OME-XML tifffile cannot map onto pages
            unmapped = exc
    scenes: list[Scene]
    ome: Callable[[], OME | None] | None  # what makes the file's OME model
    try:
        if not tif.pages:
            raise ValueError("truncated: no page lies inside the file")
        if problems.damage:  # an offset past the end is a cut file; anything else, damage
            first = problems.damage[0]
            state = "truncated" if "offset" in first or "EOF" in first else "damaged"
            raise ValueError(f"{state}: {first}")
        if unmapped is not None or (tif.is_ome and problems.absent):
            if not tif.is_ome and unmapped is not None:
                raise unmapped
            from .ome_tiff_set import open_set

            scenes, ome, files = open_set(tif, path, root)
            return _source(path, fmt, tif, scenes, ome, [tif, files])
        siblings = _hold_files(tif)
        kind = tif.series[0].kind if tif.series else ""
        if tif.is_lsm:
            scenes, ome = _lsm(tif), None
        elif kind == "mmstack":
            scenes, ome = _micromanager(tif), None
        elif tif.is_ome and kind == "ome":
            scenes, ome = _ome(tif, root)
        elif tif.is_imagej:
            scenes, ome = _imagej(tif), None
        else:
            scenes, ome = _plain(tif), None
        _check_extent(tif)
    except Exception:
        for item in (tif, *locals().get("siblings", [])):
            item.close()
        raise
    return _source(path, fmt, tif, scenes, ome, [tif, *siblings])


def _check_ome_files(tif: tifffile.TiffFile, path: str) -> etree._Element | None:
    """Check OME-XML and the files it names before tifffile parses it and opens them.

    Returns the parsed OME-XML, for the scenes to be read from (None when the file is no
    OME-TIFF, or its XML is not well-formed).
    """
    if not tif.is_ome:
        return None
    from .ome_tiff_set import check_ome_files

    try:
        return check_ome_files(path, tif.pages.first.description)
    except Exception:
        tif.close()
        raise


def _source(path: str, fmt: FileFormat, tif: tifffile.TiffFile, scenes: list[Scene],
            ome: Callable[[], OME | None] | None, handles: list[Closable]) -> ImageSource:
    stem = file_stem(path)
    scenes = [scene if scene.name else dataclasses.replace(
        scene, name=stem if len(scenes) == 1 else f"{stem} #{scene.index + 1}")
        for scene in scenes]
    factory = None
    if tif.is_lsm:
        scan = dict((tif.lsm_metadata or {}).get("ScanInformation") or {})
        factory = lenient(lsm_acquisition, scan)
    text = tif.ome_metadata if ome is not None else None  # the header, held in memory
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="tifffile",
                       ome_factory=ome, ome_xml=given(text) if text is not None else None,
                       handles=[Held(h) for h in handles],
                       original_metadata=_vendor_text(tif), acquisition_factory=factory)


def _vendor_text(tif: tifffile.TiffFile) -> str | None:
    """The vendor's own metadata as JSON text: LSM scan information, Micro-Manager summary."""
    import json

    if tif.is_lsm:
        meta = {"ScanInformation": (tif.lsm_metadata or {}).get("ScanInformation")}
    elif tif.is_micromanager:
        meta = {"Summary": (tif.micromanager_metadata or {}).get("Summary")}
    else:
        return None
    try:
        return json.dumps(meta, indent=1, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return None


@dataclasses.dataclass
class _Problems:
    """What tifffile logged while parsing a file."""

    damage: list[str] = dataclasses.field(default_factory=list)  # a cut or corrupt file
    absent: list[str] = dataclasses.field(default_factory=list)  # planes of a set it zeroed


@contextlib.contextmanager
def _logged_errors() -> Iterator[_Problems]:
    """Errors tifffile logs instead of raising: invalid page offsets of a cut file and such."""
    problems = _Problems()

    me = threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread != me:  # another file, opened on another thread
                return
            message = record.getMessage()
            if record.levelno >= logging.ERROR and ("invalid" in message or "corrupt" in message):
                problems.damage.append(message.split("> ", 1)[-1])
            elif "OME series" in message and any(
                    s in message for s in ("failed to read", "is missing", "discontiguous")):
                problems.absent.append(message.split("> ", 1)[-1])

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("tifffile")
    logger.addHandler(handler)
    quiet = logger.level > logging.WARNING  # an application may have silenced tifffile
    if quiet:
        before = logger.level
        logger.setLevel(logging.WARNING)
    try:
        yield problems
    finally:
        logger.removeHandler(handler)
        if quiet:
            logger.setLevel(before)


MAX_HELD = 64  # a dataset of more files is read as tifffile does, one page at a time


def _hold_files(tif: tifffile.TiffFile) -> list[tifffile.TiffFile]:
    """Keep every file of the dataset open for the source's life, each behind a lock.

    tifffile closes the other files of a multi-file dataset (Micro-Manager, OME-TIFF sets)
    once parsed and reopens one for each page it reads ("reading array from closed file");
    here they are opened again, once, and closed with the source. Their handles seek then
    read, so threads take each file's lock. Datasets of more than MAX_HELD files (plates of
    one file per well) are left to tifffile's reopening, their pages read one at a time
    (`series_pixels`), so that no system's limit of open files is reached.
    """
    files = {id(tif): tif}
    for series in tif.series:
        for level in series.levels:
            for page in level.pages:
                if page is not None:
                    files.setdefault(id(page.parent), page.parent)
    # a mark of this reader's on tifffile's object, read back by `series_dask`
    tif.lightmic_held = len(files) <= MAX_HELD  # type: ignore[attr-defined]
    if not tif.lightmic_held:
        tif.filehandle.set_lock(True)
        return []
    siblings = []
    try:
        for item in files.values():
            if item.filehandle.closed:
                item.filehandle.open()
            item.filehandle.set_lock(True)
            if item is not tif:
                siblings.append(item)
    except OSError as exc:
        for item in siblings:
            item.close()
        raise ValueError(f"a file of the dataset cannot be opened: {exc}") from exc
    return siblings


def _check_extent(tif: tifffile.TiffFile) -> None:
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
            _check_declared(page, size)


def _check_declared(page: tifffile.TiffPage | tifffile.TiffFrame, size: int) -> None:
    """Refuse an uncompressed page whose declared plane its file or its strips cannot hold.

    Uncompressed, a plane takes exactly its bytes: more than the whole file is impossible, and
    strips holding less than half of it are damage (tifffile would fill the rest with zeros).
    """
    keyframe = getattr(page, "keyframe", page)
    if int(keyframe.compression) != 1:  # compressed: the chunk limit bounds what is decoded
        return
    needs = keyframe.nbytes
    declared = shape_text(keyframe.shape)
    if needs > size:
        raise SizeRefused(f"page {page.index} declares an uncompressed plane of {declared} "
                          f"pixels ({needs:,} bytes), more than the file's {size:,} bytes")
    held = sum(int(n) for n in page.databytecounts)
    if held * 2 < needs:
        raise SizeRefused(f"page {page.index} declares an uncompressed plane of {declared} "
                          f"pixels ({needs:,} bytes), but its strips hold {held:,} bytes")


# Threads tifffile may use to decode one page: its default (None) when a viewer asks for a
# plane, 1 while a writer reads many pages in parallel (a pool per page costs more). A context
# variable: one writer's setting is its own threads', not napari's or another writer's.
DECODE_WORKERS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "decode_workers", default=None)


@contextlib.contextmanager
def single_threaded_decoding() -> Iterator[None]:
    """Decode each page on one thread, in this context (and contexts copied from it)."""
    token = DECODE_WORKERS.set(1)
    try:
        yield
    finally:
        DECODE_WORKERS.reset(token)


WHOLE_PAGE_SIDE = 4096  # pages up to this size are read whole; larger ones tile by tile


def series_pixels(series: tifffile.TiffPageSeries, level: int = 0) -> ChunkedArray:
    """A lazy array of one series level.

    A chunk per page where pages are of moderate size (read by tifffile directly, the
    fastest way), else a chunk per stored tile. Pages of a dataset whose files are not held
    open (`_hold_files`) are read one at a time: tifffile reopens and closes those files as
    it goes, which threads must not race.
    """
    tif = series.parent
    path = getattr(tif, "lightmic_path", None) or (tif.filehandle.path if tif else "")
    origin = ChunkOrigin(path, series.levels[level].axes)
    data = _series_pixels(series, level, origin)
    if getattr(series, "is_multifile", False) and not getattr(series.parent,
                                                               "lightmic_held", True):
        from ..scene.axes import SerialReads

        data = SerialReads(data, origin).pixels()
    return data


def _series_pixels(series: tifffile.TiffPageSeries, level: int,
                   origin: ChunkOrigin) -> ChunkedArray:
    pages = PageArray.of(series, level)
    if pages is not None:
        chunks = tuple(1 for _ in pages.shape[:pages.lead]) + pages.shape[pages.lead:]
        return chunked_array(pages, chunks, origin)
    import zarr  # only here: importing it costs 0.1 s on the first file of a session

    tiles = zarr.open_array(series.aszarr(level=level), mode="r")
    return chunked_array(tiles, tiles.chunks, origin)


class _Pages(Protocol):
    """The pages of a series level, by their flat index."""

    def __getitem__(self, index: int) -> tifffile.TiffPage | tifffile.TiffFrame:
        """The page at `index`."""
        ...


class PageArray:
    """Array-like over a series level whose every page is one plane (Y, X[, S])."""

    def __init__(self, pages: _Pages, shape: tuple[int, ...], dtype: npt.DTypeLike, lead: int,
                 where: tuple[str, int, int]) -> None:
        self.pages, self.shape, self.dtype, self.lead = pages, shape, np.dtype(dtype), lead
        self.ndim = len(shape)
        self.where = where  # (file, series, level): where to find the pages again

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as where the pages are, found again on load."""
        # pages hold their open file: pickled as where they are, found again on load
        return _reopened, (self.where, self.shape, self.dtype.str, self.lead)

    @classmethod
    def of(cls, series: tifffile.TiffPageSeries, level: int) -> PageArray | None:
        """The level as pages, if every page is one plane of moderate size; else None."""
        target = series.levels[level]
        axes, shape = target.axes, tuple(target.shape)
        lead = len(axes) - (3 if axes.endswith("YXS") else 2)
        if not (axes.endswith("YX") or axes.endswith("YXS")):
            return None
        if max(shape[lead:lead + 2]) > WHOLE_PAGE_SIDE:
            return None
        listed = list(target.pages)
        pages = [p for p in listed if p is not None]
        if len(listed) != int(np.prod(shape[:lead])) or len(pages) != len(listed):
            return None
        tif = series.parent
        if tif is None:
            return None
        return cls(pages, shape, target.dtype, lead,
                   (tif.filehandle.path, tif.series.index(series), level))

    def __getitem__(self, key: slice | tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of a region (a slice per axis), decoded page by page."""
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        ranges = [range(*k.indices(n)) for k, n in zip(key[:self.lead], self.shape[:self.lead])]
        plane, whole = key[self.lead:], self.shape[self.lead:]
        out = np.empty([len(r) for r in ranges] + _plane_shape(plane, whole), dtype=self.dtype)
        # a whole plane is decoded straight into its place: no copy of it made
        into = tuple(out.shape[self.lead:]) == whole
        for idx in np.ndindex(*[len(r) for r in ranges]):
            flat = int(np.ravel_multi_index([r[i] for r, i in zip(ranges, idx)],
                                            self.shape[:self.lead])) if self.lead else 0
            page = self.pages[flat]
            check_page(page, whole)
            if into and page.dtype is not None and np.dtype(page.dtype) == self.dtype:
                _read_page(page, out[idx])
            else:
                out[idx] = _read_page(page).reshape(whole)[plane]
        return out


def check_page(page: tifffile.TiffPage | tifffile.TiffFrame, plane: tuple[int, ...]) -> None:
    """Refuse, before decoding, a page whose own tags declare another plane than expected.

    A damaged ImageWidth or BitsPerSample would otherwise make the decoder allocate what the
    tag says (gigabytes for a plane of kilobytes).
    """
    declared = tuple(int(n) for n in page.shape)
    if math.prod(declared) != math.prod(plane):
        raise ValueError(f"page {page.index} declares a plane of {shape_text(declared)} "
                         f"pixels, not {shape_text(plane)} as its image")


def _read_page(page: tifffile.TiffPage | tifffile.TiffFrame,
               out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """One page's pixels, in `out` if given (C-contiguous, of the page's size and type).

    A file not held open (`_hold_files`) is opened for the read, then closed, under its lock
    (as tifffile would, but without its warning).
    """
    fh = page.parent.filehandle
    if not fh.closed:
        return page.asarray(maxworkers=DECODE_WORKERS.get(), out=out)
    with fh.lock:
        closed = fh.closed
        if closed:
            fh.open()
        try:
            return page.asarray(maxworkers=DECODE_WORKERS.get(), out=out)
        finally:
            if closed:
                fh.close()


class TiffHandle(LazyHandle["tifffile.TiffFile"]):
    """A TIFF file opened again where an unpickled array first reads it."""

    def _open(self) -> tifffile.TiffFile:
        import tifffile

        tif = tifffile.TiffFile(self.path, mode="r")
        tif.filehandle.set_lock(True)
        return tif


class _ReopenedPages:
    """The pages of one series level, from a file opened on first use."""

    def __init__(self, path: str, series: int, level: int) -> None:
        self.handle, self.series, self.level = TiffHandle(path), series, level

    def __getitem__(self, index: int) -> tifffile.TiffPage | tifffile.TiffFrame:
        with self.handle.lock:
            page = self.handle.opened.series[self.series].levels[self.level].pages[index]
        if page is None:
            raise ValueError(f"{self.handle.path}: page {index} of series {self.series} "
                             f"level {self.level} is missing")
        return page


def _reopened(where: tuple[str, int, int], shape: tuple[int, ...], dtype: str,
              lead: int) -> PageArray:
    return PageArray(_ReopenedPages(*where), shape, dtype, lead, where)


def _plane_shape(key: tuple[slice, ...], shape: tuple[int, ...]) -> list[int]:
    return [len(range(*k.indices(n))) for k, n in zip(key, shape)]


def _pyramid(series: tifffile.TiffPageSeries) -> list[ChunkedArray]:
    """The series' lower resolution levels, lazily, largest first."""
    return [canonical(series_pixels(series, level), series.axes)[0]
            for level in range(1, len(series.levels))]


def _um(value: str | float | None, unit: str | None) -> float | None:
    """A size in micrometres; None when absent, not positive or in an unknown unit."""
    from ..units import convert

    size, name = size_and_unit(value, unit, "µm")
    if size is None:
        return None
    try:
        return convert(size, name, "µm")
    except ValueError:
        return None


def _ome(tif: tifffile.TiffFile, root: etree._Element | None
         ) -> tuple[list[Scene], Callable[[], OME | None]]:
    """Scenes from the OME-XML (`root`, where parsed), and what makes its OME model."""
    xml = tif.ome_metadata
    if xml is None:
        raise ValueError("the file has no OME-XML")
    ome, images = ome_images(xml, root)
    # tifffile makes a series of each Image that stores pixels (has TiffData), in order
    stored = [k for k, info in enumerate(images) if info.get("stored", True)]
    scenes = []
    for index, series in enumerate(tif.series):
        k = stored[index] if index < len(stored) else index
        info = images[k] if k < len(images) else ImageInfo(name=None, sizes={}, channels=[])
        data, dims = canonical(series_pixels(series), series.axes)
        pyramid = _pyramid(series)
        scenes.append(ome_scene(index, info, data, dims, series.name,
                                ome_index=k if k != index else None, pyramid=pyramid))
    return scenes, ome


def _micromanager(tif: tifffile.TiffFile) -> list[Scene]:
    """A Micro-Manager dataset: one scene per stage position, whichever file was opened."""
    meta = tif.micromanager_metadata or {}
    summary = meta.get("Summary", {}) or {}
    display = meta.get("DisplaySettings") or []
    series = tif.series[0]
    data, axes = series_pixels(series), series.axes
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
        colors = complete_colors([argb_color(colors_raw[i]) if i < len(colors_raw) else None
                                  for i in range(n)])
        channels = []
        for i in range(n):
            limits = None
            if i < len(display) and isinstance(display[i], dict) and "Max" in display[i]:
                limits = (float(display[i].get("Min", 0)), float(display[i]["Max"]))
            channels.append(Channel(name=names[i] if i < len(names) else f"Channel {i}",
                                    color=colors[i], contrast_limits=limits,
                                    named=i < len(names)))
        info = position_list[p] if p < len(position_list) else {}
        xy = (info.get("DeviceCoordinatesUm") or {}).get("XY")
        stage = {"Y": float(xy[1]), "X": float(xy[0])} if xy and len(xy) == 2 else None
        label = str(info.get("Label") or "")
        scenes.append(make_scene(p, label or (f"Pos{p}" if positions > 1 else ""),
                                 pdata, dims, dict(physical), channels, stage_position=stage,
                                 well=site_generator_well(label)))
    return scenes


def _imagej(tif: tifffile.TiffFile) -> list[Scene]:
    meta = tif.imagej_metadata or {}
    series = tif.series[0]
    data, dims = canonical(series_pixels(series), series.axes)
    sizes = dict(zip(dims, data.shape))
    unit = meta.get("unit")
    page = tif.pages.first
    physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
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
    limits: list[tuple[float, float] | None] = [None] * n
    if ranges and len(ranges) >= 2 * n:
        limits = [(float(ranges[2 * i]), float(ranges[2 * i + 1])) for i in range(n)]
    elif n == 1 and "min" in meta and "max" in meta and "S" not in dims:
        limits = [(float(meta["min"]), float(meta["max"]))]
    shown = complete_colors(colors)
    channels = [Channel(name=f"Channel {i}", color=shown[i], contrast_limits=limits[i],
                        named=False) for i in range(n)]
    return [make_scene(0, "", data, dims, physical, channels)]


OME_WITHOUT_PAGES = ("No image of the OME-XML is stored in this file's pages (BinData or "
                     "MetadataOnly images, no TiffData, or XML that does not parse): the pages "
                     "are read as a plain TIFF, without the OME metadata.")


def _plain(tif: tifffile.TiffFile) -> list[Scene]:
    scenes = []
    for index, series in enumerate(tif.series):
        if series.kind == "lsm":
            continue
        data, dims = canonical(series_pixels(series), series.axes)
        n = dict(zip(dims, data.shape)).get("C", 1)
        channels = [Channel(name=f"Channel {i}", color=c, named=False)
                    for i, c in enumerate(default_colors(n))]
        pyramid = _pyramid(series)
        scenes.append(make_scene(index, "", data, dims, {"Z": None, "Y": None, "X": None}, channels,
                             notes=[OME_WITHOUT_PAGES] if tif.is_ome else [], pyramid=pyramid))
    return scenes


LSM_MIN_UM = 1e-6  # smaller LSM voxel sizes are unset fields, not measurements


def _lsm(tif: tifffile.TiffFile) -> list[Scene]:
    """Zeiss LSM: the image series only (not the thumbnail), with voxel size and channels."""
    meta = tif.lsm_metadata or {}
    series = tif.series[0]
    data, dims = canonical(series_pixels(series), series.axes)
    physical = {}
    for axis in "ZYX":
        um = _um(meta.get(f"VoxelSize{axis}"), "m")
        physical[axis] = um if um and um > LSM_MIN_UM else None
    colors_meta = meta.get("ChannelColors") or {}
    names = list(colors_meta.get("ColorNames") or [])
    raw_colors = list(colors_meta.get("Colors") or [])
    n = dict(zip(dims, data.shape)).get("C", 1)
    colors = complete_colors(
        [parse_color(raw_colors[i][:3]) if i < len(raw_colors) else None for i in range(n)])
    channels = [Channel(name=names[i] if i < len(names) and names[i] else f"Channel {i}",
                        color=colors[i], named=bool(i < len(names) and names[i]))
                for i in range(n)]
    name = (meta.get("ScanInformation") or {}).get("Name") or ""
    return [make_scene(0, "" if name == "Temp" else name, data, dims, physical, channels)]


def lsm_acquisition(scan: dict[str, Any]) -> Acquisition:
    """User and objective from an LSM file's ScanInformation (a laser-scanning confocal).

    Parameters
    ----------
    scan : dict
        ``lsm_metadata['ScanInformation']`` as tifffile reads it.

    Returns
    -------
    Acquisition
        Always of mode LaserScanningConfocalMicroscopy; the objective's magnification, NA
        and immersion are read from its name ('EC Plan-Neofluar 40x/1.30 Oil DIC M27').
    """
    from ome_types import model as ome

    user = str(scan.get("User") or "").strip()
    experimenters = (ome.Experimenter(id="Experimenter:0", user_name=user),) if user else ()
    name = str(scan.get("Objective") or "").strip()
    instrument = None
    if name:
        match = re.search(r"(\d+(?:\.\d+)?)x/(\d(?:\.\d+)?)\s*(\w+)?", name)
        objective = ome.Objective(
            id="Objective:0", model=name,
            nominal_magnification=positive_float(match.group(1)) if match else None,
            lens_na=positive_float(match.group(2)) if match else None,
            immersion=immersion(match.group(3)) if match else None)
        instrument = ome.Instrument(id="Instrument:0", objectives=[objective],
                                    microscope=ome.Microscope(manufacturer="Carl Zeiss"))
    return Acquisition(instrument=instrument, experimenters=experimenters,
                       acquisition_mode="LaserScanningConfocalMicroscopy")


class _Reader(ReaderBase):
    library = "tifffile"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_tiff(path, fmt)


READER = _Reader()
