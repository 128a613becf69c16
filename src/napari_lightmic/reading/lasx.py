"""Leica LAS X projects (LOF, XLIF, XLEF) through liffile, as LIF files are read.

LAS X Navigator, Thunder and Stellaris systems save a project as an XML experiment file
(XLEF) that lists its images and folders, one XML image file (XLIF) per image, and the
pixels in a Leica object file (LOF: one image's binary block and its XML) or in TIFF
frames. An XLEF opens as its images (the scenes), an XLIF as its image, a LOF as its image.

The scenes are built as LIF images are (reading/lif.py: axes, physical sizes, channel
names and colours from the dyes and detectors); the pixels of a LOF, also when an XLIF
names it, are memory-mapped; an image kept as one TIFF per plane (frames) is read a plane at
a time, any other layout whole when first shown.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt

from .._xml import parse_xml, refuse_large
from ..formats import FileFormat
from ..model import ImageSource, Scene
from ..scene.axes import ChunkOrigin, chunked_array
from .acquisition import lenient
from .contract import ReaderBase
from .lif import (
    MappedArray,
    TileOffsets,
    WholeImage,
    _plane_chunks,
    check_header_xml,
    image_scene,
    lif_acquisition,
)

if TYPE_CHECKING:
    from liffile import LifImageABC

    from ..scene.chunked import ChunkedArray

# how deep an XLEF's folders may nest (each a referenced XLEF) before the project is refused
MAX_DEPTH = 16


def open_lasx(path: str, fmt: FileFormat) -> ImageSource:
    """Open a LOF, XLIF or XLEF with liffile, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per image: the LOF's or XLIF's one, every image of an XLEF project.

    Raises
    ------
    ValueError
        When the project has no image, a file it names is missing or its pixels are cut short.
    """
    import liffile

    texts = check_project(path)
    lif = liffile.LifFile(path, mode="r")
    scenes: list[Scene] = []
    try:
        images = list(lif.images)
        if not images:
            raise ValueError(f"no image: the {fmt.name} names none (or only missing files)")
        for index, image in enumerate(images):
            scenes.append(image_scene(path, image, index, pixels=_pixels))
        settings = images[0].xml_element
    finally:
        lif.close()
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="liffile",
                       original_metadata="\n".join(texts),
                       acquisition_factory=lenient(lif_acquisition, settings))


def check_project(path: str) -> list[str]:
    """The XML of `path` and of every file it names, refused where the hardened parser refuses.

    liffile parses the XML with ElementTree, which accepts a DTD: each XLEF, XLIF and LOF
    header is parsed here first. Referenced files that are missing are refused by name.

    Returns
    -------
    list of str
        The XML texts, the project's first (what the privacy scan reads).

    Raises
    ------
    ValueError
        For a DTD, too deep a nesting, a file that is not XML or a LOF, or a missing file.
    """
    texts: list[str] = []
    _walk(path, texts, [], 0, set())
    return texts


def project_files(path: str | os.PathLike[str]) -> list[str]:
    """The files an XLEF or XLIF uses (images, folders, LOFs, TIFF frames), itself not included.

    For a batch to count a project once, through its main file. A file that cannot be
    read ends the list where it is (the reader says why when the project is opened).
    """
    files: list[str] = []
    try:
        _walk(os.fspath(path), [], files, 0, set())
    except (OSError, ValueError):
        pass
    return files


def _walk(path: str, texts: list[str], files: list[str], depth: int, seen: set[str],
          within: tuple[str, ...] = ()) -> None:
    """Add the XML of `path` to `texts` and the files it names to `files`, depth first.

    A file is read once however often the project names it (`seen`); one that names a
    folder it is in (`within`) is refused.
    """
    real = os.path.realpath(path)
    if real in within:
        raise ValueError(f"{os.path.basename(path)} names a folder it is in: the project "
                         "refers to itself")
    if real in seen:
        return
    seen.add(real)
    if depth > MAX_DEPTH:
        raise ValueError(f"folders nest more than {MAX_DEPTH} deep")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x70":  # a LOF: binary header, pixels, then its XML
        texts.append(lof_xml(path))
        return
    size = os.path.getsize(path)
    refuse_large(size, f"the XML of {os.path.basename(path)}")
    with open(path, "rb") as fh:
        raw = fh.read()
    root = parse_xml(raw, f"the XML of {os.path.basename(path)}")
    texts.append(raw.decode("utf-16", "replace") if head[:2] in (b"\xff\xfe", b"<\x00")
                 else raw.decode("utf-8", "replace"))
    folder = os.path.dirname(path)
    for ref in root.iterfind("./Element/Children/Reference"):
        name = ref.get("File")
        if not name:
            continue
        child = resolve(folder, name)
        if not os.path.isfile(child):
            raise ValueError(f"the project names {name!r}, which is missing")
        if child not in files:
            files.append(child)
        _walk(child, texts, files, depth + 1, seen, (*within, real))
    for block in root.iterfind("./Element/Memory/*[@File]"):
        name = block.get("File", "")
        frame = resolve(folder, name)
        if not os.path.isfile(frame):
            raise ValueError(f"{os.path.basename(path)} names {name!r}, which is missing")
        files.append(frame)
        if name.lower().endswith(".lof"):
            texts.append(lof_xml(frame))


def resolve(folder: str, name: str) -> str:
    """The file a project's XML names, found as liffile finds it (`LifFile.children`).

    URL-quoted names unquoted ('My%20Folder.xlef'), Windows separators, and a name that
    differs from the file's only in case (as Windows allows) matched to the file.
    """
    return located(folder, os.path.normpath(unquote(name)).replace("\\", "/"))


def located(folder: str, name: str) -> str:
    """A file by a name liffile already decoded (a memory frame's `file`), matched in case."""
    from liffile.liffile import case_sensitive_path

    path = os.path.join(folder, name)
    if not os.path.exists(path):
        try:
            path = case_sensitive_path(path)
        except FileNotFoundError:
            pass  # missing: the caller names it
    return path


def lof_xml(path: str) -> str:
    """The XML of a LOF (after its pixels), checked by the hardened parser.

    Raises
    ------
    ValueError
        When the file is not a LOF, is cut short, or its XML is refused.
    """
    check_header_xml(path)  # the leading header: 'LMS_Object_File'
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(13 + 30 + 10 + 9)
        if len(head) < 62:
            raise ValueError(f"truncated: {os.path.basename(path)} ends in its header")
        if head[13:43].decode("utf-16-le", "replace") != "LMS_Object_File":
            raise ValueError(f"{os.path.basename(path)} is a LIF, not a LOF")
        (block,) = struct.unpack("<Q", head[54:62])
        if 62 + block + 13 > size:
            raise ValueError(f"truncated: the pixels of {os.path.basename(path)} run past "
                             f"the end of the file ({size} bytes)")
        fh.seek(62 + block)
        id0, _, id1, length = struct.unpack("<IIBI", fh.read(13))
        if id0 != 0x70 or id1 != 0x2A:
            raise ValueError(f"damaged: {os.path.basename(path)} has no XML after its pixels")
        if 62 + block + 13 + 2 * length > size:
            raise ValueError(f"truncated: the XML of {os.path.basename(path)} runs past the "
                             "end of the file")
        refuse_large(2 * length, f"the XML of {os.path.basename(path)}")
        text = fh.read(2 * length).decode("utf-16-le", "replace")
    parse_xml(text, f"the XML of {os.path.basename(path)}")
    return text


def _pixels(path: str, image: LifImageABC,
            index: int) -> tuple[ChunkedArray, str, TileOffsets | None]:
    """The lazy pixels of an image: a memory map of its LOF block, else read whole."""
    file_dims = "".join(image.dims)
    lof = _lof_block(image)
    if lof is not None:
        lof_path, offset = lof
        mapped = np.memmap(lof_path, dtype=image.dtype, mode="r", offset=offset,
                           shape=tuple(image.shape))
        return (chunked_array(MappedArray(mapped), _plane_chunks(file_dims, image.shape),
                           ChunkOrigin(lof_path, file_dims)), file_dims, None)
    frames = _tiff_frames(image)
    if frames is not None:
        return (chunked_array(frames, _plane_chunks(file_dims, image.shape),
                           ChunkOrigin(path, file_dims)), file_dims, None)
    whole = WholeImage(path, index, tuple(image.shape), image.dtype)
    return chunked_array(whole, whole.shape, ChunkOrigin(path, file_dims)), file_dims, None


def _tiff_frames(image: LifImageABC) -> FramePlanes | None:
    """The image's TIFF frames as planes, where each frame is one plane in the file's order.

    None for other layouts (a frame holding several planes, RGB, JPEG or PNG frames).
    """
    dims = "".join(image.dims)
    if "S" in dims or not dims.endswith("YX"):
        return None
    block = image.memory_block
    shape = tuple(image.shape)
    plane = shape[-2] * shape[-1] * image.dtype.itemsize
    count = int(np.prod(shape[:-2]))
    by_offset = {f.offset: f.file for f in block.frames if f.size == plane}
    if (len(block.frames) != count or len(by_offset) != count
            or any(not f.file.lower().endswith((".tif", ".tiff")) for f in block.frames)
            or set(by_offset) != {k * plane for k in range(count)}):
        return None
    folder = image.parent.dirname
    files = [located(folder, by_offset[k * plane]) for k in range(count)]
    return FramePlanes(files, shape, image.dtype)


class FramePlanes:
    """An image kept as one TIFF per plane (an XLIF's frames), each read when indexed."""

    def __init__(self, files: list[str], shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.files = files  # by the plane's flat index on the axes before Y and X
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The planes `key` covers, each read from its TIFF now."""
        import tifffile

        lead = self.shape[:-2]
        ranges = [range(*k.indices(n)) for k, n in zip(key[:-2], lead)]
        out = np.empty([len(r) for r in ranges] + list(self.shape[-2:]), self.dtype)
        for pos in np.ndindex(*[len(r) for r in ranges]):
            flat = int(np.ravel_multi_index([r[p] for r, p in zip(ranges, pos)], lead)) \
                if lead else 0
            plane = tifffile.imread(self.files[flat])
            if plane.nbytes != out[pos].nbytes:
                raise ValueError(f"damaged: frame {os.path.basename(self.files[flat])} holds "
                                 f"{plane.shape}, the image's planes are {self.shape[-2:]}")
            out[pos] = plane.view(self.dtype).reshape(self.shape[-2:])  # float16 kept as uint16
        return out[(Ellipsis, key[-2], key[-1])]


def _lof_block(image: LifImageABC) -> tuple[str, int] | None:
    """The LOF file and byte offset of an image's pixels, where they can be mapped as stored.

    None for pixels kept otherwise (TIFF frames), stored with padded rows or as BGR.

    Raises
    ------
    ValueError
        When the LOF's block is smaller than the image (truncated).
    """
    import liffile

    if "S" in image.dims:  # RGB: liffile reorders BGR samples, so read through it
        return None
    block = image.memory_block
    nbytes = int(np.prod(image.shape)) * image.dtype.itemsize
    if block.offset > 0:  # a LOF's own block
        lof_path = image.parent.filepath
    elif len(block.frames) == 1 and block.frames[0].file.lower().endswith(".lof"):
        lof_path = located(image.parent.dirname, block.frames[0].file)
        with liffile.LifFile(lof_path) as lof:
            block = lof.images[0].memory_block
    else:
        return None
    if block.offset + block.size > os.path.getsize(lof_path) or block.size < nbytes:
        raise ValueError(f"truncated: the pixel data of image {image.name!r} is not in "
                         f"{os.path.basename(lof_path)}")
    return (lof_path, block.offset) if block.size == nbytes else None


class _Reader(ReaderBase):
    library = "liffile"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_lasx(path, fmt)


READER = _Reader()
