"""Zeiss CZI through pylibCZIrw, with metadata from the file's own XML.

Read here rather than through bioio-czi because bioio-czi drops the Airyscan phase axis
(H), refuses files without a scaling block even for their pixels, and gives the channels
of a second track placeholder names. Every axis the file has is kept; each scene is a lazy
array whose chunks read only the subblocks (tiles) they cover, stitched by libCZI at the
positions the file records.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._xml import parse_xml
from ..colors import GRAY, complete_colors, parse_color
from ..formats import FileFormat, file_stem
from ..model import Acquisition, Channel, ImageSource, Mosaic, Scene, Well
from ..pyramid import shown_factors
from ..scene.axes import ChunkOrigin, chunked_array
from .acquisition import Tree, immersion, lenient, parse_date, positive_float, text_of
from .contract import ReaderBase
from .czi_check import check_structure
from .files import utf8_name
from .handles import LazyHandle

if TYPE_CHECKING:
    from _pylibCZIrw import SubBlockInfo
    from lxml import etree
    from pylibCZIrw.czi import CziReader, Rectangle

    from ..scene.chunked import ChunkedArray

# Axes besides T, C, Z that a CZI can have; kept when larger than one.
EXTRA_AXES = ("H", "R", "I", "V", "B")
CHUNK_XY = 2048
# The label of the H axis of Airyscan raw data: one image per detector element
AIRYSCAN_AXIS = "Airyscan detector element"
_DTYPES = {
    "Gray8": (np.uint8, 1), "Gray16": (np.uint16, 1), "Gray32Float": (np.float32, 1),
    "Bgr24": (np.uint8, 3), "Bgr48": (np.uint16, 3), "Bgr96Float": (np.float32, 3),
}


class CziHandle(LazyHandle["CziReader"]):
    """One read-only pylibCZIrw reader per file, shared by threads."""

    def _open(self) -> CziReader:
        from pylibCZIrw import czi as pyczi

        with utf8_name(self.path) as name:  # libCZI opens the file here and keeps it
            return pyczi.CziReader(name)

    def read(self, roi: tuple[int, int, int, int], plane: dict[str, int], scene: int | None,
             pixel_type: str, zoom: float | None) -> npt.NDArray[Any]:
        """One region of one plane, composed by libCZI (Y, X, samples), under the lock."""
        with self.lock:
            tile: npt.NDArray[Any] = self.opened.read(roi=roi, plane=plane, scene=scene,
                                                      pixel_type=pixel_type, zoom=zoom)
            return tile


class CziSceneArray:
    """Array-like view of one scene, indexed by dask one chunk at a time.

    At `factor` > 1 it is a downsampled level: libCZI composes it from the file's pyramid
    subblocks where there are some, else by scaling the full-resolution tiles.
    """

    def __init__(self, handle: CziHandle, scene: int | None, rect: tuple[int, int], dims: str,
                 shape: tuple[int, ...], dtype: npt.DTypeLike, pixel_types: dict[int, str],
                 starts: dict[str, int], factor: int = 1) -> None:
        self.handle, self.scene, self.rect = handle, scene, rect
        self.dims, self.dtype = dims, np.dtype(dtype)
        self.pixel_types, self.starts, self.factor = pixel_types, starts, factor
        ys, xs = dims.index("Y"), dims.index("X")
        sizes = list(shape)
        sizes[ys], sizes[xs] = sizes[ys] // factor, sizes[xs] // factor
        self.shape = tuple(sizes)
        self.ndim = len(sizes)

    def __getitem__(self, key: slice | tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of a region (a slice per axis), read plane by plane."""
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        ranges = [range(*k.indices(n)) for k, n in zip(key, self.shape)]
        by_axis = dict(zip(self.dims, ranges))
        ys, xs = by_axis["Y"], by_axis["X"]
        plane_axes = [a for a in self.dims if a not in ("Y", "X", "S")]
        out = np.zeros([len(r) for r in ranges], dtype=self.dtype)
        f = self.factor
        roi = (self.rect[0] + xs.start * f, self.rect[1] + ys.start * f, len(xs) * f, len(ys) * f)
        zoom = None if f == 1 else 1.0 / f
        for idx in np.ndindex(*[len(by_axis[a]) for a in plane_axes]):
            plane = {a: by_axis[a][i] + self.starts.get(a, 0) for a, i in zip(plane_axes, idx)}
            pixel_type = self.pixel_types[plane.get("C", self.starts.get("C", 0))]
            tile = self.handle.read(roi=roi, plane=plane, scene=self.scene,
                                    pixel_type=pixel_type, zoom=zoom)
            tile = _fit(tile, len(ys), len(xs))
            if "S" in self.dims:
                # BGR -> RGB; a grey channel among colour ones is shown grey
                tile = tile[..., ::-1] if tile.shape[2] == 3 else np.repeat(tile, 3, axis=2)
                tile = tile[:, :, by_axis["S"].start:by_axis["S"].stop]
            else:
                tile = tile[..., 0]
            out[idx] = tile
        return out


def _fit(tile: npt.NDArray[Any], height: int, width: int) -> npt.NDArray[Any]:
    """Crop or zero-pad a zoomed read to the size the level promises."""
    if tile.shape[:2] == (height, width):
        return tile
    out = np.zeros((height, width) + tile.shape[2:], dtype=tile.dtype)
    h, w = min(height, tile.shape[0]), min(width, tile.shape[1])
    out[:h, :w] = tile[:h, :w]
    return out


def _lazy(array: CziSceneArray) -> ChunkedArray:
    chunks = tuple(
        (min(CHUNK_XY, n) if a in "YX" else (n if a == "S" else 1))
        for a, n in zip(array.dims, array.shape)
    )
    return chunked_array(array, chunks, ChunkOrigin(array.handle.path, array.dims))


def open_czi(path: str, fmt: FileFormat) -> ImageSource:
    """Open a CZI file with pylibCZIrw, reading no pixels.

    Parameters
    ----------
    path : str
        A local file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per CZI scene, every axis of the file kept, a pyramid composed by libCZI.

    Raises
    ------
    ValueError
        If the file is truncated or its structure is damaged (see `check_structure`).
    """
    from pylibCZIrw import czi as pyczi

    check_structure(path)
    with utf8_name(path) as name, pyczi.open_czi(name) as czi:
        bbox = czi.total_bounding_box_no_pyramid
        try:
            rects = dict(czi.scenes_bounding_rectangle_no_pyramid)
        except ValueError:
            rects = {}
        if not rects:
            rects = {None: czi.total_bounding_rectangle_no_pyramid}
        raw_xml = czi.raw_metadata
        xml = parse_xml(raw_xml, "the CZI metadata")
        tiles, starts = _survey(czi)
        first_c = starts.get("C", 0)
        n_c = bbox["C"][1] - bbox["C"][0]
        pixel_types = {c: czi.get_channel_pixel_type(c) for c in range(first_c, first_c + n_c)}

    # Channels may differ in pixel type: one dtype holds them all, colour wins over grey.
    known = {c: t for c, t in pixel_types.items() if t in _DTYPES} or {first_c: "Gray16"}
    pixel_types = {c: known.get(c, next(iter(known.values()))) for c in pixel_types} or known
    kinds = [_DTYPES[t] for t in pixel_types.values()]
    dtype = np.result_type(*[k[0] for k in kinds])
    samples = max(k[1] for k in kinds)
    sizes = {a: bbox[a][1] - bbox[a][0] for a in bbox if a not in ("X", "Y")}
    extra = [a for a in EXTRA_AXES if sizes.get(a, 1) > 1]
    dims = "".join(extra) + "TCZYX" + ("S" if samples == 3 else "")

    full = float(np.iinfo(dtype).max) if dtype.kind in "ui" else None
    physical = _scaling(xml)
    units = {a: "µm" for a, v in physical.items() if v is not None}
    n_channels = sizes.get("C", 1)  # each scene its own channel records
    names = _scene_names(xml)
    wells = _scene_wells(xml)
    airyscan = _airyscan(xml)
    handle = CziHandle(path)
    scenes = []
    for i, (scene_id, rect) in enumerate(sorted(rects.items(), key=lambda kv: kv[0] or 0)):
        shape = tuple(sizes.get(a, 1) for a in dims if a not in "YXS") + (rect.h, rect.w)
        shape = shape + ((3,) if samples == 3 else ())
        def level(factor: int, shape: tuple[int, ...] = shape, scene_id: int | None = scene_id,
                  rect: Rectangle = rect) -> ChunkedArray:
            return _lazy(CziSceneArray(handle, scene_id, (rect.x, rect.y), dims, shape, dtype,
                                          pixel_types, starts, factor))

        data = level(1)
        pyramid = [level(f) for f in shown_factors(rect.h, rect.w, composed=True)]
        n_tiles = tiles.get(scene_id, tiles.get(None, 1))
        scene_name = names.get(scene_id) or (
            f"Scene #{i + 1}" if len(rects) > 1 else file_stem(path))
        px = physical.get("X")
        py = physical.get("Y")
        stage = ({"Y": rect.y * py, "X": rect.x * px} if px and py else None)
        notes = []
        axis_names = {}
        if "H" in dims and airyscan:
            axis_names["H"] = AIRYSCAN_AXIS
            notes.append(
                f"Unprocessed Airyscan raw data: axis H is the Airyscan detector element "
                f"({sizes['H']} elements), each an image of its own. Airyscan processing (in "
                "ZEN) combines them into one super-resolved image."
            )
        elif "H" in dims:
            notes.append(f"Phase axis H ({sizes['H']} phases) kept as its own axis.")
        if n_tiles > 1:
            notes.append(f"Mosaic of {n_tiles} tiles, stitched at their recorded positions.")
        if physical.get("X") is None:
            notes.append("The file records no pixel size: scale is in pixels.")
        scenes.append(Scene(
            index=i, name=scene_name, pixels=data, dims=dims,
            physical_pixel_sizes=dict(physical), units=dict(units),
            channels=_channels(xml, n_channels, full),
            mosaic=Mosaic(tiles=n_tiles) if n_tiles > 1 else None,
            stage_position=stage, pyramid=pyramid, notes=notes, axis_names=axis_names,
            well=wells.get(scene_id),
        ))
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="pylibCZIrw",
                       handles=[handle], original_metadata=raw_xml,
                       acquisition_factory=lenient(czi_acquisition, Tree(xml, raw_xml)))


def _scaling(xml: etree._Element) -> dict[str, float | None]:
    """Pixel sizes in µm from Scaling/Items/Distance (metres); absent or zero = unknown."""
    out: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
    for dist in xml.iterfind(".//Scaling/Items/Distance"):
        axis = dist.get("Id")
        try:
            value = float(dist.findtext("Value") or "nan") * 1e6
        except ValueError:
            continue
        if axis in out and np.isfinite(value) and value > 0:
            out[axis] = value
    return out


def _channels(xml: etree._Element, n: int, full: float | None = None) -> list[Channel]:
    """The channels ZEN records; `full` is the top of the pixels' integer range."""
    dim_channels = list(xml.iterfind(".//Information/Image/Dimensions/Channels/Channel"))
    display = list(xml.iterfind(".//DisplaySetting/Channels/Channel"))
    display_by_id = {ch.get("Id"): ch for ch in display}
    names, colors, emissions, excitations, fluors = [], [], [], [], []
    limits: list[tuple[float, float] | None] = []
    gammas: list[float | None] = []
    for i in range(n):
        dim = dim_channels[i] if i < len(dim_channels) else None
        disp = display_by_id.get(dim.get("Id")) if dim is not None else None
        if disp is None and i < len(display):
            disp = display[i]
        name = (dim.get("Name") if dim is not None else None) or (
            disp.get("Name") if disp is not None else None)
        names.append(name or None)
        emission = positive_float(text_of(dim, "EmissionWavelength"))
        color = parse_color(disp.findtext("Color")) if disp is not None else None
        if color == GRAY and emission and _fluorescence(dim):
            # ZEN black leaves a dye it does not know white: the emission gives its colour
            color = None
        colors.append(color)
        emissions.append(emission)
        excitations.append(positive_float(text_of(dim, "ExcitationWavelength")))
        fluors.append(dim.findtext("Fluor") if dim is not None else None)
        limits.append(_display_range(disp, full))
        gammas.append(positive_float(text_of(disp, "Gamma")))
    shown = complete_colors(colors, emissions)
    return [Channel(name=names[i] or f"Channel {i}", color=shown[i], emission_nm=emissions[i],
                    excitation_nm=excitations[i], fluor=fluors[i] or None,
                    named=bool(names[i]), contrast_limits=limits[i], gamma=gammas[i])
            for i in range(n)]


def _fluorescence(channel: etree._Element | None) -> bool:
    """Whether ZEN records a channel as fluorescence (not transmitted light)."""
    words = " ".join(text_of(channel, tag) or "" for tag in
                     ("ContrastMethod", "IlluminationType", "ChannelType")).lower()
    return "fluorescence" in words


def _display_range(display: etree._Element | None,
                   full: float | None) -> tuple[float, float] | None:
    """A channel's display range (ZEN's DisplaySetting), in pixel values.

    ZEN stores the black and white points (Low, High) as fractions of the range of the
    channel's pixel type (0..65535 for Gray16; `full` where it names none), Low 0 and
    High 1 where absent. None where neither is recorded, or for float pixels.
    """
    if display is None:
        return None
    low, high = (text_of(display, tag) for tag in ("Low", "High"))
    kind = text_of(display, "PixelType")
    if kind is not None:
        full = {"Gray8": 255.0, "Bgr24": 255.0, "Gray16": 65535.0, "Bgr48": 65535.0}.get(kind)
    if (low is None and high is None) or full is None:
        return None
    try:
        black, white = float(low or 0.0) * full, float(high or 1.0) * full
    except ValueError:
        return None
    if not (np.isfinite(black) and np.isfinite(white) and white > black):
        return None
    return (round(black, 3), round(white, 3))

def _airyscan(xml: etree._Element) -> bool:
    """Whether the image was taken with an Airyscan detector (its H axis: the elements)."""
    for detector in xml.iterfind(".//Detector"):
        words = (detector.get("Name") or "") + " " + (detector.findtext("DetectorIdentifier") or "")
        if "airyscan" in words.lower():
            return True
    return False


def _scene_wells(xml: etree._Element) -> dict[int | None, Well]:
    """The plate well of each scene, where ZEN records one (its Shape's 1-based row and column)."""
    out: dict[int | None, Well] = {}
    for sc in xml.iterfind(".//Information/Image/Dimensions/S/Scenes/Scene"):
        shape = sc.find("Shape")
        if shape is None:
            continue
        try:
            index, row, column = (int(text or "") for text in (
                sc.get("Index"), shape.findtext("RowIndex"), shape.findtext("ColumnIndex")))
        except ValueError:
            continue
        well = Well(row=row - 1, column=column - 1)
        if well.on_plate:
            out[index] = well
    return out


def _scene_names(xml: etree._Element) -> dict[int | None, str]:
    out: dict[int | None, str] = {}
    for sc in xml.iterfind(".//Information/Image/Dimensions/S/Scenes/Scene"):
        try:
            out[int(sc.get("Index"))] = sc.get("Name") or ""
        except (TypeError, ValueError):
            continue
    return out


def _survey(czi: CziReader) -> tuple[dict[int | None, int], dict[str, int]]:
    """Layer-0 tiles of the first plane per scene, and where each axis starts.

    An axis need not start at 0 (a Z range 2..3 is stored as Z=2, Z=3); libCZI's bounding
    box gives only its size, so the start comes from the subblocks themselves.
    """
    coords: list[dict[str, int]] = []

    def collect(_index: int, info: SubBlockInfo) -> bool:
        if info.get_zoom() >= 0.99:
            coords.append(info.coordinate.to_dict())
        return True

    czi.enumerate_subblocks(collect)
    starts: dict[str, int] = {}
    for coord in coords:
        for axis, value in coord.items():
            if axis != "S":
                starts[axis] = min(starts.get(axis, value), value)
    seen: Counter[int | None] = Counter()
    for coord in coords:
        if all(coord.get(a, 0) == v for a, v in starts.items()):
            seen[coord.get("S")] += 1
    return dict(seen), starts


def czi_acquisition(root: etree._Element) -> Acquisition:
    """Instrument, objectives, detectors, date, user and mode from ZEN's metadata XML.

    Parameters
    ----------
    root : lxml.etree._Element
        The parsed metadata document (``ImageDocument``).

    Returns
    -------
    Acquisition
        What the document records; fields it lacks are empty.
    """
    from ome_types import model as ome

    info = root.find(".//Metadata/Information")
    instrument_xml = info.find("Instrument") if info is not None else None
    date = (parse_date(text_of(info, "Image/AcquisitionDateAndTime"))
            or parse_date(text_of(info, "Document/CreationDate")))
    user = text_of(info, "Document/UserName") or text_of(info, "User/DisplayName")
    experimenters = (ome.Experimenter(id="Experimenter:0", user_name=user),) if user else ()
    modes = [m.text.strip() for m in root.iterfind(
        ".//Information/Image/Dimensions/Channels/Channel/AcquisitionMode") if m.text]
    mode = modes[0] if modes else None
    if instrument_xml is None or not len(instrument_xml):
        return Acquisition(acquisition_date=date, experimenters=experimenters,
                           acquisition_mode=mode)
    microscope = instrument_xml.find("Microscopes/Microscope")
    objectives = [
        ome.Objective(
            id=f"Objective:{i}",
            model=obj.get("Name") or text_of(obj, "Manufacturer/Model"),
            nominal_magnification=positive_float(text_of(obj, "NominalMagnification")),
            lens_na=positive_float(text_of(obj, "LensNA")),
            immersion=immersion(text_of(obj, "Immersion")),
            working_distance=positive_float(text_of(obj, "WorkingDistance")),
        )
        for i, obj in enumerate(instrument_xml.iterfind("Objectives/Objective"))
    ]
    detectors = [
        ome.Detector(id=f"Detector:{i}",
                     model=det.get("Name") or text_of(det, "Manufacturer/Model") or det.get("Id"),
                     gain=positive_float(text_of(det, "Gain")))
        for i, det in enumerate(instrument_xml.iterfind("Detectors/Detector"))
    ]
    scope = None
    if microscope is not None:
        kind = text_of(microscope, "Type")
        scope = ome.Microscope(model=microscope.get("Name") or text_of(microscope, "System"),
                               manufacturer="Carl Zeiss",
                               type=ome.Microscope_Type(kind) if kind in (
                                   "Upright", "Inverted", "Dissection", "Electrophysiology")
                               else None)
    instrument = ome.Instrument(id="Instrument:0", microscope=scope, objectives=objectives,
                                detectors=detectors)
    return Acquisition(instrument=instrument, acquisition_date=date,
                       experimenters=experimenters, acquisition_mode=mode)


class _Reader(ReaderBase):
    library = "pylibCZIrw"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_czi(path, fmt)


READER = _Reader()
