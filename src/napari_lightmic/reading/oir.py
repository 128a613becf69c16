"""Olympus/Evident OIR (FV3000, FV4000): recognised, and refused with what to do instead.

The library that reads OIR, oirfile (the author of oiffile, liffile and tifffile), needs
Python 3.12 or newer; this plugin supports Python 3.11, and OIR's structure is not
published, so no reader of our own is written. An OIR file is named as such and refused
with the cause and the ways to open it today.
"""

from __future__ import annotations

import sys

from ..errors import LightmicReadError
from ..formats import FileFormat
from ..model import ImageSource
from .contract import ReaderBase

ADVICE = ("open it in Fiji (Bio-Formats), or convert it to OME-TIFF with Bio-Formats' "
          "bfconvert (bfconvert FILE.oir FILE.ome.tif) and open that")


def cause() -> str:
    """Why an OIR file is not read here, for the running Python."""
    if sys.version_info < (3, 12):
        running = ".".join(str(v) for v in sys.version_info[:2])
        why = (f"OIR is read by the oirfile library, which needs Python 3.12 or newer "
               f"(this is Python {running})")
    else:
        why = "OIR is not read by napari-lightmic yet (its oirfile reader is not written)"
    return f"{why}: {ADVICE}"


class _Reader(ReaderBase):
    library = "oirfile"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        raise LightmicReadError(path, cause())


READER = _Reader()
