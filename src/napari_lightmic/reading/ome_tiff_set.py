"""OME-TIFF sets read by the OME-TIFF specification's TiffData rules, where tifffile gives up.

Sets of one file per well, field or channel (LAS X Matrix Screener and others) often leave
`PlaneCount` out of their TiffData, and a copy of such a set is often incomplete. tifffile
then refuses the file ("OME series missing NumPlanes or PlaneCount"); Bio-Formats opens it.
Here each TiffData is read as the specification says: `IFD` defaults to 0 and `FirstZ/C/T`
to 0; `PlaneCount` defaults to 1 when `IFD` is given, else to every IFD of its file from
`IFD` on — and, for a file that is absent, to the planes up to the next TiffData, as the
Pixels need. Planes that no file holds read as zeros, and the scene's notes say which.
When the XML maps no plane at all, the file's own pages are taken in the Pixels' order.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

from .._xml import local, parse_xml, parse_xml_or_none
from ..model import Scene
from ..scene.axes import ChunkOrigin, chunked_array
from ..scene.budget import SizeRefused, shape_text
from .files import check_regular, is_regular

if TYPE_CHECKING:
    from collections.abc import Callable

    import tifffile
    from lxml import etree
    from ome_types import OME

Shape = tuple[int, int, int, int, int]  # T, C, Z, Y, X
Plane = tuple[int, int, int]  # t, c, z
Where = dict[Plane, tuple[str, int]]  # plane -> (file path, IFD)


class PlaneFiles:
    """The set's files, opened read-only as planes are read, closed with the source.

    At most `MAX_OPEN` are open at a time (a set can hold thousands of files). tifffile
    parses a page by seeking its file: each plane is read whole under one lock.
    """

    MAX_OPEN = 32

    def __init__(self, folder: str, root_uuid: str | None, opened_name: str) -> None:
        # every file opened afresh: tifffile's failed parse leaves the first one's pages
        # half set up
        self.folder = os.path.realpath(folder)
        self.root_uuid, self.opened_name = root_uuid, opened_name
        self.files: OrderedDict[str, tifffile.TiffFile] = OrderedDict()
        self.lock = threading.Lock()
        self.closed = False

    def path_of(self, name: str | None, uuid: str | None) -> str | None:
        """The file a TiffData names.

        The opened file for its own UUID (or no UUID), else its FileName inside the set's
        folder (subfolders allowed, never outside); None for a name outside it.
        """
        if not name or (uuid and uuid == self.root_uuid):
            return os.path.join(self.folder, self.opened_name)
        path = os.path.realpath(os.path.join(self.folder, name.replace("\\", "/")))
        if os.path.commonpath([path, self.folder]) != self.folder:
            return None  # a FileName that leaves the folder is not followed
        return path

    def exists(self, path: str | None) -> bool:
        """Whether `path` is a regular file (not a FIFO or device, which is never opened)."""
        return path is not None and is_regular(path)

    def read(self, path: str, ifd: int, plane: tuple[int, int]) -> npt.NDArray[Any] | None:
        """The plane (Y, X) at IFD `ifd` of a file; None when the file or the IFD is absent."""
        import tifffile

        with self.lock:
            if self.closed:
                raise ValueError(f"{path}: the source was closed")
            handle = self.files.get(path)
            if handle is None:
                if not self.exists(path):
                    return None
                try:
                    handle = tifffile.TiffFile(path, mode="r")
                except (OSError, ValueError):
                    return None
                self.files[path] = handle
                while len(self.files) > self.MAX_OPEN:
                    self.files.popitem(last=False)[1].close()
            self.files.move_to_end(path)
            if ifd >= len(handle.pages):
                return None
            page = handle.pages[ifd]
            if tuple(page.shape) != plane:  # checked before decoding allocates what it says
                raise ValueError(f"{os.path.basename(path)} IFD {ifd} declares a plane of "
                                 f"{shape_text(page.shape)} pixels, not {shape_text(plane)} "
                                 "as the OME-XML says")
            return page.asarray()

    def page_count(self, path: str) -> int | None:
        """The number of pages of a file; None when it cannot be read."""
        with self.lock:
            handle = self.files.get(path)
            if handle is not None:
                return len(handle.pages)
        import tifffile

        try:
            with tifffile.TiffFile(path, mode="r") as opened:
                return len(opened.pages)
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Close every open file; planes are not read after this."""
        with self.lock:
            self.closed = True
            for handle in self.files.values():
                handle.close()
            self.files.clear()


class PlaneArray:
    """T, C, Z, Y, X over (file path, IFD) per plane; planes no file holds are zeros."""

    def __init__(self, files: PlaneFiles, where: Where, shape: Shape,
                 dtype: npt.DTypeLike) -> None:
        self.files, self.where = files, where
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), 5

    def __getitem__(self, key: slice | tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of a region (a slice per axis), read plane by plane."""
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (5 - len(key))
        ranges = [range(*k.indices(n)) for k, n in zip(key[:3], self.shape[:3])]
        plane_key = key[3:]
        ys, xs = (len(range(*k.indices(n))) for k, n in zip(plane_key, self.shape[3:]))
        out = np.zeros([len(r) for r in ranges] + [ys, xs], dtype=self.dtype)
        for idx in np.ndindex(*out.shape[:3]):
            t, c, z = (r[i] for r, i in zip(ranges, idx))
            found = self.where.get((t, c, z))
            if not found:
                continue
            plane = self.files.read(*found, self.shape[3:])  # type: ignore[arg-type]
            if plane is None:
                continue
            out[idx] = plane.reshape(self.shape[3:])[plane_key]
        return out


def check_ome_files(path: str, xml: str) -> etree._Element | None:
    """Check an OME-TIFF's XML, and the files its TiffData name, before tifffile opens them.

    tifffile parses the XML with ElementTree and opens every file a UUID names; a FIFO
    there would block the open for ever, and a DTD would pass unseen.

    Returns
    -------
    lxml.etree._Element or None
        The parsed XML, to be read without parsing it again; None when it is not
        well-formed (tifffile reads such a file as plain TIFF pages).

    Raises
    ------
    ValueError
        When the XML is refused (a DTD, too deep, not well formed), or a named file is a
        FIFO, device or socket.
    """
    root = parse_xml_or_none(xml, "the OME-XML")
    if root is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    for name in ome_file_names(root):
        for variant in {name, name.replace("\\", "/")}:
            try:
                check_regular(os.path.join(folder, variant))
            except (OSError, ValueError) as exc:
                if isinstance(exc, ValueError):
                    raise ValueError(f"its TiffData names {variant!r}, which is not a regular "
                                     f"file: {exc}") from None
    return root


def ome_file_names(root: etree._Element) -> list[str]:
    """The file names an OME-XML's TiffData UUIDs give, each once, sorted (none empty).

    As written: a name may hold a subfolder, with either slash.
    """
    names = {e.get("FileName") for e in root.iter() if local(e.tag) == "UUID"}
    return sorted(n for n in names if n)


def open_set(tif: tifffile.TiffFile, path: str, root: etree._Element | None = None
             ) -> tuple[list[Scene], Callable[[], OME | None], PlaneFiles]:
    """The scenes of an OME-TIFF whose OME-XML tifffile could not map onto pages.

    One per Image that stores pixels (has TiffData), as tifffile and Bio-Formats count them.

    Parameters
    ----------
    tif : tifffile.TiffFile
        The opened file, whose first page holds the OME-XML.
    path : str
        Its path: the other files of the set are found beside it.
    root : lxml.etree._Element, optional
        Its OME-XML, parsed (`check_ome_files`); parsed here when not given.

    Returns
    -------
    scenes : list of Scene
        Planes no file at hand holds read as zeros, and the notes say which.
    ome : callable
        What makes the OME model when it is first asked (None where the XML breaks the
        schema: `ome_xml.ome_images`).
    files : PlaneFiles
        The set's files, to be closed with the source.

    Raises
    ------
    ValueError
        If the OME-XML describes no image stored in TIFF pages.
    """
    from .ome_xml import ImageInfo, ome_images, ome_scene

    xml = tif.pages.first.description
    if root is None:
        root = parse_xml(xml, "the OME-XML")
    ome, infos = ome_images(xml, root)
    files = PlaneFiles(os.path.dirname(os.path.abspath(path)), root.get("UUID"),
                       os.path.basename(path))
    scenes: list[Scene] = []
    for k, pixels in enumerate(_pixels_elements(root)):
        if not any(local(e.tag) == "TiffData" for e in pixels):
            continue  # metadata only: no scene, as in the tifffile path
        shape, order = _shape(pixels)
        where, assumed = _plane_map(pixels, order, shape, files)
        notes = list(assumed)
        pages = _page_counts(where, files)  # each file of the set opened once
        shape, cut = _cut_unheld(where, shape, pages)
        if cut:
            notes.append(cut)
        data = chunked_array(PlaneArray(files, where, shape, _dtype(pixels)),
                          (1, 1, 1, shape[3], shape[4]), ChunkOrigin(path, "TCZYX"))
        info = infos[k] if k < len(infos) else ImageInfo(name=None, sizes={}, channels=[])
        missing = _missing(where, shape, pages)
        if missing:
            notes.append(missing)
        index = len(scenes)
        scenes.append(ome_scene(index, info, data, "TCZYX",
                                ome_index=k if k != index else None,
                                notes=notes))
    if not scenes:
        raise ValueError("the OME-XML describes no image stored in TIFF pages")
    return scenes, ome, files


def _pixels_elements(root: etree._Element) -> list[etree._Element]:
    out = []
    for image in (e for e in root if local(e.tag) == "Image"):
        pixels = next((p for p in image if local(p.tag) == "Pixels"), None)
        if pixels is not None:
            out.append(pixels)
    return out


@overload
def _int(element: etree._Element, name: str, default: int) -> int: ...


@overload
def _int(element: etree._Element, name: str, default: None) -> int | None: ...


def _int(element: etree._Element, name: str, default: int | None) -> int | None:
    try:
        return int(element.get(name)) if element.get(name) is not None else default
    except ValueError:
        return default


def _shape(pixels: etree._Element) -> tuple[Shape, str]:
    sizes = {a: max(1, _int(pixels, f"Size{a}", 1)) for a in "ZCT"}
    for axis in "XY":
        sizes[axis] = _int(pixels, f"Size{axis}", 0)
        if sizes[axis] < 1:
            raise SizeRefused(f"the OME-XML declares Size{axis} {sizes[axis]} (a width or "
                              "height of 0)")
    order = pixels.get("DimensionOrder") or "XYZCT"
    if sorted(order) != sorted("XYZCT") or not order.startswith("XY"):
        raise ValueError(f"DimensionOrder {order!r} is not one of OME's")
    spp = max(1, max((_int(c, "SamplesPerPixel", 1) for c in pixels
                      if local(c.tag) == "Channel"), default=1))
    if spp > 1:
        raise ValueError("an OME-TIFF set of RGB planes (SamplesPerPixel > 1) is not read yet")
    return (sizes["T"], sizes["C"], sizes["Z"], sizes["Y"], sizes["X"]), order[2:]


def _dtype(pixels: etree._Element) -> str:
    from ..metadata.ome import PIXEL_TYPES  # numpy -> OME, the writers' table

    numpy_of = {ome: numpy for numpy, ome in PIXEL_TYPES.items()} | {"bit": "uint8"}
    kind = pixels.get("Type") or ""
    if kind not in numpy_of:
        raise ValueError(f"pixel type {kind!r} is not one of OME's")
    return numpy_of[kind]


def _coords(linear: int, order: str, shape: Shape) -> Plane | None:
    """(t, c, z) of the plane at `linear` in the Pixels' order (first letter fastest)."""
    sizes = {"T": shape[0], "C": shape[1], "Z": shape[2]}
    out = {}
    for axis in order:
        linear, out[axis] = divmod(linear, sizes[axis])
    return None if linear else (out["T"], out["C"], out["Z"])


def _linear(first: dict[str, int], order: str, shape: Shape) -> int | None:
    """The linear plane index of FirstT/C/Z; None when one lies outside the Pixels."""
    sizes = {"T": shape[0], "C": shape[1], "Z": shape[2]}
    linear, step = 0, 1
    for axis in order:
        if first[axis] >= sizes[axis]:
            return None
        linear += first[axis] * step
        step *= sizes[axis]
    return linear


def _plane_map(pixels: etree._Element, order: str, shape: Shape,
               files: PlaneFiles) -> tuple[Where, list[str]]:
    """(t, c, z) -> (file path, IFD) by the TiffData rules, and what was assumed."""
    total = shape[0] * shape[1] * shape[2]
    entries: list[tuple[int, str, int, int | None, bool]] = []
    assumed: set[str] = set()
    for td in (e for e in pixels if local(e.tag) == "TiffData"):
        first = {a: max(0, _int(td, f"First{a}", 0)) for a in "TCZ"}
        start = _linear(first, order, shape)
        if start is None:
            assumed.add("TiffData whose FirstZ, FirstC or FirstT lie outside the image were "
                        "left out.")
            continue
        uuid = next((u for u in td if local(u.tag) == "UUID"), None)
        path = files.path_of(uuid.get("FileName") if uuid is not None else None,
                             (uuid.text or "").strip() if uuid is not None else None)
        if path is None:
            assumed.add("TiffData naming files outside the set's folder were not followed.")
            continue
        count = _int(td, "PlaneCount", _int(td, "NumPlanes", None))
        entries.append((start, path, max(0, _int(td, "IFD", 0)), count,
                        td.get("IFD") is not None))
    entries.sort(key=lambda e: e[0])
    where: Where = {}
    for i, (start, path, ifd, count, ifd_given) in enumerate(entries):
        if count is None:
            pages = None if ifd_given else files.page_count(path)
            if ifd_given:
                count = 1
            elif pages is not None:
                count = max(0, pages - ifd)
            else:
                nxt = entries[i + 1][0] if i + 1 < len(entries) else total
                count = max(1, nxt - start)
                assumed.add("TiffData without PlaneCount in files that are absent were "
                            "taken to cover the planes up to the next TiffData.")
        for k in range(min(count, total - start)):
            coords = _coords(start + k, order, shape)
            if coords is not None:
                where[coords] = (path, ifd + k)
    return where, sorted(assumed)


# Trailing planes no file holds are zeros up to this many (and 100 per plane held); beyond,
# the image ends after the last plane held: a declared size of a million planes around one
# real plane is damage or an acquisition stopped at its start, not an image of zeros.
MAX_ZERO_PLANES = 1000


def _page_counts(where: Where, files: PlaneFiles) -> dict[str, int | None]:
    """The pages of each file the planes are in; None for a file absent or unreadable."""
    paths = {path for path, _ in where.values()}
    return {path: files.page_count(path) if files.exists(path) else None for path in paths}


def _cut_unheld(where: Where, shape: Shape,
                pages: dict[str, int | None]) -> tuple[Shape, str | None]:
    """The shape cut after the last time point (or, for one time point, Z plane) a file holds.

    Only when the planes cut would be more than `MAX_ZERO_PLANES` and 100 per plane held; the
    note says what the OME-XML declared.
    """
    held = _held(where, pages)
    t, c, z = shape[:3]
    axis = 0 if t > 1 else 2 if z > 1 else None
    if axis is None or not held:
        return shape, None
    size = shape[axis]
    last = max(plane[axis] for plane in held) + 1
    cut = (size - last) * (c * z if axis == 0 else t * c)
    if cut <= max(MAX_ZERO_PLANES, 100 * len(held)):
        return shape, None
    name = "TZ"[axis // 2]
    out = list(shape)
    out[axis] = last
    return tuple(out), (  # type: ignore[return-value]
        f"The OME-XML declares Size{name}={size:,}, but no file holds a plane after "
        f"{name}={last - 1}: the image ends there ({cut:,} planes of zeros left out).")


def _held(where: Where, pages: dict[str, int | None]) -> set[Plane]:
    """The planes a file at hand holds."""
    return {plane for plane, (path, ifd) in where.items()
            if (n := pages[path]) is not None and ifd < n}


def _missing(where: Where, shape: Shape, pages: dict[str, int | None]) -> str | None:
    """What the scene lacks, as a note; None when it lacks nothing.

    Planes no TiffData maps, planes in files that are absent, and planes at IFDs beyond the
    end of their file.
    """
    total = shape[0] * shape[1] * shape[2]
    absent = sorted(path for path, n in pages.items() if n is None)
    lost = (total - len(where)) + sum(1 for path, ifd in where.values()
                                      if (n_pages := pages[path]) is None or ifd >= n_pages)
    if not lost:
        return None
    names = ", ".join(os.path.basename(n) for n in absent[:5]) + (
        ", …" if len(absent) > 5 else "")
    return (f"{lost} of {total} planes are not in the files at hand and show as zeros"
            + (f" (absent: {names})" if absent else "") + ".")
