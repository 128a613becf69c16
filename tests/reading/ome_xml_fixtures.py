"""Tiny OME-TIFFs whose OME-XML is a sample document of the OME-XML corpus (tests/data/ome-xml).

`build(xml_path, folder)` writes the file (or, for an OME-TIFF set, the files) that the
document describes: the first page of each file holds the XML as its ImageDescription, and
each page addressed by a TiffData is a plane of its image's SizeX, SizeY and Type with values
unique to the page (so a plane read from the wrong page shows). What the document says is
kept, with two changes, both reported in `Fixture.changes`:

- planes larger than MAX_SIDE are shrunk (SizeX, SizeY set to at most MAX_SIDE); nothing else
  about the image changes;
- an image stored as BinData, marked MetadataOnly or with no pixel data element at all is
  given one TiffData addressing consecutive pages of the file (BinData decoded would often not
  fit the Pixels: the samples' BinData disagree with their sizes), so that every image of the
  document has pixels in the TIFF.

In an OME-TIFF set (TiffData with UUID FileName), every file is written, each with the whole
document and its own UUID as the root UUID, as Bio-Formats writes them.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from lxml import etree

MAX_SIDE = 32
DTYPES = {"int8": "i1", "int16": "<i2", "int32": "<i4", "uint8": "u1", "uint16": "<u2",
          "uint32": "<u4", "float": "<f4", "double": "<f8"}
DATA_ELEMENTS = ("BinData", "MetadataOnly", "TiffData")
MAIN_FILE = "corpus.ome.tif"


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def read_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@dataclass
class ImagePlan:
    """What one Image's Pixels say, after the fixture's changes."""

    shape: tuple[int, int]  # Y, X
    dtype: np.dtype
    order: str  # DimensionOrder, e.g. 'XYZCT'
    sizes: dict[str, int]  # Z, C, T (C in planes: SizeC / SamplesPerPixel)

    @property
    def planes(self) -> int:
        return self.sizes["Z"] * self.sizes["C"] * self.sizes["T"]

    def plane_zct(self, index: int) -> tuple[int, int, int]:
        """Z, C, T of a plane index in the image's DimensionOrder."""
        axes = self.order[2:]  # e.g. 'ZCT': Z runs fastest
        out, rest = {}, index
        for axis in axes:
            out[axis], rest = rest % self.sizes[axis], rest // self.sizes[axis]
        return out["Z"], out["C"], out["T"]


@dataclass
class Fixture:
    path: Path  # the file to open
    xml: bytes  # the document as written into the file(s) opened
    files: dict[str, Path] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    # per image: the expected pixels as (T, C, Z, Y, X), zero where no page holds a plane
    expected: list[np.ndarray] = field(default_factory=list)


def _dtype(pixels) -> np.dtype:
    name = pixels.get("Type") or pixels.get("PixelType") or "uint8"
    return np.dtype(DTYPES.get(name, "u1"))


def _page_values(shape, dtype, key: int) -> np.ndarray:
    """A plane unique to its page: a ramp offset by the page's number."""
    values = (np.arange(shape[0] * shape[1]).reshape(shape) % 61 + 7 * key) % 120 + 1
    return values.astype(dtype)  # within int8


def build(xml_path: Path, folder: Path, *, keep_data_elements: bool = False) -> Fixture:
    """Write the OME-TIFF (set) for one corpus document into `folder`.

    With `keep_data_elements`, BinData and MetadataOnly stay as they are (no TiffData is
    added): the file is what a writer of such a header would produce.
    """
    root = etree.fromstring(read_text(xml_path))
    ns = etree.QName(root).namespace
    old_schema = ns.rsplit("/", 1)[-1] < "2010"
    changes: list[str] = []
    plans: list[ImagePlan] = []
    # (file name or None for the main file, IFD) -> [(image index, plane index)]
    pages: dict[tuple[str | None, int], list[tuple[int, int]]] = {}
    uuids: dict[str, str] = {}
    next_ifd = 0
    images = [e for e in root if local(e.tag) == "Image"]
    for i, image in enumerate(images):
        pixels = next((p for p in image if local(p.tag) == "Pixels"), None)
        if pixels is None:
            continue
        size_x, size_y = int(pixels.get("SizeX", 1)), int(pixels.get("SizeY", 1))
        if max(size_x, size_y) > MAX_SIDE:
            pixels.set("SizeX", str(min(size_x, MAX_SIDE)))
            pixels.set("SizeY", str(min(size_y, MAX_SIDE)))
            changes.append(f"image {i}: SizeX x SizeY {size_x} x {size_y} shrunk to "
                           f"{pixels.get('SizeX')} x {pixels.get('SizeY')}")
        channels = [c for c in pixels if local(c.tag) == "Channel"]
        spp = int(channels[0].get("SamplesPerPixel", 1)) if channels else 1
        plan = ImagePlan(shape=(int(pixels.get("SizeY")), int(pixels.get("SizeX"))),
                         dtype=_dtype(pixels), order=pixels.get("DimensionOrder", "XYZCT"),
                         sizes={"Z": int(pixels.get("SizeZ", 1)),
                                "C": max(int(pixels.get("SizeC", 1)) // spp, 1),
                                "T": int(pixels.get("SizeT", 1))})
        plans.append(plan)
        blocks = [e for e in pixels if local(e.tag) == "TiffData"]
        if not blocks and not keep_data_elements:
            data = [e for e in pixels if local(e.tag) in DATA_ELEMENTS]
            where = (pixels.index(data[0]) if data else
                     max([pixels.index(c) + 1 for c in channels], default=0))
            for element in data:
                pixels.remove(element)
            block = etree.Element(f"{{{ns}}}TiffData")
            block.set("IFD", str(next_ifd))
            block.set("NumPlanes" if old_schema else "PlaneCount", str(plan.planes))
            block.tail = "\n"
            pixels.insert(where, block)
            blocks = [block]
            what = "/".join(sorted({local(e.tag) for e in data})) or "no pixel data element"
            changes.append(f"image {i}: {what} replaced by TiffData IFD={next_ifd} "
                           f"PlaneCount={plan.planes}")
        for block in blocks:
            ifd = int(block.get("IFD", 0))
            count = block.get("PlaneCount", block.get("NumPlanes"))
            count = int(count) if count is not None else (1 if "IFD" in block.attrib
                                                          else plan.planes)
            first = {a: int(block.get(f"First{a}", 0)) for a in "ZCT"}
            start = _plane_index(plan, first)
            uuid = next((u for u in block if local(u.tag) == "UUID"), None)
            name = uuid.get("FileName") if uuid is not None else None
            if uuid is not None and name and uuid.text:
                uuids.setdefault(name, uuid.text.strip())
            for k in range(count):
                if start + k < plan.planes:
                    pages.setdefault((name, ifd + k), []).append((len(plans) - 1, start + k))
            next_ifd = max(next_ifd, ifd + count)
    # The file opened: the first one named, else MAIN_FILE. Pages of the main file addressed
    # without a UUID belong to it too.
    named = [n for n, _ in pages if n]
    main = named[0] if named else MAIN_FILE
    by_file: dict[str, dict[int, list[tuple[int, int]]]] = {}
    for (name, ifd), where in pages.items():
        by_file.setdefault(name or main, {}).setdefault(ifd, []).extend(where)
    by_file.setdefault(main, {})
    expected = [np.zeros((p.sizes["T"], p.sizes["C"], p.sizes["Z"], *p.shape), p.dtype)
                for p in plans]
    files = {}
    xml_main = b""
    for number, (name, assigned) in enumerate(sorted(by_file.items(),
                                                     key=lambda kv: kv[0] != main)):
        if name in uuids:
            root.set("UUID", uuids[name])
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        if name == main:
            xml_main = xml
        path = folder / name
        files[name] = path
        _write_file(path, xml, assigned, plans, expected, number)
    if len(files) > 1:
        changes.append(f"an OME-TIFF set of {len(files)} files, each with its own root UUID")
    return Fixture(path=files[main], xml=xml_main, files=files, changes=changes,
                   expected=expected)


def _plane_index(plan: ImagePlan, first: dict[str, int]) -> int:
    index, stride = 0, 1
    for axis in plan.order[2:]:
        index += first[axis] * stride
        stride *= plan.sizes[axis]
    return index


def _write_file(path, xml, assigned, plans, expected, number) -> None:
    import tifffile

    last = max(assigned, default=0)
    # pages no TiffData addresses (before or between addressed ones) look like the first
    # addressed page; a file addressed nowhere still holds one page for its XML
    filler = plans[assigned[min(assigned)][0][0]] if assigned else plans[0]
    with tifffile.TiffWriter(path) as tif:
        for ifd in range(last + 1):
            if ifd in assigned:
                plan = plans[assigned[ifd][0][0]]
                values = _page_values(plan.shape, plan.dtype, 1000 * number + ifd)
                for image, plane in assigned[ifd]:
                    z, c, t = plans[image].plane_zct(plane)
                    expected[image][t, c, z] = values
            else:
                plan = filler
                values = np.zeros(plan.shape, plan.dtype)
            tif.write(values, photometric="minisblack", metadata=None,
                      description=xml if ifd == 0 else None)
