"""ND2, PNG and JPEG through bioio and its plugins.

bioio reduces every file to TCZYX(S); these formats have no other axes, so nothing is lost.
What is fixed here: a single plane's invented Z size (ND2 reports 1.0) is reported unknown,
and placeholder channel names become plain numbers. What NIS-Elements records that bioio
does not pass on is read from the ND2 file itself (`Nd2Extras`): the microscope stand and
each channel's display range (its LUT).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from ..colors import complete_colors, parse_color
from ..errors import LightmicReadError, first_line
from ..formats import FileFormat, file_stem
from ..model import Acquisition, Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, SerialReads, canonical
from ..scene.budget import SizeRefused, max_chunks
from .acquisition import given
from .contract import ReaderBase

if TYPE_CHECKING:
    from bioio import BioImage
    from bioio_base.reader import Reader
    from ome_types import OME

# The bioio plugin that reads each format; pinned so the generic fallbacks never guess.
READERS = {
    "ND2": "bioio_nd2",
    "PNG": "bioio_imageio",
    "JPEG": "bioio_imageio",
}


@dataclass(frozen=True)
class Nd2Extras:
    """What NIS-Elements records in an ND2 file that bioio-nd2 does not give."""

    microscope: str | None = None  # the stand, as NIS-Elements names it ('Ti2 Microscope')
    manufacturer: str | None = None
    # each channel's display range (the LUT's low and high, in pixel values); None = none set
    display_ranges: list[tuple[float, float] | None] = field(default_factory=list)


def nd2_extras(path: str) -> Nd2Extras:
    """The microscope stand and the channels' display ranges NIS-Elements recorded.

    Parameters
    ----------
    path : str
        A local ND2 file.

    Returns
    -------
    Nd2Extras
        Empty fields for what the file does not record (or the nd2 library cannot read).
    """
    import nd2

    try:
        with nd2.ND2File(path) as f:
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
        The OME bioio-nd2 made of the file, with the stand added (`_with_microscope`).

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


def _reader_class(fmt: FileFormat) -> type[Reader]:
    import importlib

    reader: type[Reader] = importlib.import_module(READERS[fmt.name]).Reader
    return reader


def _bioimage(path: str, fmt: FileFormat) -> BioImage:
    """The file as bioio opens it, or LightmicReadError: the plugin's reason in one line."""
    from bioio import BioImage
    from bioio_base.exceptions import UnsupportedFileFormatError

    with _without_bioio_log():
        try:
            return BioImage(path, reader=_reader_class(fmt))
        except UnsupportedFileFormatError as exc:
            raise LightmicReadError(path, f"cannot be read as {fmt.name}: "
                                    f"{_refusal(exc, fmt)}") from exc


def _refusal(exc: Exception, fmt: FileFormat) -> str:
    """What the plugin said, from bioio's several-line 'Readers attempted' text.

    bioio-imageio says "Cannot read the provided file ... remotely" of any local file it
    cannot parse (a truncated PNG): that is told as what it means.
    """
    said = str(getattr(exc, "msg_extra", None) or "").partition("Readers attempted:")[2]
    reasons = [line.strip()[2:].partition(": ")[2] for line in said.splitlines()
               if line.strip().startswith("- ")]
    reason = first_line(reasons[0]) if reasons else ""
    if not reason or "remotely" in said:
        return f"the file is damaged, truncated or not a {fmt.name} file"
    return reason


class _NoAttemptLog(logging.Filter):
    """Drops bioio's "Exclusive reader attempt failed" warning: the error says it, once."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102 - logging's own
        return not str(record.msg).startswith("Exclusive reader attempt failed")


@contextlib.contextmanager
def _without_bioio_log() -> Iterator[None]:
    logger = logging.getLogger("bioio.bio_image")
    quiet = _NoAttemptLog()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def open_bioio(path: str, fmt: FileFormat) -> ImageSource:
    """Open an ND2, PNG or JPEG file with its bioio plugin, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row, which names the plugin (`READERS`).

    Returns
    -------
    ImageSource
        One scene per bioio scene, with the file's OME metadata where the plugin gives it.
    """
    if fmt.name == "ND2":
        check_nd2_chunks(path)
    elif fmt.name == "PNG":
        check_png_frames(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = _bioimage(path, fmt)
        scene_ids = list(image.scenes)
        ome = _ome_or_none(image)
        extras = nd2_extras(path) if fmt.name == "ND2" else Nd2Extras()
        if ome is not None:
            ome = _with_microscope(ome, extras)
        scenes = []
        for index, scene_id in enumerate(scene_ids):
            image.set_scene(scene_id)
            scenes.append(_scene(image, index, scene_id, ome, path, extras.display_ranges))
    return ImageSource(
        path=path,
        format=fmt,
        scenes=scenes,
        reader=READERS[fmt.name].replace("_", "-"),
        ome_factory=given(ome) if ome is not None else None,
        acquisition_factory=given(nd2_acquisition(ome)) if fmt.name == "ND2" else None,
    )


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


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FCTL_BYTES = 38  # the frame control chunk each animation frame has, with its length and CRC


# zlib (PNG's only compression) cannot expand data more than 1032 times
DEFLATE_MAX_RATIO = 1032
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type


def check_png_frames(path: str) -> None:
    """Refuse a PNG whose header declares more than its file could hold.

    An animation control (acTL) declaring more frames than the file has frame headers for:
    bioio-imageio allocates a slot per declared frame before reading one. A header (IHDR)
    declaring a plane larger than deflate could expand the whole file to: the decoder
    allocates what the header says.

    Parameters
    ----------
    path : str
        A local PNG file.

    Raises
    ------
    SizeRefused
        Naming the count declared and what the file could hold.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if fh.read(8) != PNG_SIGNATURE:
            return
        while True:
            head = fh.read(8)
            if len(head) < 8:
                return
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IDAT":
                return
            if kind == b"IHDR":
                ihdr = fh.read(13).ljust(13, b"\0")
                width, height, depth, colour = struct.unpack(">IIBB", ihdr[:10])
                row = (width * PNG_CHANNELS.get(colour, 4) * max(depth, 1) + 7) // 8 + 1
                if height * row > DEFLATE_MAX_RATIO * size:
                    raise SizeRefused(f"the PNG declares {width:,} × {height:,} pixels "
                                      f"({height * row:,} bytes), more than deflate could make "
                                      f"of a file of {size:,} bytes")
                fh.seek(length - 13 + 4, 1)
                continue
            if kind == b"acTL":
                frames = struct.unpack(">I", fh.read(4).ljust(4, b"\0"))[0]
                if frames > min(size // FCTL_BYTES, max_chunks()):
                    raise SizeRefused(f"the PNG declares {frames:,} animation frames (acTL); "
                                      f"the file ({size:,} bytes) could hold at most "
                                      f"{size // FCTL_BYTES:,}")
                return
            fh.seek(length + 4, 1)


def _ome_or_none(image: BioImage) -> OME | None:
    try:
        return image.ome_metadata
    except Exception:  # noqa: BLE001 - a plugin's OME is extra: any failure means none
        return None


def _scene(image: BioImage, index: int, scene_id: str, ome: OME | None, path: str,
           display_ranges: list[tuple[float, float] | None]) -> Scene:
    origin = ChunkOrigin(path, image.dims.order)
    data, dims = canonical(SerialReads(image.dask_data, origin).pixels(), image.dims.order)
    sizes = dict(zip(dims, data.shape))
    pps = image.physical_pixel_sizes
    reported = {"Z": pps.Z, "Y": pps.Y, "X": pps.X}
    # A single plane has no Z step; a reported one is invented.
    if sizes.get("Z", 1) == 1:
        reported["Z"] = None
    physical = {k: (float(v) if v else None) for k, v in reported.items()}
    units = {k: "µm" for k, v in physical.items() if v is not None}

    ome_image = ome.images[index] if ome is not None and index < len(ome.images) else None
    t_note = None
    if ome_image is not None and sizes.get("T", 1) == ome_image.pixels.size_t > 1:
        from .ome_xml import time_step

        step, unit, t_note = time_step(ome_image.pixels)
        if step and unit:
            physical["T"], units["T"] = float(step), unit
    n_channels = sizes.get("C", 1)
    names = [str(n) for n in (image.channel_names or [])]
    colors: list[str | None] = [None] * n_channels
    emissions: list[float | None] = [None] * n_channels
    excitations: list[float | None] = [None] * n_channels
    fluors: list[str | None] = [None] * n_channels
    if ome_image is not None and len(ome_image.pixels.channels) == n_channels:
        chans = ome_image.pixels.channels
        all_white = all(c.color is None or c.color.as_rgb_tuple()[:3] == (255, 255, 255)
                        for c in chans)
        for i, c in enumerate(chans):
            if c.color is not None and not (all_white and n_channels > 1):
                colors[i] = parse_color(c.color.as_rgb_tuple()[:3])
            emissions[i] = c.emission_wavelength
            excitations[i] = c.excitation_wavelength
            fluors[i] = c.fluor
    if len(names) != n_channels or not all(names):
        names = [f"Channel:{i}" for i in range(n_channels)]
    named = [not n.startswith("Channel:") for n in names]
    names = [_clean_placeholder(n, i) for i, n in enumerate(names)]
    shown = complete_colors(colors, emissions)
    # the file's display range per channel, where it records one for each (not for RGB)
    ranges = (display_ranges[:n_channels] if len(display_ranges) >= n_channels
              and "S" not in dims else [None] * n_channels)
    channels = [
        Channel(name=names[i], color=shown[i], excitation_nm=excitations[i],
                emission_nm=emissions[i], fluor=fluors[i], named=named[i],
                contrast_limits=ranges[i])
        for i in range(n_channels)
    ]
    name = ome_image.name if ome_image is not None and ome_image.name else None
    if not name:
        stem = file_stem(path)
        name = stem if len(image.scenes) == 1 else f"{stem} #{index + 1}"
    return Scene(index=index, name=name, pixels=data, dims=dims, physical_pixel_sizes=physical,
                 units=units, channels=channels, notes=[t_note] if t_note else [])


def _clean_placeholder(name: str, i: int) -> str:
    # bioio's invented 'Channel:0:1' names say nothing; number channels as a person would.
    if name.startswith("Channel:"):
        return f"Channel {i}"
    return name


class _Reader(ReaderBase):
    library = "bioio"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_bioio(path, fmt)


READER = _Reader()
