"""PNG and JPEG through bioio and its plugin bioio-imageio.

bioio reduces every file to TCZYX(S); these formats have no other axes, so nothing is lost.
What is fixed here: a single plane's invented Z size is reported unknown, and placeholder
channel names become plain numbers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..colors import complete_colors
from ..errors import LightmicReadError, first_line
from ..formats import FileFormat, file_stem
from ..model import Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, SerialReads, canonical
from ..scene.budget import SizeRefused, max_chunks
from .contract import ReaderBase

if TYPE_CHECKING:
    from bioio import BioImage
    from bioio_base.reader import Reader

# The bioio plugin that reads each format; pinned so the generic fallbacks never guess.
READERS = {
    "PNG": "bioio_imageio",
    "JPEG": "bioio_imageio",
}


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
    """Open a PNG or JPEG file with its bioio plugin, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row, which names the plugin (`READERS`).

    Returns
    -------
    ImageSource
        One scene per bioio scene (bioio-imageio gives no OME: it is described from them).
    """
    if fmt.name == "PNG":
        check_png_frames(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = _bioimage(path, fmt)
        scenes = []
        for index, scene_id in enumerate(list(image.scenes)):
            image.set_scene(scene_id)
            scenes.append(_scene(image, index, path))
    return ImageSource(
        path=path,
        format=fmt,
        scenes=scenes,
        reader=READERS[fmt.name].replace("_", "-"),
    )


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


def _scene(image: BioImage, index: int, path: str) -> Scene:
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
    n_channels = sizes.get("C", 1)
    names = [str(n) for n in (image.channel_names or [])]
    if len(names) != n_channels or not all(names):
        names = [f"Channel:{i}" for i in range(n_channels)]
    named = [not n.startswith("Channel:") for n in names]
    names = [_clean_placeholder(n, i) for i, n in enumerate(names)]
    shown = complete_colors([None] * n_channels)
    channels = [Channel(name=names[i], color=shown[i], named=named[i])
                for i in range(n_channels)]
    stem = file_stem(path)
    name = stem if len(image.scenes) == 1 else f"{stem} #{index + 1}"
    return Scene(index=index, name=name, pixels=data, dims=dims, physical_pixel_sizes=physical,
                 units=units, channels=channels)


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
