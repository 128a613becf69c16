"""ND2 (NIS-Elements) through the nd2 library: positions as scenes, each frame a chunk.

Read with the library bioio-nd2 is built on, without bioio's layers: opening reads the
file's attributes and experiment loops only, so a first plane needs neither xarray, dask
nor an OME model (bioio-nd2 made all three at open: 1.4 s of a first plane). The OME model
nd2 makes of the file (ome-types), with the microscope stand NIS-Elements records, is made
when first asked (`ImageSource.ome`, the acquisition).

A single plane's Z step (nd2 reports 1 µm) is none; the time step is the mean interval of
the frames' times, as the OME planes give it (`ome_xml.time_step_of`); each channel's name,
colour and wavelengths are the file's (none for RGB, as nd2's OME does), its display range
the LUT NIS-Elements stored.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from ..colors import complete_colors, parse_color
from ..formats import FileFormat, file_stem
from ..model import Acquisition, Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, canonical, chunked_array
from ..scene.budget import SizeRefused
from .acquisition import given
from .contract import ReaderBase
from .handles import LazyHandle

if TYPE_CHECKING:
    import nd2
    from ome_types import OME


# nd2's letter for a loop NIS-Elements lets the user define (nd2.AXIS.UNKNOWN)
CUSTOM_LOOP_AXIS = "NIS-Elements custom loop"


class Nd2Handle(LazyHandle["nd2.ND2File"]):
    """An ND2 file opened with nd2 on first use (pickles as its path)."""

    def _open(self) -> nd2.ND2File:
        import nd2

        return nd2.ND2File(self.path)


class Nd2Frames:
    """The file's frames as chunks: one per frame, indexed by its loop coordinates.

    Shaped as nd2 shapes the file (`ND2File.shape`): the loops (T, P, Z, ...) of more than
    one step, then the frame (C, Y, X, S). A frame is read whole and copied out of the
    file's map, under the handle's lock.
    """

    def __init__(self, handle: Nd2Handle, shape: tuple[int, ...], loops: int,
                 dtype: np.dtype[Any]) -> None:
        self.handle, self.shape, self.loops = handle, tuple(shape), loops
        self.dtype, self.ndim = np.dtype(dtype), len(shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """One whole frame (a slice of one step on each loop axis)."""
        coords = tuple(k.start or 0 for k in key[:self.loops])
        index = int(np.ravel_multi_index(coords, self.shape[:self.loops])) if coords else 0
        with self.handle.lock:
            frame = np.array(self.handle.opened.read_frame(index), dtype=self.dtype)
        return as_frame(frame, self.shape[self.loops:])[(None,) * self.loops]


def as_frame(frame: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """A frame nd2 read, in the axis order its sizes give (C, Y, X, S).

    Where a channel has 2 or 4 components, nd2's sizes count them as channels but its
    frames hold them last ((Y, X, k) or (c, Y, X, k)): they are moved to C. Any other
    difference is a ValueError (which `GuardedChunks` names the file and frame of).
    """
    if frame.shape == shape:
        return frame
    moved = np.moveaxis(frame, -1, -3) if frame.ndim >= 3 else frame
    if moved.size == int(np.prod(shape)) and moved.shape[-2:] == shape[-2:] \
            and len(shape) == 3:
        return moved.reshape(shape)
    raise ValueError(f"nd2 read a frame of shape {frame.shape}; the file's sizes give {shape}")


@dataclass(frozen=True)
class Nd2Extras:
    """What NIS-Elements records in an ND2 file that nd2's OME leaves out."""

    microscope: str | None = None  # the stand, as NIS-Elements names it ('Ti2 Microscope')
    manufacturer: str | None = None
    # each channel's display range (the LUT's low and high, in pixel values); None = none set
    display_ranges: list[tuple[float, float] | None] = field(default_factory=list)


def nd2_extras(f: nd2.ND2File) -> Nd2Extras:
    """The microscope stand and the channels' display ranges NIS-Elements recorded.

    Parameters
    ----------
    f : nd2.ND2File
        An open ND2 file.

    Returns
    -------
    Nd2Extras
        Empty fields for what the file does not record (or the nd2 library cannot read).
    """
    try:
        description = str(f.text_info.get("description", ""))
        lut = f.custom_data.get("LUTDataV1_0") or {}
    except Exception:  # noqa: BLE001 - extras only: an unreadable part means none
        return Nd2Extras()
    # 'Microscope Settings:   Microscope: Ti2 Microscope' in each plane's description
    found = re.search(r"\bMicroscope:[ \t]*([^\r\n]+)", description)
    microscope = found.group(1).strip() or None if found else None
    manufacturer = "Nikon" if microscope and re.search(r"\bNikon\b", description) else None
    return Nd2Extras(microscope=microscope, manufacturer=manufacturer,
                     display_ranges=_lut_ranges(lut))


def _lut_ranges(lut: dict[str, Any]) -> list[tuple[float, float] | None]:
    """Each component's display range from NIS-Elements' LUT data, in pixel values.

    ``LutParam/CompLutParam/NN`` holds the low (``i0000000000``) and high (``i0000000001``)
    of component NN; a component without a low was never adjusted (full range).
    """
    components = (lut.get("LutParam") or {}).get("CompLutParam") or {}
    ranges: list[tuple[float, float] | None] = []
    for key in sorted(components):
        comp = components[key]
        low, high = (comp.get(k) if isinstance(comp, dict) else None
                     for k in ("i0000000000", "i0000000001"))
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and high > low:
            ranges.append((float(low), float(high)))
        else:
            ranges.append(None)
    return ranges


def nd2_acquisition(ome: OME | None) -> Acquisition:
    """The acquisition facts of an ND2 file: its OME's instrument, with the stand added.

    Parameters
    ----------
    ome : OME or None
        The OME nd2 made of the file, with the stand added (`_with_microscope`).

    Returns
    -------
    Acquisition
        The instrument (with the microscope stand) and the first image's acquisition date.
    """
    instrument = ome.instruments[0] if ome is not None and ome.instruments else None
    date = ome.images[0].acquisition_date if ome is not None and ome.images else None
    return Acquisition(instrument=instrument, acquisition_date=date)


def _with_microscope(ome: OME, extras: Nd2Extras) -> OME:
    """The OME with the microscope stand NIS-Elements recorded on its instrument."""
    from ome_types import model

    if not extras.microscope:
        return ome
    microscope = model.Microscope(model=extras.microscope, manufacturer=extras.manufacturer)
    if not ome.instruments:
        ome.instruments.append(model.Instrument(id="Instrument:0"))
    for instrument in ome.instruments:
        if instrument.microscope is None:
            instrument.microscope = microscope
    return ome


ND2_MAGIC = 0x0ABECEDA
ND2_MAP_SIGNATURE = b"ND2 CHUNK MAP SIGNATURE 0000001!"


def check_nd2_chunks(path: str) -> None:
    """Refuse an ND2 whose chunks declare more bytes than the file has, or hold a DTD.

    The nd2 library reads a chunk's declared length at once: a length of 2**62 is a
    MemoryError, a large one an allocation of gigabytes. The chunk map at the end of the
    file names every chunk; each header is checked against the file's size. The metadata
    chunks stored as XML (LUTs, camera settings, custom data) are parsed by nd2 with lxml's
    default parser, which expands entities: each is checked by the plugin's parser first
    (no DTD, bounded depth). Files of the older (JPEG 2000) layout, and files whose map is
    missing, are left to the library.

    Parameters
    ----------
    path : str
        A local ND2 file.

    Raises
    ------
    SizeRefused
        Naming the chunk and the length it declares.
    ValueError
        For an XML chunk with a DTD or nested too deep.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if struct.unpack("<I", fh.read(4).ljust(4, b"\0"))[0] != ND2_MAGIC:
            return
        _nd2_chunk(fh, 0, "file header chunk", size)
        fh.seek(max(size - 40, 0))
        tail = fh.read(40)
        if not tail.startswith(ND2_MAP_SIGNATURE):
            return
        where = struct.unpack_from("<Q", tail, 32)[0]
        name_length, data_length = _nd2_chunk(fh, where, "chunk map", size)
        fh.seek(where + 16 + name_length)
        chunk_map = fh.read(data_length)
        at = 0
        while at < len(chunk_map):
            end = chunk_map.find(b"!", at)
            if end < 0 or end + 17 > len(chunk_map) or chunk_map[at:end + 1] == ND2_MAP_SIGNATURE:
                break
            name = chunk_map[at:end].decode(errors="replace")
            offset = struct.unpack_from("<Q", chunk_map, end + 1)[0]
            name_length, data_length = _nd2_chunk(fh, offset, f"chunk {name!r}", size)
            if not name.startswith("ImageDataSeq"):  # pixels are never XML
                _check_nd2_xml(fh, offset + 16 + name_length, data_length, name)
            at = end + 17


def _check_nd2_xml(fh: BinaryIO, start: int, length: int, name: str) -> None:
    """Check a chunk nd2 will parse as XML (its data starts with '<') with the plugin's parser."""
    from .._xml import parse_xml_or_none, refuse_large

    fh.seek(start)
    if length == 0 or fh.read(1) != b"<":
        return
    what = f"the ND2 chunk {name!r}"
    refuse_large(length, what)
    fh.seek(start)
    parse_xml_or_none(fh.read(length), what)  # not well-formed is left to nd2, as before


def _nd2_chunk(fh: BinaryIO, offset: int, what: str, size: int) -> tuple[int, int]:
    """A chunk header's name and data length, refused where they run past the file's end."""
    fh.seek(min(offset, size))
    raw = fh.read(16)
    if len(raw) < 16:
        raise SizeRefused(f"the ND2 {what} at byte {offset} is past the end of the file")
    magic, name_length, data_length = struct.unpack("<IIQ", raw)
    if magic != ND2_MAGIC:
        return 0, 0
    if offset + 16 + name_length + data_length > size:
        raise SizeRefused(f"the ND2 {what} at byte {offset} declares {data_length:,} bytes; "
                          f"the file has {size:,}")
    return name_length, data_length


def open_nd2(path: str, fmt: FileFormat) -> ImageSource:
    """Open an ND2 file, reading its attributes and loops but no pixels.

    Parameters
    ----------
    path : str
        A local ND2 file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per stage position; the OME nd2 makes of the file, when first asked.
    """
    check_nd2_chunks(path)
    handle = Nd2Handle(path)
    try:
        # nd2 warns of what a file lacks (no frame times, custom data of a legacy file):
        # the scene's notes say what matters
        with handle.lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = handle.opened
            extras = nd2_extras(f)
            scenes = _scenes(f, handle, path, extras.display_ranges)
    except BaseException:
        handle.close()
        raise
    ome = FileOme(path, extras)
    # ome_xml: the file holds no OME-XML, so no OME ROIs (nd2's OME has none): showing a
    # first plane makes no OME model
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="nd2", handles=[handle],
                       ome_factory=ome, ome_xml=given(None),
                       acquisition_factory=partial(_acquisition, ome))


class FileOme:
    """The OME nd2 makes of the file, with the stand NIS-Elements recorded.

    Made once, when first asked; pickles as the path and the extras.
    """

    def __init__(self, path: str, extras: Nd2Extras) -> None:
        self.path, self.extras = path, extras
        self._ome: OME | None = None

    def __call__(self) -> OME:
        """The OME model (ome-types), made now if it is not yet."""
        if self._ome is None:
            import nd2

            with nd2.ND2File(self.path) as f, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._ome = _with_microscope(f.ome_metadata(), self.extras)
        return self._ome

    def __reduce__(self) -> tuple[type[FileOme], tuple[str, Nd2Extras]]:
        """Pickle as the path and the extras (the model is made again where needed)."""
        return (FileOme, (self.path, self.extras))


def _acquisition(ome: FileOme) -> Acquisition:
    try:
        model = ome()
    except Exception:  # noqa: BLE001 - the OME is extra: a file nd2 cannot describe has none
        model = None
    return nd2_acquisition(model)


def _scenes(f: nd2.ND2File, handle: Nd2Handle, path: str,
            ranges: list[tuple[float, float] | None]) -> list[Scene]:
    from nd2 import AXIS

    sizes = dict(f.sizes)  # loops of more than one step, then the frame (C, Y, X, S)
    dims = "".join(sizes)
    loops = sum(a not in AXIS.frame_coords() for a in dims)
    frames = Nd2Frames(handle, tuple(sizes.values()), loops, f.dtype)
    whole = chunked_array(frames, (1,) * loops + tuple(sizes.values())[loops:],
                          ChunkOrigin(path, dims))
    voxel = f.voxel_size()
    n = sizes.get("C", 1)
    # the file's display range per channel, where it records one for each (not for RGB)
    channels = _channels(f, n, ranges[:n] if len(ranges) >= n and "S" not in sizes
                         else [None] * n)
    names = _position_names(f, sizes.get("P", 1), file_stem(path))
    times = _frame_times(f) if sizes.get("T", 1) > 1 else {}
    scenes = []
    for p, name in enumerate(names):
        data, order = whole, dims
        if "P" in order:
            data, order = data[(slice(None),) * order.index("P") + (p,)], order.replace("P", "")
        data, order = canonical(data, order)
        physical: dict[str, float | None] = {
            "Z": float(voxel.z) if sizes.get("Z", 1) > 1 and voxel.z else None,
            "Y": float(voxel.y) or None, "X": float(voxel.x) or None}
        units = {k: "µm" for k, v in physical.items() if v is not None}
        notes = []
        if times:
            from .ome_xml import time_step_of

            planes = [(t, 0, 0, ms, "ms") for (q, t), ms in times.items() if q == p]
            step, unit, note = time_step_of(sizes["T"], None, "ms", planes)
            if step and unit:
                physical["T"], units["T"] = float(step), unit
                notes = [note] if note else []
        scenes.append(Scene(index=p, name=name, pixels=data, dims=order,
                            physical_pixel_sizes=physical, units=units, channels=channels,
                            notes=notes,
                            axis_names={"U": CUSTOM_LOOP_AXIS} if "U" in order else {}))
    return scenes


def _frame_times(f: nd2.ND2File) -> dict[tuple[int, int], float]:
    """Each time point's time in ms at each position (its first Z frame, first channel).

    Empty where a frame's metadata cannot be read: the scene then has no time step.
    """
    times: dict[tuple[int, int], float] = {}
    try:
        for index, loop in enumerate(f.loop_indices):
            if loop.get("Z", 0) == 0:
                channels = getattr(f.frame_metadata(index), "channels", None)
                if channels:  # a custom loop's first step
                    times.setdefault((loop.get("P", 0), loop.get("T", 0)), round(
                        channels[0].time.relativeTimeMs, 6))
    except Exception:  # noqa: BLE001 - times are extra: unreadable ones make no time step
        return {}
    return times


def _channels(f: nd2.ND2File, n: int,
              ranges: list[tuple[float, float] | None]) -> list[Channel]:
    """The file's channel names, colours and wavelengths (for RGB: names only, as nd2's OME)."""
    recorded = [c.channel for c in (f.metadata.channels or [])]
    if len(recorded) != n:
        recorded = []
    names = [str(c.name) if c.name else "" for c in recorded] or [""] * n
    colors: list[str | None] = [None] * n
    emissions: list[float | None] = [None] * n
    excitations: list[float | None] = [None] * n
    if recorded and not f.is_rgb:
        rgb = [(c.color.r, c.color.g, c.color.b) for c in recorded]
        all_white = all(c == (255, 255, 255) for c in rgb)
        for i, c in enumerate(recorded):
            if not (all_white and n > 1):
                colors[i] = parse_color(rgb[i])
            emissions[i] = c.emissionLambdaNm or None
            excitations[i] = c.excitationLambdaNm or None
    shown = complete_colors(colors, emissions)
    return [Channel(name=names[i] or f"Channel {i}", color=shown[i],
                    excitation_nm=excitations[i], emission_nm=emissions[i],
                    named=bool(names[i]), contrast_limits=ranges[i])
            for i in range(n)]


def _position_names(f: nd2.ND2File, n: int, stem: str) -> list[str]:
    """Each stage position's name, else the file's (numbered where there are several)."""
    from nd2.structures import XYPosLoop

    points = next((loop.parameters.points for loop in f.experiment
                   if isinstance(loop, XYPosLoop)), None) or []
    named = [str(point.name or "") for point in points]
    return [named[p] if p < len(named) and named[p]
            else stem if n == 1 else f"{stem} (Series {p})" for p in range(n)]


class _Reader(ReaderBase):
    library = "nd2"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_nd2(path, fmt)


READER = _Reader()
