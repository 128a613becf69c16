"""Seeded mutations of a microscopy dataset: a pristine copy in, a damaged copy out.

Every function here is pure given its inputs: the same source, kind and seed give the same
damaged copy, so a failing case is replayed from its recipe (see run.py). Nothing is written
outside the folder a case is given; the shared test data is only ever read.

Kinds of mutation (`KINDS`):

truncate
    cut a file of the dataset at a random offset or at a structural one (a header field).
flip
    flip a few random bits, anywhere or near a structural offset.
zero
    zero a block (16 B to 4 KiB), anywhere or at a structural offset.
header
    set one header field to an edge value (0, -1, 2**31-1, a random number): TIFF IFD entries
    (type, count, value), CZI file header, segment headers, directory entries and subblock
    headers, HDF5 superblock and object signatures, PNG chunk lengths and IHDR fields (CRC
    mended half the time), JPEG segment lengths and SOF fields, ND2 chunk headers, LIF block
    headers, zarr.json / .zarray / .zattrs fields (any JSON leaf set to a hostile value).
huge
    a declared size made huge: image width and height, bytes counts, CZI sizes and counts,
    ND2 chunk lengths, LIF memory block sizes, OME-XML SizeX/Y/Z, LSM dimensions, PNG IHDR
    and an APNG frame count, JPEG SOF, zarr shapes with chunks of 1, HDF5 datasets of
    10**9 x 10**9 with (1, 1) chunks, Imaris and BigDataViewer sizes (also NaN and inf).
hostile
    hostile XML where the format keeps XML (CZI metadata segment, LIF header, BigDataViewer
    XML, OME-TIFF description, OME-Zarr OME/METADATA.ome.xml): DTDs with internal or external
    entities, a billion laughs, a DTD after 4 KiB of comment, 100,000-deep nesting, XML cut
    in half; and JSON nested 100,000 deep in a zarr.json.
special
    a FIFO, a symbolic link to /dev/zero, a folder or a link loop in place of a part of the
    dataset: the sidecar (NAME.lightmic.json), the file itself, another file of a multi-file
    set, a zarr chunk, zarr.json, .zgroup or OME/METADATA.ome.xml, a BigDataViewer .h5 or
    another *.xml beside it.
name
    the pristine dataset under an odd name (long, spaces, unicode, emoji, newline, bytes
    that are not UTF-8, a leading dash, quotes): it must open.
outside
    an HDF5 dataset whose raw storage is another file (h5py's ``external=``): must be
    refused, never read.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("truncate", "flip", "zero", "header", "huge", "hostile", "special", "name", "outside")
TESTDATA = Path(os.environ.get("LIGHTMIC_TESTDATA",
                               Path(__file__).resolve().parents[3] / "shared" / "testdata"))
SIDECAR = ".lightmic.json"


@dataclass(frozen=True)
class Source:
    """One dataset to damage: `make(folder)` writes a pristine copy and gives the path to open."""

    family: str
    name: str
    make: Callable[[Path], Path]
    multi: bool = False  # several files (or a folder) make the dataset


@dataclass(frozen=True)
class Field:
    """A header field: where it is, how wide, its byte order and what it is."""

    offset: int
    size: int
    label: str
    order: str = "<"


@dataclass(frozen=True)
class Mutation:
    """A damaged copy: the path to open and what was done (one line)."""

    path: Path
    detail: str


# -- sources --------------------------------------------------------------------------------

def _copy(relpath: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        target = folder / Path(relpath).name
        shutil.copyfile(TESTDATA / relpath, target)
        return target
    return make


def _bdv(folder: Path) -> Path:
    for name in ("demoSlice.h5", "demoSlice.xml"):
        shutil.copyfile(TESTDATA / "hdf5" / "bdv" / name, folder / name)
    return folder / "demoSlice.xml"


def _micromanager(folder: Path) -> Path:
    for gz in sorted((TESTDATA / "ometiff" / "micromanager_1.4_multifile").glob("*.gz")):
        with gzip.open(gz) as src, open(folder / gz.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    return folder / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"


def _zarr(version: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        from tests.reading.zarr_fixtures import write_ome_zarr

        path = folder / "image.ome.zarr"
        write_ome_zarr(path, version)
        return path
    return make


def _png(folder: Path) -> Path:
    from PIL import Image

    data = np.random.default_rng(2).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    path = folder / "image.png"
    Image.fromarray(data).save(path)
    return path


def _jpeg(folder: Path) -> Path:
    from PIL import Image

    data = np.random.default_rng(3).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    path = folder / "image.jpg"
    Image.fromarray(data).save(path, quality=90)
    return path


def _hdf5(folder: Path) -> Path:
    import h5py

    path = folder / "image.h5"
    data = np.random.default_rng(4).integers(0, 4000, (3, 64, 64), dtype=np.uint16)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("volume", data=data, chunks=(1, 32, 32), compression="gzip")
        ds.attrs["element_size_um"] = (2.0, 0.5, 0.5)
        f.create_dataset("group/plane", data=data[0], chunks=(16, 16))
    return path


SOURCES: tuple[Source, ...] = (
    Source("czi", "czi/DAPI_GFP.czi", _copy("czi/DAPI_GFP.czi")),
    Source("czi", "czi/xyz__multiple_images.czi", _copy("czi/xyz__multiple_images.czi")),
    Source("lif", "lif/LeicaLASX_wavelength-sweep_example.lif",
           _copy("lif/LeicaLASX_wavelength-sweep_example.lif")),
    Source("nd2", "nd2/example-cerevisiae.nd2", _copy("nd2/example-cerevisiae.nd2")),
    Source("lsm", "lsm/test.lsm", _copy("lsm/test.lsm")),
    Source("ometiff", "ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff",
           _copy("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff")),
    Source("ometiff", "ometiff/micromanager_1.4_multifile", _micromanager, multi=True),
    Source("tiff", "tiff/CH3_Fluorescence_8bit.tif", _copy("tiff/CH3_Fluorescence_8bit.tif")),
    Source("tiff", "tiff/Fluorescence_RGB.tif", _copy("tiff/Fluorescence_RGB.tif")),
    Source("ims", "ims/Minimal_IMS_File.ims", _copy("ims/Minimal_IMS_File.ims")),
    Source("bdv", "hdf5/bdv/demoSlice.xml", _bdv, multi=True),
    Source("zarr", "synthetic/image-0.5.ome.zarr", _zarr("0.5"), multi=True),
    Source("zarr", "synthetic/image-0.4.ome.zarr", _zarr("0.4"), multi=True),
    Source("png", "synthetic/image.png", _png),
    Source("jpeg", "synthetic/image.jpg", _jpeg),
    Source("hdf5", "synthetic/image.h5", _hdf5),
)
FAMILIES = tuple(dict.fromkeys(s.family for s in SOURCES))
XML_FAMILIES = {"czi", "lif", "bdv", "ometiff", "zarr"}
SYNTHETIC = {"zarr", "png", "jpeg", "hdf5"}


def available(source: Source) -> bool:
    """Whether the source can be made here (synthetic ones always; shared ones when present)."""
    if source.family in SYNTHETIC:
        return True
    return (TESTDATA / source.name).exists()


def kinds_for(family: str) -> tuple[str, ...]:
    """The mutation kinds that apply to a family."""
    return tuple(k for k in KINDS
                 if (k != "hostile" or family in XML_FAMILIES)
                 and (k != "outside" or family == "hdf5"))


# -- helpers --------------------------------------------------------------------------------

EDGE = (0, 1, 0xFF, 0x7F, 0xFFFF, 0x7FFF, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1 << 62)


def _put(path: Path, field: Field, value: int) -> None:
    value &= (1 << (8 * field.size)) - 1
    raw = value.to_bytes(field.size, "little" if field.order == "<" else "big")
    with open(path, "r+b") as fh:
        fh.seek(field.offset)
        fh.write(raw)


def _edge(rng: random.Random, size: int) -> int:
    if rng.random() < 0.25:
        return rng.getrandbits(8 * size)
    return rng.choice([v for v in EDGE if v < (1 << (8 * size))] or [0])


def _parts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _target(main: Path, folder: Path, rng: random.Random) -> Path:
    """The file of the dataset to damage: the main file mostly, any part sometimes."""
    parts = _parts(folder)
    if main.is_file() and (rng.random() < 0.7 or len(parts) == 1):
        return main
    return rng.choice(parts)


def _rel(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


# -- structure: header fields per format ----------------------------------------------------

def fields(path: Path) -> list[Field]:
    """The header fields of a file this module knows, by its leading bytes."""
    head = path.read_bytes()[:16]
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _tiff_fields(path)
    if head.startswith(b"ZISRAWFILE"):
        return _czi_fields(path)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return _hdf5_fields(path)
    if head.startswith(b"\x89PNG"):
        return _png_fields(path)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_fields(path)
    if head[:4] == b"\xda\xce\xbe\x0a":
        return _nd2_fields(path)
    if head[:4] == b"\x70\x00\x00\x00":
        return _lif_fields(path)
    return []


def _tiff_fields(path: Path) -> list[Field]:
    import tifffile

    out: list[Field] = []
    with tifffile.TiffFile(path) as tif:
        order, wide = tif.byteorder, 8 if tif.is_bigtiff else 4
        for index in range(min(3, len(tif.pages))):
            page = tif.pages[index]
            for tag in getattr(page, "tags", {}).values():
                entry, name = tag.offset, f"page {index} tag {tag.code}"
                out += [Field(entry + 2, 2, f"{name} type", order),
                        Field(entry + 4, wide, f"{name} count", order),
                        Field(entry + 4 + wide, wide, f"{name} value", order)]
    return out


def _tiff_sizes(path: Path) -> list[Field]:
    """TIFF fields that declare sizes: width, length, bits, samples, byte counts; LSM dims."""
    import tifffile

    out: list[Field] = []
    with tifffile.TiffFile(path) as tif:
        order = tif.byteorder
        page = tif.pages[0]
        for tag in page.tags.values():
            if tag.code in (256, 257, 258, 277, 279, 325, 322, 323) and tag.count >= 1:
                size = max(1, tag.valuebytecount // max(1, tag.count))
                out.append(Field(tag.valueoffset, size, f"tag {tag.code}", order))
            if tag.code == 34412:  # CZ_LSMINFO: DimensionX, Y, Z, Channels, Time
                for i, dim in enumerate(("X", "Y", "Z", "Channels", "Time")):
                    out.append(Field(tag.valueoffset + 8 + 4 * i, 4, f"LSM Dimension{dim}",
                                     order))
    return out


def _czi_segments(data: bytes) -> list[tuple[int, bytes]]:
    segments, offset = [], 0
    while offset + 32 <= len(data) and len(segments) < 10_000:
        ident = data[offset:offset + 16].rstrip(b"\x00")
        if not ident.startswith(b"ZISRAW") and ident != b"DELETED":
            break
        segments.append((offset, ident))
        allocated = struct.unpack_from("<q", data, offset + 16)[0]
        if allocated <= 0:
            break
        offset += 32 + allocated
    return segments


def _czi_entry(entry: int, label: str) -> list[Field]:
    out = [Field(entry + 2, 4, f"{label} PixelType"), Field(entry + 6, 8, f"{label} FilePosition"),
           Field(entry + 14, 4, f"{label} FilePart"), Field(entry + 18, 4, f"{label} Compression"),
           Field(entry + 22, 1, f"{label} PyramidType"),
           Field(entry + 28, 4, f"{label} DimensionCount")]
    for d in range(3):
        base = entry + 32 + 20 * d
        out += [Field(base + 4, 4, f"{label} dim {d} Start"),
                Field(base + 8, 4, f"{label} dim {d} Size"),
                Field(base + 16, 4, f"{label} dim {d} StoredSize")]
    return out


def _czi_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    out = [Field(84, 8, "DirectoryPosition"), Field(92, 8, "MetadataPosition"),
           Field(104, 8, "AttachmentDirectoryPosition"), Field(80, 4, "FilePart")]
    for offset, ident in _czi_segments(data)[:200]:
        name = ident.decode("ascii", "replace")
        out += [Field(offset + 16, 8, f"{name}@{offset} AllocatedSize"),
                Field(offset + 24, 8, f"{name}@{offset} UsedSize")]
        if ident == b"ZISRAWDIRECTORY":
            out.append(Field(offset + 32, 4, "directory EntryCount"))
            entry = offset + 160
            for i in range(min(4, struct.unpack_from("<i", data, offset + 32)[0])):
                out += _czi_entry(entry, f"directory entry {i}")
                entry += 32 + 20 * struct.unpack_from("<i", data, entry + 28)[0]
        elif ident == b"ZISRAWSUBBLOCK":
            out += [Field(offset + 32, 4, f"subblock@{offset} MetadataSize"),
                    Field(offset + 36, 4, f"subblock@{offset} AttachmentSize"),
                    Field(offset + 40, 8, f"subblock@{offset} DataSize")]
            out += _czi_entry(offset + 48, f"subblock@{offset} entry")
        elif ident == b"ZISRAWMETADATA":
            out += [Field(offset + 32, 4, "metadata XmlSize"),
                    Field(offset + 36, 4, "metadata AttachmentSize")]
        elif ident == b"ZISRAWATTDIR":
            out.append(Field(offset + 32, 4, "attachment directory EntryCount"))
    return out


def _czi_sizes(path: Path) -> list[Field]:
    keep = ("Size", "Count", "DataSize", "MetadataSize", "XmlSize", "StoredSize")
    return [f for f in _czi_fields(path) if f.label.endswith(keep)]


HDF5_SIGNATURES = (b"OHDR", b"TREE", b"HEAP", b"SNOD", b"BTHD", b"FRHP", b"GCOL", b"FSHD",
                   b"BTIN", b"BTLF", b"OCHK", b"FHDB", b"FHIB", b"FSSE")


def _hdf5_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    version = data[8]
    if version in (0, 1):
        out = [Field(8, 1, "superblock version"), Field(13, 1, "size of offsets"),
               Field(14, 1, "size of lengths"), Field(16, 2, "group leaf K"),
               Field(18, 2, "group internal K"), Field(24, 8, "base address"),
               Field(40, 8, "end of file address"), Field(56, 8, "root link name offset"),
               Field(64, 8, "root object header address")]
    else:
        out = [Field(8, 1, "superblock version"), Field(9, 1, "size of offsets"),
               Field(10, 1, "size of lengths"), Field(12, 8, "base address"),
               Field(28, 8, "end of file address"), Field(36, 8, "root object header address")]
    for sig in HDF5_SIGNATURES:
        for match in list(re.finditer(re.escape(sig), data))[:20]:
            for delta, size in ((4, 1), (5, 1), (6, 2), (8, 4), (8, 8), (16, 8)):
                out.append(Field(match.start() + delta, size,
                                 f"{sig.decode()}@{match.start()}+{delta}"))
    return out


def _png_chunks(data: bytes) -> list[tuple[int, int, bytes]]:
    chunks, offset = [], 8
    while offset + 12 <= len(data):
        length = struct.unpack_from(">I", data, offset)[0]
        chunks.append((offset, length, data[offset + 4:offset + 8]))
        offset += 12 + length
    return chunks


def _png_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    out = [Field(16, 4, "IHDR width", ">"), Field(20, 4, "IHDR height", ">"),
           Field(24, 1, "IHDR bit depth"), Field(25, 1, "IHDR colour type"),
           Field(26, 1, "IHDR compression"), Field(27, 1, "IHDR filter"),
           Field(28, 1, "IHDR interlace")]
    for offset, _, kind in _png_chunks(data):
        out.append(Field(offset, 4, f"{kind.decode('latin-1')}@{offset} length", ">"))
    return out


def _png_fix_crc(path: Path) -> None:
    import zlib

    data = bytearray(path.read_bytes())
    for offset, length, _ in _png_chunks(bytes(data)):
        end = offset + 8 + length
        if end + 4 <= len(data):
            data[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(data[offset + 4:end])))
    path.write_bytes(bytes(data))


def _jpeg_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    out, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        length = struct.unpack_from(">H", data, offset + 2)[0]
        out.append(Field(offset + 2, 2, f"marker {marker:02X} length", ">"))
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB):
            out += [Field(offset + 4, 1, "SOF precision"), Field(offset + 5, 2, "SOF height", ">"),
                    Field(offset + 7, 2, "SOF width", ">"), Field(offset + 9, 1, "SOF components")]
        elif marker in (0xC4, 0xDB, 0xDA, 0xDD):
            out.append(Field(offset + 4, 1, f"marker {marker:02X} first byte"))
        if marker == 0xDA:
            break
        offset += 2 + length
    return out


def _nd2_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    out = [Field(len(data) - 8, 8, "chunk map position")]
    for match in list(re.finditer(re.escape(b"\xda\xce\xbe\x0a"), data))[:60]:
        out += [Field(match.start() + 4, 4, f"chunk@{match.start()} name length"),
                Field(match.start() + 8, 8, f"chunk@{match.start()} data length")]
    return out


def _lif_fields(path: Path) -> list[Field]:
    data = path.read_bytes()
    out = [Field(4, 4, "header length"), Field(9, 4, "header XML characters")]
    for match in list(re.finditer(re.escape(b"\x70\x00\x00\x00"), data))[:60]:
        at = match.start()
        if at == 0 or at + 22 > len(data) or data[at + 8] != 0x2A:
            continue
        wide = 8 if data[at + 17] == 0x2A else 4
        out += [Field(at + 4, 4, f"block@{at} length"),
                Field(at + 9, wide, f"block@{at} memory size"),
                Field(at + 10 + wide, 4, f"block@{at} description characters")]
    return out


# -- zarr (JSON) ----------------------------------------------------------------------------

HOSTILE_JSON = (None, -1, 0, 2**63, 1e308, "", "x" * 10_000, [], {}, [[[]]], True, "../../..",
                float("nan"), float("inf"))


def _json_files(folder: Path) -> list[Path]:
    names = {"zarr.json", ".zarray", ".zattrs", ".zgroup"}
    return sorted(p for p in folder.rglob("*") if p.name in names)


def _json_leaves(doc: object, at: tuple = ()) -> list[tuple]:
    out = [at] if at else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _json_leaves(value, (*at, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:8]):
            out += _json_leaves(value, (*at, i))
    return out


def _json_set(doc: object, at: tuple, value: object) -> None:
    for key in at[:-1]:
        doc = doc[key]  # type: ignore[index]
    doc[at[-1]] = value  # type: ignore[index]


def _zarr_header(folder: Path, rng: random.Random) -> str:
    target = rng.choice(_json_files(folder))
    doc = json.loads(target.read_text())
    leaves = _json_leaves(doc)
    if not leaves:
        target.write_text(json.dumps(rng.choice(HOSTILE_JSON)))
        return f"{_rel(target, folder)} = hostile value"
    at = rng.choice(leaves)
    value = rng.choice(HOSTILE_JSON)
    _json_set(doc, at, value)
    target.write_text(json.dumps(doc))
    shown = repr(value) if not isinstance(value, str) or len(value) < 20 else "'x'*10000"
    return f"{_rel(target, folder)} {'/'.join(map(str, at))} = {shown}"


def _zarr_huge(folder: Path, rng: random.Random) -> str:
    arrays = [p for p in _json_files(folder) if p.name in (".zarray", "zarr.json")
              and "shape" in json.loads(p.read_text())]
    target = rng.choice(arrays)
    doc = json.loads(target.read_text())
    big = rng.choice((10**6, 10**9, 2**40))
    doc["shape"] = [big for _ in doc["shape"]]
    if "chunks" in doc:
        doc["chunks"] = [1 for _ in doc["chunks"]]
    elif "chunk_grid" in doc:
        doc["chunk_grid"]["configuration"]["chunk_shape"] = [1 for _ in doc["shape"]]
    target.write_text(json.dumps(doc))
    return f"{_rel(target, folder)} shape {big} per axis, chunks of 1"


# -- hostile XML ----------------------------------------------------------------------------

def _hostile_xml(original: str, rng: random.Random) -> tuple[str, str]:
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", original, count=1).lstrip()
    root = re.search(r"<([A-Za-z_][\w:.-]*)", body)  # the first element, past comments
    name = root.group(1) if root else "r"
    choice = rng.choice(("dtd", "entities", "external", "late-dtd", "deep", "cut", "laughs"))
    decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if choice == "dtd":
        return "DTD with an internal entity", f'{decl}<!DOCTYPE {name} [<!ENTITY e "x">]>{body}'
    if choice == "entities":
        text = body.replace(">", ">&e;", 2) if ">" in body else body
        return "DTD and entity references", f'{decl}<!DOCTYPE {name} [<!ENTITY e "x">]>{text}'
    if choice == "external":
        text = body.replace(">", ">&xxe;", 2)
        return ("external entity naming /etc/passwd",
                f'{decl}<!DOCTYPE {name} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{text}')
    if choice == "late-dtd":
        pad = "<!--" + " " * 5000 + "-->"
        return ("DTD after 5 kB of comment",
                f'{decl}{pad}<!DOCTYPE {name} [<!ENTITY e "x">]>{body}')
    if choice == "deep":
        depth = 100_000
        return (f"{depth}-deep nesting",
                f"{decl}<{name}>" + "<a>" * depth + "</a>" * depth + f"</{name}>")
    if choice == "laughs":
        ents = '<!ENTITY l0 "lol">' + "".join(
            f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        return ("a billion laughs",
                f"{decl}<!DOCTYPE {name} [{ents}]><{name}>&l9;</{name}>")
    return "XML cut in half", decl + body[: len(body) // 2]


def _czi_hostile(path: Path, rng: random.Random) -> str:
    data = path.read_bytes()
    position = struct.unpack_from("<q", data, 92)[0]
    xml_size = struct.unpack_from("<i", data, position + 32)[0]
    original = data[position + 288:position + 288 + xml_size].decode("utf-8", "replace")
    what, text = _hostile_xml(original, rng)
    xml = text.encode("utf-8")
    start = (len(data) + 31) // 32 * 32
    allocated = (256 + len(xml) + 31) // 32 * 32
    segment = (b"ZISRAWMETADATA".ljust(16, b"\x00") + struct.pack("<qq", allocated, allocated)
               + struct.pack("<ii", len(xml), 0).ljust(256, b"\x00") + xml)
    out = bytearray(data) + b"\x00" * (start - len(data)) + segment.ljust(32 + allocated, b"\x00")
    struct.pack_into("<q", out, 92, start)
    path.write_bytes(bytes(out))
    return f"metadata segment: {what}"


def _lif_hostile(path: Path, rng: random.Random) -> str:
    data = path.read_bytes()
    chars = struct.unpack_from("<i", data, 9)[0]
    original = data[13:13 + 2 * chars].decode("utf-16-le", "replace")
    what, text = _hostile_xml(original, rng)
    xml = text.encode("utf-16-le")
    head = (b"\x70\x00\x00\x00" + struct.pack("<i", 5 + len(xml)) + b"\x2a"
            + struct.pack("<i", len(xml) // 2))
    path.write_bytes(head + xml + data[13 + 2 * chars:])
    return f"header XML: {what}"


def _tiff_hostile(path: Path, rng: random.Random) -> str:
    import tifffile

    original = tifffile.tiffcomment(path)
    if isinstance(original, bytes):
        original = original.decode("utf-8", "replace")
    what, text = _hostile_xml(original or "<OME/>", rng)
    tifffile.tiffcomment(path, text.encode("utf-8"))
    return f"ImageDescription: {what}"


def _zarr_hostile(folder: Path, rng: random.Random) -> str:
    if rng.random() < 0.3:
        target = rng.choice(_json_files(folder))
        depth = 100_000
        target.write_text("[" * depth + "]" * depth)
        return f"{_rel(target, folder)}: JSON {depth} deep"
    root = next(p for p in folder.iterdir() if p.is_dir())
    what, text = _hostile_xml('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
                              '<Image ID="Image:0"/></OME>', rng)
    (root / "OME").mkdir(exist_ok=True)
    (root / "OME" / "METADATA.ome.xml").write_text(text)
    meta = root / "zarr.json" if (root / "zarr.json").exists() else root / ".zattrs"
    doc = json.loads(meta.read_text())
    attrs = doc.setdefault("attributes", {}) if meta.name == "zarr.json" else doc
    attrs["bioformats2raw.layout"] = 3
    meta.write_text(json.dumps(doc))
    return f"OME/METADATA.ome.xml: {what}"


# -- special files and names ----------------------------------------------------------------

def _special(main: Path, folder: Path, source: Source, rng: random.Random) -> str:
    places: list[Path] = [Path(str(main) + SIDECAR), main]
    if source.family == "zarr":
        places += [p for p in main.rglob("*") if p.is_file()]
        places.append(main / "OME" / "METADATA.ome.xml")
    elif source.multi:
        places += [p for p in _parts(folder) if p != main]
    if source.family == "bdv":
        places.append(folder / "another.xml")
    place = rng.choice(places)
    if place == main and main.is_dir():
        place = rng.choice([p for p in main.rglob("*") if p.is_file()])
    what = rng.choice(("FIFO", "link to /dev/zero", "folder", "link loop"))
    if place.is_dir():
        shutil.rmtree(place)
    elif place.exists() or place.is_symlink():
        place.unlink()
    place.parent.mkdir(parents=True, exist_ok=True)
    if what == "FIFO":
        os.mkfifo(place)
    elif what == "link to /dev/zero":
        place.symlink_to("/dev/zero")
    elif what == "folder":
        place.mkdir()
    else:
        place.symlink_to(place.name)
    return f"{what} as {_rel(place, folder)}"


ODD_NAMES = (
    ("long", None),
    ("spaces", "a name  with spaces"),
    ("unicode", "Zellkern é ü 細胞"),
    ("emoji", "cells 🔬🧫"),
    ("newline", "two\nlines"),
    ("not UTF-8", os.fsdecode(b"bytes \xff\xfe here")),
    ("leading dash", "-rf"),
    ("quotes", "it's \"quoted\"; $(x)"),
    ("percent", "%s%n%x"),
    ("tab", "a\tb"),
)


def _odd_name(rng: random.Random, suffix: str) -> tuple[str, str]:
    label, stem = rng.choice(ODD_NAMES)
    if stem is None:
        limit = 255 - len(os.fsencode(suffix))
        stem = "n" * rng.randint(min(200, limit), limit)
        label = f"long ({len(os.fsencode(stem + suffix))} bytes)"
    return label, stem + suffix


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in (".ome.tiff", ".ome.tif", ".ome.zarr"):
        if name.endswith(ext):
            return path.name[-len(ext):]
    return path.suffix


def _rename(main: Path, folder: Path, source: Source, rng: random.Random) -> tuple[Path, str]:
    if source.multi and source.family != "zarr":
        # files of a set name each other: the folder holding them gets the odd name
        label, name = _odd_name(rng, "")
        target = folder.parent / name
        folder.rename(target)
        return target / main.name, f"folder named: {label}"
    label, name = _odd_name(rng, _suffix(main))
    target = main.with_name(name)
    main.rename(target)
    return target, f"named: {label}"


def _outside(main: Path) -> str:
    import h5py

    with h5py.File(main, "a") as f:
        f.create_dataset("borrowed", shape=(16, 64), dtype="u1",
                         external=[("/etc/passwd", 0, 1024)])
    return "a dataset whose raw storage is /etc/passwd"


# -- the mutations --------------------------------------------------------------------------

def _offset(path: Path, rng: random.Random) -> tuple[int, str]:
    size = path.stat().st_size
    structural = fields(path) if rng.random() < 0.5 else []
    if structural:
        f = rng.choice(structural)
        return min(f.offset + rng.choice((0, f.size)), size), f"at {f.label}"
    return rng.randrange(max(1, size)), "at random"


def _bytes_kind(kind: str, target: Path, rng: random.Random) -> str:
    size = target.stat().st_size
    if size == 0:
        return "empty file left as is"
    offset, where = _offset(target, rng)
    if kind == "truncate":
        with open(target, "r+b") as fh:
            fh.truncate(offset)
        return f"cut at byte {offset} ({where})"
    data = bytearray(target.read_bytes())
    if kind == "flip":
        count = rng.randint(1, 16)
        for _ in range(count):
            at = min(size - 1, max(0, offset + rng.randint(-64, 64))) if where != "at random" \
                else rng.randrange(size)
            data[at] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
        return f"{count} bits flipped near byte {offset} ({where})"
    length = rng.choice((16, 64, 512, 4096))
    data[offset:offset + length] = bytes(len(data[offset:offset + length]))
    target.write_bytes(bytes(data))
    return f"{length} bytes zeroed at byte {offset} ({where})"


def _header(main: Path, folder: Path, source: Source, rng: random.Random) -> str:
    if source.family == "zarr":
        return _zarr_header(folder, rng)
    target = _target(main, folder, rng)
    found = fields(target)
    if not found:
        return _bytes_kind("flip", target, rng)
    f = rng.choice(found)
    value = _edge(rng, f.size)
    _put(target, f, value)
    mended = ""
    if source.family == "png" and rng.random() < 0.5:
        _png_fix_crc(target)
        mended = ", CRC mended"
    return f"{_rel(target, folder)} {f.label} = {value}{mended}"


def _huge(main: Path, folder: Path, source: Source, rng: random.Random) -> str:  # noqa: C901
    family = source.family
    if family == "zarr":
        return _zarr_huge(folder, rng)
    if family == "hdf5":
        import h5py

        with h5py.File(main, "a") as f:
            f.create_dataset("huge", shape=(10**9, 10**9), chunks=(1, 1), dtype="u2")
        return "a dataset of 10**9 x 10**9 with (1, 1) chunks"
    if family == "ims":
        import h5py

        key, value = rng.choice((("X", b"1000000000"), ("Y", b"2147483647"), ("Z", b"1000000"),
                                 ("ExtMax0", b"inf"), ("ExtMin1", b"nan"), ("X", b"-5")))
        with h5py.File(main, "a") as f:
            info = f["DataSetInfo/Image"]
            info.attrs[key] = np.frombuffer(value, dtype="S1")
        return f"DataSetInfo/Image {key} = {value.decode()}"
    if family == "bdv":
        text = main.read_text()
        pattern, value = rng.choice(((r"<size>[^<]*</size>", "<size>1000000 1000000 1000</size>"),
                                     (r"<last>[^<]*</last>", "<last>2000000000</last>"),
                                     (r"<size>[^<]*</size>", "<size>NaN inf 1</size>"),
                                     (r"<voxelSize>(\s*<unit>[^<]*</unit>)?\s*<size>[^<]*</size>",
                                      "<voxelSize><unit>um</unit><size>nan inf -0</size>")))
        main.write_text(re.sub(pattern, value, text, count=1))
        return f"XML {value}"
    if family == "ometiff" and rng.random() < 0.5:
        import tifffile

        text = tifffile.tiffcomment(main)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        axis = rng.choice("XYZCT")
        value = rng.choice(("1000000", "2147483647", "0", "-1"))
        tifffile.tiffcomment(main, re.sub(rf'Size{axis}="\d+"', f'Size{axis}="{value}"',
                                          text).encode())
        return f"OME-XML Size{axis}={value}"
    if family == "png" and rng.random() < 0.4:
        data = main.read_bytes()
        body = b"acTL" + struct.pack(">II", 2**31 - 1, 0)
        import zlib

        chunk = struct.pack(">I", 8) + body + struct.pack(">I", zlib.crc32(body))
        main.write_bytes(data[:33] + chunk + data[33:])
        return "acTL declaring 2**31-1 frames"
    sizes = {"czi": _czi_sizes, "tiff": _tiff_sizes, "lsm": _tiff_sizes,
             "ometiff": _tiff_sizes}.get(family)
    found = sizes(main) if sizes else [
        f for f in fields(main)
        if any(w in f.label for w in ("width", "height", "length", "size", "characters"))]
    f = rng.choice(found)
    value = rng.choice([v for v in (10**6, 2**31 - 1, 2**32 - 1, 2**62, 2**63 - 1, 65535)
                        if v < (1 << (8 * f.size))])
    _put(main, f, value)
    if family == "png":
        _png_fix_crc(main)
    return f"{f.label} = {value}"


def _hostile(main: Path, folder: Path, source: Source, rng: random.Random) -> str:
    if source.family == "czi":
        return _czi_hostile(main, rng)
    if source.family == "lif":
        return _lif_hostile(main, rng)
    if source.family == "ometiff":
        return _tiff_hostile(main, rng)
    if source.family == "zarr":
        return _zarr_hostile(folder, rng)
    what, text = _hostile_xml(main.read_text(), rng)  # BigDataViewer XML
    main.write_text(text)
    return f"XML: {what}"


def mutate(source: Source, kind: str, seed: str, folder: Path) -> Mutation:
    """A damaged copy of `source` in `folder` (made there), by `kind`, seeded by `seed`.

    Parameters
    ----------
    source : Source
        What to copy (a shared file, or a synthetic one made here).
    kind : str
        One of `KINDS` that applies to the source's family (`kinds_for`).
    seed : str
        Any text: the same seed gives the same damage.
    folder : Path
        An empty folder; the dataset is made in its subfolder ``data``.

    Returns
    -------
    Mutation
        The path to open and what was done.
    """
    rng = random.Random(f"{seed}/{source.name}/{kind}")
    data = folder / "data"
    data.mkdir(parents=True)
    main = source.make(data)
    if kind in ("truncate", "flip", "zero"):
        target = _target(main, data, rng)
        detail = f"{_rel(target, data)}: {_bytes_kind(kind, target, rng)}"
    elif kind == "header":
        detail = _header(main, data, source, rng)
    elif kind == "huge":
        detail = _huge(main, data, source, rng)
    elif kind == "hostile":
        detail = _hostile(main, data, source, rng)
    elif kind == "special":
        detail = _special(main, data, source, rng)
    elif kind == "name":
        main, detail = _rename(main, data, source, rng)
    elif kind == "outside":
        detail = _outside(main)
    else:
        raise ValueError(f"unknown mutation kind {kind!r}")
    return Mutation(main, detail)
