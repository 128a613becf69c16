"""The structure libCZI walks in a CZI, checked in Python before libCZI sees the file.

libCZI trusts the file's header, subblock directory and segment sizes: a negative
dimension count in a directory entry crashes the process, a metadata size beyond the file
asks for gigabytes. `check_structure` reads those few fixed-size fields (the directory as
one structured numpy array, so a directory of 100,000s of entries takes milliseconds) and
raises `LightmicReadError` naming what is wrong before anything is handed over. Each
subblock's own header (its id, its size, its copy of the directory entry) is checked too: all
of them, or in a file of more than `HEADERS_READ` subblocks the first and last by position.

Layout (ZEISS CZI file format): every segment is a 32-byte header (16-byte id,
int64 allocated size, int64 used size) followed by its data; the file header's data holds
the positions of the subblock directory, the metadata segment and the attachment
directory; the directory is an int32 entry count, 124 reserved bytes and the entries
(``DirectoryEntryDV``: 32 fixed bytes and 20 bytes per dimension).
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from .._xml import parse_xml, refuse_large
from ..errors import LightmicReadError

# a structured array of directory or dimension entries
Table = npt.NDArray[np.void]

SEGMENT_HEADER = 32
# DirectoryEntryDV without its dimension entries
_ENTRY = np.dtype([
    ("schema", "S2"), ("pixel_type", "<i4"), ("position", "<i8"), ("part", "<i4"),
    ("compression", "<i4"), ("pyramid", "u1"), ("reserved", "V5"), ("ndims", "<i4"),
])
_DIMENSION = np.dtype([
    ("name", "S4"), ("start", "<i4"), ("size", "<i4"), ("coordinate", "<f4"),
    ("stored", "<i4"),
])
# Gray8 … Gray64 (libCZI's PixelType); 5–7 are not used
PIXEL_TYPES = frozenset({0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13})
# Uncompressed, JPEG, LZW, JPEG XR, zstd (0 and 1); 100 and above: camera-specific
COMPRESSIONS = frozenset({0, 1, 2, 4, 5, 6})
MAX_DIMENSIONS = 20
# subblock headers read at open (each a read of its own in a large file)
HEADERS_READ = 4096
DIMENSION_NAMES = frozenset(b"XYZCTRIHVBSM")


def check_structure(path: str) -> None:
    """Refuse a CZI whose header, directory or segments libCZI could not walk safely.

    Parameters
    ----------
    path : str
        A local CZI file.

    Raises
    ------
    LightmicReadError
        Naming the field and its value.
    ValueError
        Text starting ``truncated:`` where the file ends before a structure it declares; or
        metadata XML larger than the XML limit, declaring a DTD, nesting too deep or not
        well formed (checked with the hardened parser before libCZI parses it).
    """
    size = os.path.getsize(path)
    if size < SEGMENT_HEADER + 80:
        raise ValueError("truncated: the file header is incomplete")
    # a read-only map, released when collected (an error's traceback may hold it a while)
    buf: npt.NDArray[np.uint8] = np.memmap(path, dtype=np.uint8, mode="r")
    try:
        xml = _check(buf[:SEGMENT_HEADER + 80].tobytes(), buf, size)
    except ValueError as exc:
        if str(exc).startswith("truncated: "):
            raise
        raise LightmicReadError(path, f"damaged CZI: {exc}") from None
    if xml is not None:  # libCZI's own XML parser takes minutes over deep nesting, drops DTDs
        start, length = xml
        refuse_large(length, "its metadata XML")
        parse_xml(buf[start:start + length].tobytes(), "the CZI metadata")


def _check(header: bytes, buf: npt.NDArray[np.uint8], size: int) -> tuple[int, int] | None:
    """Check the structure; where the metadata XML lies (start, length), if the file has one."""
    if not header.startswith(b"ZISRAWFILE"):
        raise ValueError("the file header segment is not ZISRAWFILE")
    directory, metadata = struct.unpack_from("<qq", header, SEGMENT_HEADER + 52)
    attachments = struct.unpack_from("<q", header, SEGMENT_HEADER + 72)[0]
    if not 0 < directory < size - SEGMENT_HEADER:
        raise ValueError("truncated: the subblock directory is missing")
    for name, position in (("metadata", metadata), ("attachment directory", attachments)):
        if position and not 0 < position <= size - SEGMENT_HEADER - 256:
            raise ValueError(f"the {name} position {position} is outside the file "
                             f"({size} bytes)")
    xml = _check_metadata(buf, metadata, size) if metadata else None
    _check_directory(buf, directory, size)
    return xml


def _segment(buf: npt.NDArray[np.uint8], position: int, sid: bytes, what: str,
             size: int) -> tuple[int, int]:
    """The allocated and used size of the segment at `position`, checked against the file."""
    head = buf[position:position + SEGMENT_HEADER].tobytes()
    if len(head) < SEGMENT_HEADER:
        raise ValueError(f"truncated: the {what} segment is incomplete")
    if head[:16].rstrip(b"\0") != sid:
        raise ValueError(f"the {what} segment at byte {position} is not {sid.decode()}")
    allocated, used = struct.unpack_from("<qq", head, 16)
    if allocated < 0 or used < 0:
        raise ValueError(f"the {what} segment declares sizes {allocated}, {used}")
    if position + SEGMENT_HEADER + used > size:
        raise ValueError(f"truncated: the {what} segment ({used} bytes) runs past the end "
                         f"of the file ({size} bytes)")
    return allocated, used


def _check_metadata(buf: npt.NDArray[np.uint8], position: int, size: int) -> tuple[int, int]:
    _, used = _segment(buf, position, b"ZISRAWMETADATA", "metadata", size)
    data = buf[position + SEGMENT_HEADER:position + SEGMENT_HEADER + 8].tobytes()
    if len(data) < 8:
        raise ValueError("truncated: the metadata segment is incomplete")
    xml_size, attachment_size = struct.unpack("<ii", data)
    end = position + SEGMENT_HEADER + 256 + xml_size + max(attachment_size, 0)
    if xml_size < 0 or attachment_size < 0 or end > size:
        raise ValueError(f"the metadata segment declares {xml_size} bytes of XML and "
                         f"{attachment_size} of attachment; the file has {size} bytes")
    return position + SEGMENT_HEADER + 256, xml_size


def _check_directory(buf: npt.NDArray[np.uint8], position: int, size: int) -> None:
    _, used = _segment(buf, position, b"ZISRAWDIRECTORY", "subblock directory", size)
    start = position + SEGMENT_HEADER
    if used < 128 and used != 0:
        raise ValueError("the subblock directory segment is too small")
    count = struct.unpack("<i", buf[start:start + 4].tobytes())[0]
    first = start + 128
    if count < 0:
        raise ValueError(f"the subblock directory declares {count} entries")
    if first + count * _ENTRY.itemsize > size:
        raise ValueError(f"truncated: the subblock directory declares {count} entries, more "
                         "than the file holds")
    if count == 0:
        return
    ndims = int(np.frombuffer(buf[first:first + _ENTRY.itemsize].tobytes(), _ENTRY)["ndims"][0])
    entries, dims, owners = _entries_uniform(buf, first, count, ndims, size)
    if entries is None:
        entries, dims, owners = _entries_walked(buf, first, count)
    _check_entries(entries, buf, size)
    _check_dimensions(dims, owners)
    if np.all(entries["ndims"] == ndims):
        _check_copies(buf, entries, dims.reshape(count, ndims))


def _entries_uniform(buf: npt.NDArray[np.uint8], first: int, count: int, ndims: int,
                     size: int) -> tuple[Any, Any, Any]:
    """Every entry at once, where all have the first's dimension count (the usual case)."""
    if not 0 < ndims <= MAX_DIMENSIONS:
        raise ValueError(f"subblock directory entry 0: DimensionCount {ndims} (1 to "
                         f"{MAX_DIMENSIONS} expected)")
    stride = _ENTRY.itemsize + ndims * _DIMENSION.itemsize
    if first + count * stride > size:
        raise ValueError(f"truncated: the subblock directory ({count} entries) runs past the "
                         "end of the file")
    layout = np.dtype([("entry", _ENTRY), ("dims", _DIMENSION, (ndims,))])
    table = np.frombuffer(buf[first:first + count * stride].tobytes(), layout)
    if not np.all(table["entry"]["ndims"] == ndims):
        return None, None, None
    return table["entry"], table["dims"].reshape(-1), np.repeat(np.arange(count), ndims)


def _entries_walked(buf: npt.NDArray[np.uint8], first: int,
                    count: int) -> tuple[Any, Any, Any]:
    """Entries one by one, where their dimension counts differ."""
    entries = []
    dims = []
    owners = []
    offset = first
    for i in range(count):
        raw = buf[offset:offset + _ENTRY.itemsize].tobytes()
        if len(raw) < _ENTRY.itemsize:
            raise ValueError("truncated: the subblock directory is incomplete")
        entry = np.frombuffer(raw, _ENTRY)[0]
        ndims = int(entry["ndims"])
        if not 0 < ndims <= MAX_DIMENSIONS:
            raise ValueError(f"subblock directory entry {i}: DimensionCount {ndims} (1 to "
                             f"{MAX_DIMENSIONS} expected)")
        offset += _ENTRY.itemsize
        raw = buf[offset:offset + ndims * _DIMENSION.itemsize].tobytes()
        if len(raw) < ndims * _DIMENSION.itemsize:
            raise ValueError("truncated: the subblock directory is incomplete")
        entries.append(entry)
        dims.append(np.frombuffer(raw, _DIMENSION))
        owners.append(np.full(ndims, i))
        offset += ndims * _DIMENSION.itemsize
    return np.array(entries, dtype=_ENTRY), np.concatenate(dims), np.concatenate(owners)


def _refuse(index: int, what: str) -> None:
    raise ValueError(f"subblock directory entry {index}: {what}")


def _check_entries(entries: Table, buf: npt.NDArray[np.uint8], size: int) -> None:
    refuse = _refuse

    bad = np.flatnonzero(entries["schema"] != b"DV")
    if bad.size:
        refuse(int(bad[0]), f"schema {entries['schema'][bad[0]]!r} (DV expected)")
    bad = np.flatnonzero(~np.isin(entries["pixel_type"], list(PIXEL_TYPES)))
    if bad.size:
        refuse(int(bad[0]), f"PixelType {int(entries['pixel_type'][bad[0]])} is not one "
                            "libCZI knows")
    compression = entries["compression"]
    bad = np.flatnonzero(~np.isin(compression, list(COMPRESSIONS)) & (compression < 100))
    if bad.size:
        refuse(int(bad[0]), f"Compression {int(compression[bad[0]])} is not one libCZI knows")
    positions = entries["position"]
    bad = np.flatnonzero((positions < SEGMENT_HEADER) | (positions > size - SEGMENT_HEADER - 256))
    if bad.size:
        refuse(int(bad[0]), f"FilePosition {int(positions[bad[0]])} is outside the file "
                            f"({size} bytes)")
    # each subblock's own header: its id, and its data within the file
    sample = _sample(positions)
    heads = buf[positions[sample, None] + np.arange(SEGMENT_HEADER + 16)]
    sid = np.frombuffer(b"ZISRAWSUBBLOCK\0\0", np.uint8)
    bad = sample[~np.all(heads[:, :16] == sid, axis=1)]
    if bad.size:
        refuse(int(bad[0]), f"no subblock at FilePosition {int(positions[bad[0]])}")
    used = heads[:, 24:32].copy().view("<i8")[:, 0]
    data_size = heads[:, 40:48].copy().view("<i8")[:, 0]
    bad = sample[(used < 0) | (positions[sample] + SEGMENT_HEADER + used > size)
                 | (data_size < 0) | (data_size > size)]
    if bad.size:
        raise ValueError("truncated: pixel data is missing from the end of the file "
                         f"(subblock directory entry {int(bad[0])})")


def _sample(positions: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """The entries whose subblock headers are read: all, or the first and last by position.

    A header is a read at a place of its own: at most `HEADERS_READ` of them, the last
    subblock (where a truncated file ends) always among them.
    """
    if positions.size <= HEADERS_READ:
        return np.arange(positions.size)
    order = np.argsort(positions, kind="stable")
    return np.sort(np.concatenate([order[:HEADERS_READ // 2], order[-HEADERS_READ // 2:]]))


def _check_dimensions(dims: Table, owners: npt.NDArray[np.intp]) -> None:
    """Each dimension entry: a known name, sizes not negative, an end within int32."""
    first = np.ascontiguousarray(dims["name"]).view(np.uint8).reshape(-1, 4)[:, 0]
    bad = np.flatnonzero(~np.isin(first, list(DIMENSION_NAMES)))
    if bad.size:
        _refuse(int(owners[bad[0]]), f"dimension name {bytes(dims['name'][bad[0]])!r}")
    names = dims["name"]
    bad = np.flatnonzero((dims["size"] < 0) | (dims["stored"] < 0))
    if bad.size:
        k = bad[0]
        _refuse(int(owners[k]), f"dimension {names[k].decode(errors='replace')} has size "
                                f"{int(dims['size'][k])}, stored size {int(dims['stored'][k])}")
    ends = dims["start"].astype(np.int64) + dims["size"].astype(np.int64)
    bad = np.flatnonzero(ends > np.iinfo(np.int32).max)
    if bad.size:
        k = bad[0]
        _refuse(int(owners[k]), f"dimension {names[k].decode(errors='replace')} starts at "
                                f"{int(dims['start'][k])}, beyond the range of positions")


def _check_copies(buf: npt.NDArray[np.uint8], entries: Table, dims: Table) -> None:
    """Each subblock repeats its directory entry: libCZI refuses a read where they differ."""
    ndims = dims.shape[1]
    layout = np.dtype([("entry", _ENTRY), ("dims", _DIMENSION, (ndims,))])
    sample = _sample(entries["position"])
    entries, dims = entries[sample], dims[sample]
    at = entries["position"][:, None] + SEGMENT_HEADER + 16 + np.arange(layout.itemsize)
    copies = np.ascontiguousarray(buf[at]).view(layout)[:, 0]
    same = ((copies["entry"]["pixel_type"] == entries["pixel_type"])
            & (copies["entry"]["compression"] == entries["compression"])
            & (copies["entry"]["ndims"] == entries["ndims"]))
    for field in ("name", "start", "size", "stored"):
        same &= np.all(copies["dims"][field] == dims[field], axis=1)
    bad = sample[~same]
    if bad.size:
        _refuse(int(bad[0]), "the directory and the subblock it points to disagree (pixel "
                             "type, compression or position)")
