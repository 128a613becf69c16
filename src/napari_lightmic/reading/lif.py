"""Leica LIF through liffile, memory-mapped so only the planes shown are read.

Read here rather than through bioio-lif because bioio-lif fails on XZ scans and lambda
sweeps (and swaps their Y/Z scales). Axes keep liffile's names: λ is an emission sweep,
Λ an excitation sweep, M a tile index. An XZ scan keeps Z as its vertical axis.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from mmap import mmap
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

import numpy as np
import numpy.typing as npt

from .._xml import parse_xml, refuse_large
from ..colors import complete_colors
from ..formats import FileFormat
from ..model import Acquisition, Channel, ImageSource, Mosaic, Scene
from ..scene.axes import ChunkOrigin, chunked_array
from .acquisition import immersion, lenient, positive_float
from .contract import ReaderBase
from .mosaic import TileMosaic

if TYPE_CHECKING:
    from liffile import LifImageABC

    from ..scene.chunked import ChunkedArray

LUT_COLORS = {
    "red": "#FF0000", "green": "#00FF00", "blue": "#0000FF", "cyan": "#00FFFF",
    "magenta": "#FF00FF", "yellow": "#FFFF00", "gray": "#FFFFFF", "grey": "#FFFFFF",
}
# Scale of each axis: the factor from metres (or seconds) and its unit.
AXIS_UNITS = {"X": (1e6, "µm"), "Y": (1e6, "µm"), "Z": (1e6, "µm"), "T": (1.0, "s"),
              "λ": (1e9, "nm"), "Λ": (1e9, "nm")}

XZ_SCAN_NOTE = "XZ scan: the vertical axis of each plane is Z."  # of the source only


def open_lif(path: str, fmt: FileFormat) -> ImageSource:
    """Open a LIF file with liffile, memory-mapped, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per image of the file; tile scans stitched where their tiles are placed.

    Raises
    ------
    ValueError
        If an image's pixels lie beyond the end of the file (truncated).
    """
    import liffile

    check_header_xml(path)
    lif = liffile.LifFile(path, mode="r")
    scenes = []
    try:
        header = lif.xml_header()
        root = lif.xml_element
        size = os.path.getsize(path)
        for index, image in enumerate(lif.images):
            _check_extent(image, size)
            scenes.append(image_scene(path, image, index))
    finally:
        lif.close()
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="liffile",
                       original_metadata=header,
                       acquisition_factory=lenient(lif_acquisition, root))


def _check_extent(image: LifImageABC, file_size: int) -> None:
    try:
        block = image.memory_block
    except KeyError:
        block = None
    if block is None or block.offset + block.size > file_size:
        raise ValueError(f"truncated: the pixel data of image {image.name!r} is not in the file")


Pixels = Callable[[str, "LifImageABC", int], "tuple[ChunkedArray, str, TileOffsets | None]"]


def image_scene(path: str, image: LifImageABC, index: int, pixels: Pixels | None = None) -> Scene:
    """One image of a Leica file as a scene, its pixels lazy.

    Parameters
    ----------
    path : str
        The file opened (a LIF, or a LAS X project's LOF, XLIF or XLEF).
    image : liffile.LifImageABC
        The image.
    index : int
        Its index among the file's images.
    pixels : callable, optional
        Gives the lazy pixels in the file's axis order, their axes and the tiles' offsets;
        by default a memory map of the image's block in `path`.
    """
    data, file_dims, offsets = (pixels or _pixels)(path, image, index)
    spatial = [a for a in file_dims if a in "ZYX"]
    extras = [a for a in file_dims if a not in "TCZYXS"]
    dims = "".join(extras) + "TC" + "".join(spatial) + ("S" if "S" in file_dims else "")
    for axis in "TC":
        if axis not in file_dims:
            data = data[None]
            file_dims = axis + file_dims
    data = data.transpose([file_dims.index(a) for a in dims])
    physical, units = _scales(image, dims)
    channels = _channels(image, dict(zip(dims, data.shape)).get("C", 1))
    notes, mosaic = _layout(dims, data, offsets)
    return Scene(index=index, name=image.name, pixels=data, dims=dims,
                 physical_pixel_sizes=physical, units=units, channels=channels,
                 mosaic=mosaic, notes=notes)


def _pixels(path: str, image: LifImageABC,
            index: int) -> tuple[ChunkedArray, str, TileOffsets | None]:
    """The lazy pixels in the file's axis order, their axes, and the tiles' offsets.

    Memory-mapped where the file allows (a tile scan stitched at its offsets), else read
    whole when first computed.
    """
    file_dims = "".join(image.dims)
    try:
        raw = image.asarray(out="memmap")  # read-only map of the file; nothing read yet
    except (OSError, ValueError, NotImplementedError):
        whole = WholeImage(path, index, tuple(image.shape), image.dtype)
        return chunked_array(whole, whole.shape, ChunkOrigin(path, file_dims)), file_dims, None
    offsets = _tile_offsets(image, file_dims)
    if offsets is None:
        return (chunked_array(MappedArray(raw), _plane_chunks(file_dims, image.shape),
                           ChunkOrigin(path, file_dims)), file_dims, None)
    # Tiles first, Y and X last; a view of the memory map, nothing read.
    order = "M" + "".join(a for a in file_dims if a not in "MYXS") + "YX"
    order += "S" if "S" in file_dims else ""
    raw = raw.transpose([file_dims.index(a) for a in order])
    mosaic = TileMosaic(raw, offsets, samples="S" in order)
    return mosaic.pixels(ChunkOrigin(path, order[1:])), order[1:], offsets


def _scales(image: LifImageABC,
            dims: str) -> tuple[dict[str, float | None], dict[str, str]]:
    """The step of each axis with a unit (`AXIS_UNITS`) from its coordinates, and its unit."""
    coords = image.coords
    physical: dict[str, float | None] = {}
    units: dict[str, str] = {}
    for axis in dims:
        if axis not in AXIS_UNITS:
            continue
        factor, unit = AXIS_UNITS[axis]
        values = coords.get(axis)
        step = None
        if values is not None and len(values) > 1:
            step = abs(float(values[-1] - values[0])) / (len(values) - 1) * factor
        physical[axis] = step if step else None
        if step:
            units[axis] = unit
    for axis in "ZYX":
        physical.setdefault(axis, None)
    return physical, units


def _layout(dims: str, data: ChunkedArray,
            offsets: TileOffsets | None) -> tuple[list[str], Mosaic | None]:
    """The notes on an XZ scan, lambda sweeps and tiles, and the tile scan's mosaic."""
    notes = []
    mosaic = None
    if "Z" in dims and ("Y" not in dims or dims.index("Z") > dims.index("Y")):
        notes.append(XZ_SCAN_NOTE)
    for axis, kind in (("λ", "emission"), ("Λ", "excitation")):
        if axis in dims:
            notes.append(f"Lambda sweep: {axis} is the {kind} wavelength axis.")
    if offsets is not None:
        how = "stage position" if offsets.placed_by_stage else "tile grid index"
        mosaic = Mosaic(tiles=len(offsets), placement=how)
        notes.append(f"Tile scan of {len(offsets)} tiles, stitched by {how}.")
    elif "M" in dims:
        mosaic = Mosaic(tiles=int(data.shape[dims.index("M")]), stitched=False,
                        placement="tile index")
        notes.append("Tile scan without tile positions: tiles are on the M axis.")
    return notes, mosaic


class TileOffsets(list[tuple[int, int]]):
    """Pixel offsets (y, x) of each tile, and whether the stage positions placed them."""

    placed_by_stage = True


def _tile_offsets(image: LifImageABC, file_dims: str) -> TileOffsets | None:
    """Pixel offsets (y, x) of each tile: from stage positions when recorded, else the grid."""
    if "M" not in file_dims or "Y" not in file_dims or "X" not in file_dims:
        return None
    info = image.tilescan
    n = image.sizes["M"]
    if info is None or len(info.tiles) != n:
        return None
    tiles = info.tiles
    height, width = image.sizes["Y"], image.sizes["X"]
    coords = image.coords
    step_x = float(coords["X"][1] - coords["X"][0]) if len(coords.get("X", [])) > 1 else 0.0
    step_y = float(coords["Y"][1] - coords["Y"][0]) if len(coords.get("Y", [])) > 1 else 0.0
    pos_y, pos_x = tiles["pos_y"].astype(float), tiles["pos_x"].astype(float)
    if info.swap_xy:
        pos_y, pos_x = pos_x, pos_y
    if info.flip_x:
        pos_x = -pos_x
    if info.flip_y:
        pos_y = -pos_y
    out = TileOffsets()
    if step_x and step_y and (np.ptp(pos_x) > 0 or np.ptp(pos_y) > 0):
        for y, x in zip(pos_y, pos_x):
            out.append((round(y / abs(step_y)), round(x / abs(step_x))))
    else:
        out.placed_by_stage = False
        for fy, fx in zip(tiles["field_y"], tiles["field_x"]):
            out.append((int(fy) * height, int(fx) * width))
    return out


class MappedArray:
    """A memory map behind an array interface without `copy`, so dask keeps it mapped.

    Given the memmap itself, dask copies it into memory.
    """

    def __init__(self, mapped: npt.NDArray[Any]) -> None:
        self.mapped = mapped
        self.shape, self.dtype, self.ndim = mapped.shape, mapped.dtype, mapped.ndim

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """A copy of the mapped region (the file is read now)."""
        return np.array(self.mapped[key])

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle a file's map as where it is, any other array as its values."""
        mapped = self.mapped
        if isinstance(mapped, np.memmap) and mapped.filename and isinstance(mapped.base, mmap):
            # the whole map of a file region: pickled as where it is, mapped again on load
            return _remap, (mapped.filename, mapped.offset, mapped.dtype.str, mapped.shape)
        return MappedArray, (np.asarray(mapped),)


def _remap(filename: str, offset: int, dtype: str, shape: tuple[int, ...]) -> MappedArray:
    return MappedArray(np.memmap(filename, dtype=np.dtype(dtype), mode="r", offset=offset,
                                 shape=shape))


def _plane_chunks(dims: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n if a in "YXS" or (a == "Z" and "Y" not in dims) else 1
                 for a, n in zip(dims, shape))


class WholeImage:
    """An image that cannot be memory-mapped, read whole when first indexed; opens the file."""

    def __init__(self, path: str, index: int, shape: tuple[int, ...],
                 dtype: npt.DTypeLike) -> None:
        self.path, self.index = path, index
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The region of the whole image (one chunk: the image)."""
        import liffile

        with liffile.LifFile(self.path) as lif:
            out: npt.NDArray[Any] = lif.images[self.index].asarray()[key]
        return out


def _channels(image: LifImageABC, n: int) -> list[Channel]:
    el = image.xml_element
    luts = [cd.get("LUTName", "") for cd in el.iterfind(".//ChannelDescription")]
    detectors = [d for d in el.iterfind(".//ATLConfocalSettingDefinition//Detector")
                 if d.get("IsActive") == "1"]
    bands = {b.get("Channel"): b for b in el.iterfind(".//ATLConfocalSettingDefinition//MultiBand")}
    names: list[str] = []
    named: list[bool] = []
    colors: list[str | None] = []
    emissions: list[float | None] = []
    for i in range(n):
        name, emission = None, None
        if len(detectors) == n:
            det = detectors[i]
            band = bands.get(det.get("Channel"))
            if band is not None:
                name = band.get("DyeName") or None
                emission = _middle(band.get("LeftWorld"), band.get("RightWorld"))
            name = name or det.get("Name")
        lut = luts[i] if i < len(luts) else ""
        names.append(name or (f"Channel {i} ({lut})" if lut else f"Channel {i}"))
        named.append(bool(name))
        colors.append(LUT_COLORS.get(lut.lower()))
        emissions.append(emission)
    shown = complete_colors(colors, emissions)
    return [Channel(name=names[i], color=shown[i], emission_nm=emissions[i], named=named[i])
            for i in range(n)]


def _middle(left: str | None, right: str | None) -> float | None:
    """The middle of a detection band, in nm; None unless both ends are numbers."""
    if left is None or right is None:
        return None
    try:
        return (float(left) + float(right)) / 2
    except ValueError:
        return None


def lif_acquisition(root: Element) -> Acquisition:
    """Microscope, objective and mode from the first confocal or camera settings of LAS X.

    Parameters
    ----------
    root : xml.etree.ElementTree.Element
        The file's XML header, as liffile parsed it.

    Returns
    -------
    Acquisition
        What the settings record; empty when the file has none.
    """
    from ome_types import model as ome

    settings = next(root.iter("ATLConfocalSettingDefinition"), None)
    if settings is None:
        settings = next(root.iter("ATLCameraSettingDefinition"), None)
    if settings is None:
        return Acquisition()
    mode = "LaserScanningConfocalMicroscopy" if "Confocal" in settings.tag else None
    name = (settings.get("ObjectiveName") or "").strip()
    objective = ome.Objective(
        id="Objective:0", model=re.sub(r"\s+", " ", name) or None,
        nominal_magnification=positive_float(settings.get("Magnification")),
        lens_na=positive_float(settings.get("NumericalAperture")),
        immersion=immersion(settings.get("Immersion")),
    )
    system = next((e.get("SystemTypeName") or "" for e in root.iter("Attachment")
                   if e.get("SystemTypeName")), "").strip()
    stand = (settings.get("MicroscopeModel") or "").strip()
    scope = ome.Microscope(manufacturer="Leica Microsystems",
                           model=" on ".join(v for v in (system, stand) if v) or None,
                           serial_number=settings.get("SystemSerialNumber") or None)
    instrument = ome.Instrument(id="Instrument:0", microscope=scope, objectives=[objective])
    return Acquisition(instrument=instrument, acquisition_mode=mode)



def check_header_xml(path: str) -> None:
    """Refuse what the hardened parser refuses in a LIF's XML header, before liffile parses it.

    liffile parses the header with ElementTree, which accepts a DTD.

    Raises
    ------
    ValueError
        When the header XML declares a DTD, nests too deep or is not well formed.
    """
    with open(path, "rb") as fh:
        head = fh.read(13)
        if len(head) < 13:
            return  # liffile reports the damage
        id0, _, id1, length = struct.unpack("<IIBI", head)
        if id0 != 0x70 or id1 != 0x2A:
            return
        size = os.fstat(fh.fileno()).st_size
        if 13 + 2 * length > size:
            raise ValueError(f"truncated: its XML header ({2 * length} bytes) runs past the "
                             f"end of the file ({size} bytes)")
        refuse_large(2 * length, "its XML header")
        text = fh.read(2 * length).decode("utf-16-le", "replace")
    if text != "LMS_Object_File":
        parse_xml(text, "the LIF header XML")


class _Reader(ReaderBase):
    library = "liffile"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_lif(path, fmt)


READER = _Reader()
