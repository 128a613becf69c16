"""The format registry: what each supported file is, who makes it, how it keeps data.

Each row also names the reader module that opens it (imported only when a file of the
format is opened).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

EDAM = "http://edamontology.org/"


@dataclass(frozen=True)
class FileFormat:
    """A file format: its name, maker, extensions, and whether it keeps data well."""

    name: str
    vendor: str
    extensions: tuple[str, ...]
    open_format: bool
    lossy: bool
    edam: str | None  # EDAM format term IRI; None where EDAM has no term for it
    directory: bool = False
    # the module whose READER opens the format (see reading/contract.py)
    reader: str = "napari_lightmic.reading.bioio_backed"
    # leading bytes of a file of the format, any of them; empty = not checked
    magic: tuple[bytes, ...] = ()

    @property
    def advice(self) -> str | None:
        """What to tell the user when the format is not one to keep data in."""
        if self.lossy:
            return (
                f"{self.name} is lossy: pixel values have been altered by compression. "
                "Acquire in a lossless format and keep OME-TIFF or OME-Zarr copies."
            )
        if not self.open_format:
            return (
                f"{self.name} is a proprietary acquisition format: keep an OME-TIFF or "
                "OME-Zarr copy for storage and sharing."
            )
        return None


_R = "napari_lightmic.reading."
_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_HDF5 = (b"\x89HDF\r\n\x1a\n",)
_LEICA = (b"\x70\x00\x00\x00",)
# XML as liffile accepts it: UTF-8 (with or without a byte-order mark) or UTF-16
_XML = (b"<?xml", b"\xef\xbb\xbf<", b"<\x00?\x00", b"\x00<\x00?", b"\xff\xfe<\x00")

FORMATS: tuple[FileFormat, ...] = (
    FileFormat("CZI", "Carl Zeiss", (".czi",), False, False, None,
               reader=_R + "czi", magic=(b"ZISRAWFILE",)),
    FileFormat("LIF", "Leica", (".lif",), False, False, None,
               reader=_R + "lif", magic=_LEICA),
    # LAS X projects: an XLEF lists images (XLIF), whose pixels are in a LOF or TIFF frames
    FileFormat("LOF", "Leica", (".lof",), False, False, None, reader=_R + "lasx", magic=_LEICA),
    FileFormat("XLIF", "Leica", (".xlif",), False, False, None, reader=_R + "lasx", magic=_XML),
    FileFormat("XLEF", "Leica", (".xlef",), False, False, None, reader=_R + "lasx", magic=_XML),
    # FluoView: an OIF settings file (UTF-16 INI) beside its TIFFs; an OIB holds them in OLE
    FileFormat("OIF", "Olympus (Evident)", (".oif",), False, False, None, reader=_R + "oif",
               magic=(b"\xff\xfe[\x00", b"[")),
    FileFormat("OIB", "Olympus (Evident)", (".oib",), False, False, None, reader=_R + "oif",
               magic=(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    FileFormat("OIR", "Olympus (Evident)", (".oir",), False, False, None, reader=_R + "oir",
               magic=(b"OLYMPUSRAWFORMAT",)),
    FileFormat("ND2", "Nikon", (".nd2",), False, False, None,
               reader=_R + "nd2", magic=(b"\xda\xce\xbe\x0a", b"ND2 FILE SIGNATURE")),
    FileFormat("LSM", "Carl Zeiss", (".lsm",), False, False, None,
               reader=_R + "tiff", magic=_TIFF),
    FileFormat("OME-TIFF", "OME", (".ome.tif", ".ome.tiff", ".ome.btf"), True, False,
               EDAM + "format_3727", reader=_R + "tiff", magic=_TIFF),
    FileFormat("OME-Zarr", "OME", (".ome.zarr", ".zarr"), True, False, None,
               directory=True, reader=_R + "ngff"),
    FileFormat("Imaris", "Oxford Instruments (Bitplane)", (".ims",), False, False,
               EDAM + "format_ims", reader=_R + "hdf5", magic=_HDF5),
    FileFormat("BigDataViewer", "Fiji (BigDataViewer)", (".xml",), True, False,
               EDAM + "format_3590", reader=_R + "hdf5"),
    FileFormat("HDF5", "", (".h5", ".hdf5", ".he5"), True, False, EDAM + "format_3590",
               reader=_R + "hdf5", magic=_HDF5),
    FileFormat("TIFF", "", (".tif", ".tiff"), True, False, EDAM + "format_3591",
               reader=_R + "tiff", magic=_TIFF),
    FileFormat("PNG", "", (".png",), True, False, EDAM + "format_3603",
               reader=_R + "bioio_backed", magic=(b"\x89PNG\r\n\x1a\n",)),
    FileFormat("JPEG", "", (".jpg", ".jpeg"), True, True, EDAM + "format_3579",
               reader=_R + "bioio_backed", magic=(b"\xff\xd8\xff",)),
)


def format_for(path: str | Path) -> FileFormat | None:
    """The format a path names by its extension (longest match first), or None."""
    name = str(path).rstrip("/\\").lower()
    best: tuple[int, FileFormat] | None = None
    for fmt in FORMATS:
        for ext in fmt.extensions:
            if name.endswith(ext) and (best is None or len(ext) > best[0]):
                best = (len(ext), fmt)
    return best[1] if best else None


def file_stem(path: str | Path) -> str:
    """The file or folder name without its format's extension ('a.ome.tif' -> 'a')."""
    name = Path(str(path).rstrip("/\\")).name
    fmt = format_for(name)
    if fmt is not None:
        for ext in sorted(fmt.extensions, key=len, reverse=True):
            if name.lower().endswith(ext):
                return name[: -len(ext)] or name
    return name.split(".")[0] or name


def napari_patterns() -> list[str]:
    """Give the file name patterns napari's reader contribution lists."""
    return sorted({f"*{ext}" for fmt in FORMATS for ext in fmt.extensions})


def is_zarr_group(path: str | Path) -> bool:
    """Tell whether a path is a zarr group folder (v3 or v2)."""
    p = Path(path)
    return p.is_dir() and any((p / name).exists() for name in ("zarr.json", ".zgroup", ".zattrs"))


# What a zarr group's attributes hold (under "ome" from NGFF 0.5) when it is OME-Zarr: an
# image, an HCS plate or well, or a bioformats2raw collection of images.
NGFF_KEYS = ("multiscales", "plate", "well", "bioformats2raw.layout")


def ngff_attributes(doc: object, v3: bool) -> dict[str, object]:
    """The NGFF metadata of a group's metadata document (`zarr.json` if `v3`, else `.zattrs`).

    The one home of where NGFF keeps it: under "attributes" then "ome" in zarr v3 (NGFF
    0.5), at the top level of `.zattrs` (0.4). {} for a document that is not an object.
    """
    attrs = doc.get("attributes") if v3 and isinstance(doc, dict) else doc
    if not isinstance(attrs, dict):
        return {}
    ome = attrs.get("ome")
    return ome if isinstance(ome, dict) else attrs


def ngff_kind(path: str | os.PathLike[str]) -> str | None:
    """Which of `NGFF_KEYS` a local folder's zarr metadata holds, or None (whatever its name).

    Only the group's small metadata file is read (``zarr.json``, else ``.zattrs``), with
    the readers' size cap, and never a FIFO or device in its place. Unreadable or malformed
    metadata, a file, a URL: None.
    """
    from .reading.files import read_regular  # not at import: the reading package imports this

    try:
        if not os.path.isdir(path):
            return None
    except (OSError, ValueError):  # a name the system refuses
        return None
    for name, v3 in (("zarr.json", True), (".zattrs", False)):
        try:
            doc = json.loads(read_regular(os.path.join(path, name)))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, RecursionError):  # a FIFO, too large, not JSON
            return None
        attrs = ngff_attributes(doc, v3)
        return next((key for key in NGFF_KEYS if key in attrs), None)
    return None


def format_of(path: str | os.PathLike[str]) -> FileFormat | None:
    """The format of a local file or folder: by its name, else a folder holding NGFF metadata.

    The one answer to "is this OME-Zarr?" for a path on disk: a folder whose zarr metadata
    holds an NGFF image, plate, well or bioformats2raw layout is OME-Zarr whatever its name
    (``plate.ome.zarr/A/1/0``). A URL goes by its name alone (`format_for`): nothing is fetched.
    """
    fmt = format_for(os.fspath(path))
    if fmt is None and ngff_kind(path) is not None:
        return _OME_ZARR
    return fmt


_OME_ZARR = next(fmt for fmt in FORMATS if fmt.name == "OME-Zarr")
