"""The HDF5 family through h5py (bioio has no HDF5 reader).

BigDataViewer XML/HDF5, Imaris .ims and plain HDF5 datasets. Resolution levels become
pyramids; nothing is read at open.

External links, external raw storage and virtual datasets that point outside the file are
refused: opening a file must never read another one. FIFOs and devices reached by name (the
HDF5 file a BigDataViewer XML names, XML files probed beside an HDF5 file) are not read.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

from .._xml import parse_xml
from ..colors import complete_colors, default_colors, parse_color
from ..formats import FileFormat, file_stem, format_for
from ..model import Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, canonical, chunked_array
from ..scene.budget import SizeRefused, max_chunks
from ..units import symbol
from .contract import ReaderBase
from .files import check_regular, read_regular
from .handles import LazyHandle

if TYPE_CHECKING:
    import h5py
    from lxml import etree

    from ..scene.chunked import ChunkedArray

FORMAT_BDV = format_for("x.xml")  # the registry's row of BigDataViewer XML
MIN_IMAGE_SIDE = 8
MAX_GROUP_DEPTH = 1000  # deeper nesting is refused, not walked
MAX_OBJECTS = 100_000  # groups and datasets walked at open


class H5Handle(LazyHandle["h5py.File"]):
    """One read-only h5py file per path, shared by threads."""

    def _open(self) -> h5py.File:
        import h5py

        return h5py.File(self.path, "r")

    @property
    def file(self) -> h5py.File:
        """The open file."""
        return self.opened


class H5Array:
    """Array-like over one dataset, optionally cropped and with its dtype reinterpreted."""

    def __init__(self, handle: H5Handle, name: str, shape: tuple[int, ...],
                 dtype: npt.DTypeLike, view: npt.DTypeLike | None = None) -> None:
        self.handle, self.name = handle, name
        self.shape, self.dtype, self.view = tuple(shape), np.dtype(dtype), view
        self.ndim = len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The pixels of a region, read under the file's lock."""
        with self.handle.lock:
            out: npt.NDArray[Any] = self.handle.file[self.name][key]
        return out.view(self.view) if self.view is not None else out


def _lazy(handle: H5Handle, name: str, origin: ChunkOrigin, shape: tuple[int, ...] | None = None,
          view: npt.DTypeLike | None = None) -> ChunkedArray:
    array, chunks = _dataset(handle, name, shape, view)
    return chunked_array(array, chunks, origin)


def _dataset(handle: H5Handle, name: str, shape: tuple[int, ...] | None = None,
             view: npt.DTypeLike | None = None) -> tuple[H5Array, tuple[int, ...]]:
    """A dataset (cropped to `shape`, its type viewed as `view`) and the chunks to read it in."""
    dset = handle.file[name]
    if shape is not None and any(s > n for s, n in zip(shape, dset.shape)):
        raise ValueError(f"the dataset {name} holds {dset.shape}, not {tuple(shape)}")
    shape = tuple(shape or dset.shape)
    dtype = np.dtype(view) if view is not None else dset.dtype
    chunks = dset.chunks or tuple(min(n, 512) for n in shape)
    chunks = tuple(min(c, n) for c, n in zip(chunks, shape))
    return H5Array(handle, name, shape, dtype, view), chunks


class H5Stack:
    """One ZYX dataset per time point and channel, as one TCZYX array.

    BigDataViewer and Imaris store a dataset per (time point, channel); a chunk is a chunk
    of one of them. Every dataset has the first's shape and type.
    """

    def __init__(self, datasets: list[list[H5Array]]) -> None:
        first = datasets[0][0]
        for per_c in datasets:
            for dataset in per_c:
                if (dataset.shape, dataset.dtype) != (first.shape, first.dtype):
                    raise ValueError(
                        f"the dataset {dataset.name} ({dataset.dtype}, {dataset.shape}) does "
                        f"not match {first.name} ({first.dtype}, {first.shape})")
        self.datasets = datasets
        self.shape = (len(datasets), len(datasets[0]), *first.shape)
        self.dtype, self.ndim = first.dtype, len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """A chunk of one time point and channel's dataset."""
        t, c = key[0].start or 0, key[1].start or 0
        return self.datasets[t][c][tuple(key[2:])][None, None]


def _stacked(handle: H5Handle, names: list[list[str]],
             shapes: list[list[tuple[int, ...]]] | None = None,
             viewed: bool = False) -> ChunkedArray:
    """The datasets named per time point and channel as one lazy TCZYX array.

    `shapes`: each dataset's image (its padding cropped). `viewed`: int16 datasets are read
    as uint16 (BigDataViewer stores uint16 so).
    """
    f = handle.file
    read = [[_dataset(handle, name, shapes[t][c] if shapes else None,
                      np.uint16 if viewed and f[name].dtype == np.int16 else None)
             for c, name in enumerate(per_c)] for t, per_c in enumerate(names)]
    stack = H5Stack([[array for array, _ in per_c] for per_c in read])
    return chunked_array(stack, (1, 1, *read[0][0][1]), ChunkOrigin(handle.path, "TCZYX"))


def check_links(h5file: h5py.File) -> None:
    """Refuse what would read other files, and structures too deep or too large to walk.

    External links, datasets whose raw storage is external (another file's bytes read as
    pixels) and virtual datasets whose sources lie in other files are refused. Groups are
    walked without recursion, each object once (hard links may form cycles), at most
    `MAX_GROUP_DEPTH` deep and `MAX_OBJECTS` in all.

    Raises
    ------
    ValueError
        Naming up to three of the links or datasets, or the limit exceeded.
    """
    import h5py

    problems: list[str] = []
    seen = {h5file.id}
    pending: list[tuple[h5py.Group, str, int]] = [(h5file, "", 0)]
    while pending:
        group, prefix, depth = pending.pop()
        if depth >= MAX_GROUP_DEPTH:
            raise ValueError(f"its groups nest deeper than {MAX_GROUP_DEPTH} levels "
                             f"(at {prefix}), which is not walked")
        for key in group:
            link = group.get(key, getlink=True)
            path = f"{prefix}/{key}"
            if isinstance(link, h5py.ExternalLink):
                problems.append(f"{path} links to {link.filename}")
                continue
            if isinstance(link, h5py.SoftLink):
                continue
            obj = group[key]
            if obj.id in seen:
                continue  # a hard link to an object already seen (maybe a cycle)
            seen.add(obj.id)
            if len(seen) > MAX_OBJECTS:
                raise ValueError(f"it holds more than {MAX_OBJECTS} groups and datasets, "
                                 "which are not walked")
            if isinstance(obj, h5py.Group):
                pending.append((obj, path, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                problems.extend(_outside(obj, path))
    if problems:
        raise ValueError("refers to other files, which are not opened: " + "; ".join(problems[:3]))


def _outside(dset: h5py.Dataset, path: str) -> list[str]:
    """What of another file a dataset would read: external raw storage, virtual sources."""
    external = dset.external or []
    if external or dset.id.get_create_plist().get_external_count():
        names = sorted({_text(name) for name, *_ in external}) or ["another file"]
        return [f"{path} stores its data in {', '.join(names)}"]
    if dset.is_virtual:
        outside = {s.file_name for s in dset.virtual_sources() if s.file_name != "."}
        if outside:
            return [f"{path} is a virtual dataset reading {sorted(outside)}"]
    return []


def open_hdf5(path: str, fmt: FileFormat) -> ImageSource:
    """Open a BigDataViewer, Imaris or plain HDF5 file with h5py, reading no pixels.

    Parameters
    ----------
    path : str
        A local file: an HDF5 file, or a BigDataViewer XML file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per image: the Imaris dataset, each BigDataViewer view setup group, or
        each image-like dataset of a plain file. An HDF5 file of a BigDataViewer dataset
        opens as that dataset when its XML lies beside it.

    Raises
    ------
    ValueError
        If the file refers to other files, or holds no image.
    """
    if fmt.name == "BigDataViewer":
        return _bdv(path, fmt)
    handle = H5Handle(path)
    try:
        check_links(handle.file)
        if "s00/resolutions" in handle.file:
            xml = _bdv_xml_for(path)
            if xml is not None and FORMAT_BDV is not None:
                handle.close()
                return _bdv(xml, FORMAT_BDV)
        if fmt.name == "Imaris" or "ImarisDataSet" in handle.file.attrs:
            scenes = _imaris(handle)
        else:
            scenes = _plain(handle, path)
    except Exception:
        handle.close()
        raise
    if not scenes:
        handle.close()
        raise ValueError("no image datasets (numeric, two or more dimensions) in the file")
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="h5py", handles=[handle])


def _bdv_xml_for(h5_path: str) -> str | None:
    """The BigDataViewer XML beside an HDF5 file that names it, if any."""
    folder, name = os.path.split(os.path.abspath(h5_path))
    for entry in sorted(os.listdir(folder)):
        if entry.lower().endswith(".xml"):
            xml = os.path.join(folder, entry)
            try:
                head = read_regular(xml, 65536, head=True)
            except (OSError, ValueError):
                continue  # unreadable, or a FIFO or device: not a dataset's XML
            if b"<SpimData" in head and name.encode() in head:
                return xml
    return None


def _text(value: object) -> str:
    """Imaris stores attribute strings as arrays of single bytes."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "S":
            return b"".join(value.ravel().tolist()).decode("utf-8", "replace")
        return " ".join(str(v) for v in value.ravel())
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _float(attrs: Mapping[str, object], key: str) -> float | None:
    try:
        return float(_text(attrs[key]))
    except (KeyError, ValueError):
        return None


def _numbered(group: h5py.Group, prefix: str) -> list[str]:
    """Imaris' 'Prefix N' members in numeric order."""
    return sorted((k for k in group if k.startswith(prefix)), key=lambda k: int(k.split()[-1]))


def _imaris(handle: H5Handle) -> list[Scene]:
    f = handle.file
    base = f["DataSet"]
    levels = _numbered(base, "ResolutionLevel")
    first = base[levels[0]]
    times = _numbered(first, "TimePoint")
    chans = _numbered(first[times[0]], "Channel")

    def image_size(level: str, t: str, c: str) -> tuple[int, ...]:
        # each dataset's image size (ImageSize): datasets are padded to whole chunks
        size = [int(_float(base[level][t][c].attrs, f"ImageSize{a}") or 0) for a in "ZYX"]
        return tuple(min(s, n) if s else n
                     for s, n in zip(size, f[f"DataSet/{level}/{t}/{c}/Data"].shape))

    def level_array(level: str) -> ChunkedArray:
        return _stacked(handle, [[f"DataSet/{level}/{t}/{c}/Data" for c in chans]
                                 for t in times],
                        [[image_size(level, t, c) for c in chans] for t in times])

    arrays = [level_array(level) for level in levels]
    info = f["DataSetInfo"]
    image = info["Image"].attrs if "Image" in info else {}
    sizes = dict(zip("ZYX", arrays[0].shape[-3:]))
    physical: dict[str, float | None] = {}
    for i, axis in enumerate("XYZ"):
        lo, hi = _float(image, f"ExtMin{i}"), _float(image, f"ExtMax{i}")
        physical[axis] = (hi - lo) / sizes[axis] if lo is not None and hi is not None and hi > lo \
            else None
    unit = (symbol(_text(image["Unit"])) or "µm") if "Unit" in image else "µm"
    units = {a: unit for a, v in physical.items() if v}
    names: list[str] = []
    colors: list[str | None] = []
    limits: list[tuple[float, float] | None] = []
    for i in range(len(chans)):
        attrs = info[f"Channel {i}"].attrs if f"Channel {i}" in info else {}
        names.append(_text(attrs["Name"]).strip() if "Name" in attrs else "")
        rgb = _text(attrs["Color"]).split() if "Color" in attrs else []
        colors.append(parse_color(tuple(round(float(v) * 255) for v in rgb[:3]))
                      if len(rgb) >= 3 else None)
        span = _text(attrs["ColorRange"]).split() if "ColorRange" in attrs else []
        limits.append((float(span[0]), float(span[1])) if len(span) == 2 else None)
    shown = complete_colors(colors)
    channels = [Channel(name=names[i] or f"Channel {i}", color=shown[i],
                        contrast_limits=limits[i], named=bool(names[i]))
                for i in range(len(chans))]
    return [Scene(index=0, name=file_stem(handle.path),
                  pixels=arrays[0], dims="TCZYX", physical_pixel_sizes=physical, units=units,
                  channels=channels, pyramid=arrays[1:])]


def _plain(handle: H5Handle, path: str) -> list[Scene]:
    import h5py

    found = []

    def visit(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset) and obj.ndim >= 2 and obj.dtype.kind in "uifb":
            if min(obj.shape[-2:]) >= MIN_IMAGE_SIDE:  # not a small table of numbers
                found.append(name)

    handle.file.visititems(visit)
    axes_by_ndim = {2: "YX", 3: "ZYX", 4: "CZYX", 5: "TCZYX"}
    scenes: list[Scene] = []
    for name in found:
        dset = handle.file[name]
        axes = axes_by_ndim.get(dset.ndim)
        if axes is None:
            continue
        data, dims = canonical(_lazy(handle, name, ChunkOrigin(handle.path, axes)), axes)
        physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
        element = dset.attrs.get("element_size_um")
        if element is not None:
            values = [float(v) for v in np.ravel(element)]
            for axis, value in zip(reversed("ZYX"), reversed(values)):
                physical[axis] = value if value > 0 else None
        units = {a: "µm" for a, v in physical.items() if v}
        n = data.shape[dims.index("C")]
        channels = [Channel(name=f"Channel {i}", color=c, named=False)
                    for i, c in enumerate(default_colors(n))]
        scenes.append(Scene(index=len(scenes), name="/" + name, pixels=data, dims=dims,
                            physical_pixel_sizes=physical, units=units, channels=channels))
    return scenes


def _bdv(xml_path: str, fmt: FileFormat) -> ImageSource:
    text = read_regular(xml_path)
    root = parse_xml(text, "the BigDataViewer XML")
    h5_path = bdv_hdf5_path(root, os.path.dirname(os.path.abspath(xml_path)))
    if not os.path.exists(h5_path):
        raise FileNotFoundError(f"its HDF5 file {h5_path} is missing")
    check_regular(h5_path)
    handle = H5Handle(h5_path)
    try:
        check_links(handle.file)
        scenes = _bdv_scenes(root, handle)
    except Exception:
        handle.close()
        raise
    return ImageSource(path=xml_path, format=fmt, scenes=scenes, reader="h5py", handles=[handle])


def bdv_hdf5_path(root: etree._Element, folder: str) -> str:
    """The HDF5 file a BigDataViewer XML names, as BigDataViewer finds it.

    Its image loader's ``hdf5`` element; a relative one is taken from the folder the
    relative ``BasePath`` names (from the XML's own folder), else from the XML's folder.

    Parameters
    ----------
    root : lxml.etree._Element
        The XML, parsed (`parse_xml`).
    folder : str
        The XML's folder (relative to the working folder, or absolute).

    Returns
    -------
    str
        The HDF5 file's path, normalized, relative where `folder` is; it may not exist.

    Raises
    ------
    ValueError
        For XML that is no SpimData, another image loader than bdv.hdf5, or one naming no
        file.
    """
    if root.tag != "SpimData":
        raise ValueError("not a BigDataViewer SpimData XML file")
    loader = root.find("SequenceDescription/ImageLoader")
    if loader is None or loader.get("format") != "bdv.hdf5":
        fmt_name = loader.get("format") if loader is not None else "none"
        raise ValueError(f"image loader {fmt_name!r} is not supported (only bdv.hdf5)")
    base = folder
    base_path = root.find("BasePath")
    if base_path is not None and base_path.get("type") == "relative":
        base = os.path.join(base, base_path.text or ".")
    h5 = loader.find("hdf5")
    name = (h5.text or "").strip() if h5 is not None else ""
    if not name:
        raise ValueError("its image loader names no HDF5 file")
    if h5 is not None and h5.get("type", "relative") == "relative":
        return os.path.normpath(os.path.join(base, name))
    return name


def _timepoints(root: etree._Element) -> list[int]:
    tp = root.find("SequenceDescription/Timepoints")
    if tp is None:
        return [0]
    kind = tp.get("type", "range")
    if kind == "range":
        first, last = int(tp.findtext("first", "0")), int(tp.findtext("last", "0"))
        if last - first + 1 > max_chunks():  # each a group in the file: refused before listed
            raise SizeRefused(f"declares {last - first + 1:,} time points ({first} to {last}), "
                              f"more than the limit of {max_chunks():,} (LIGHTMIC_MAX_CHUNKS)")
        return list(range(first, last + 1))
    if kind == "list":
        return [int(v) for v in (tp.findtext("integerpattern") or tp.findtext("list") or "0")
                .replace(",", " ").split()]
    return [0]


class _Setup(TypedDict):
    """A BigDataViewer view setup, as its XML says."""

    id: int
    name: str
    voxel: etree._Element | None
    attrs: dict[str, str | None]


def _bdv_scenes(root: etree._Element, handle: H5Handle) -> list[Scene]:
    f = handle.file
    setups: list[_Setup] = []
    for vs in root.iterfind("SequenceDescription/ViewSetups/ViewSetup"):
        attributes = vs.find("attributes")
        attrs = {a.tag: a.text for a in attributes} if attributes is not None else {}
        setups.append({"id": int(vs.findtext("id")), "name": vs.findtext("name") or "",
                       "voxel": vs.find("voxelSize"), "attrs": attrs})
    channel_names = {c.findtext("id"): c.findtext("name")
                     for c in root.iterfind(".//Attributes[@name='channel']/Channel")}
    display = {d.findtext("id"): d for d in
               root.iterfind(".//Attributes[@name='displaysettings']/Displaysettings")}
    times = _timepoints(root)
    # Setups differing only by channel form one scene (angles, tiles, illuminations apart).
    groups: defaultdict[tuple[tuple[str, str | None], ...], list[_Setup]] = defaultdict(list)
    for s in setups:
        key = tuple(sorted((k, v) for k, v in s["attrs"].items()
                           if k not in ("channel", "displaysettings")))
        groups[key].append(s)
    scenes = []
    for index, (key, members) in enumerate(groups.items()):
        first = members[0]
        resolutions = f[f"s{first['id']:02d}/resolutions"][()]
        levels = []
        for level in range(len(resolutions)):
            cells = [[f"t{t:05d}/s{s['id']:02d}/{level}/cells" for s in members]
                     for t in times]
            levels.append(_stacked(handle, cells, viewed=True))
        physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
        units: dict[str, str] = {}
        voxel = first["voxel"]
        if voxel is not None:
            values = [float(v) for v in (voxel.findtext("size") or "").split()]
            unit = symbol(voxel.findtext("unit"), voxel.findtext("unit"))
            for axis, value in zip("XYZ", values):
                if value > 0:
                    physical[axis] = value
                    units[axis] = unit or "pixel"
        names: list[str] = []
        colors: list[str | None] = []
        limits: list[tuple[float, float] | None] = []
        for s in members:
            cid = s["attrs"].get("channel")
            names.append(_channel_name(channel_names.get(cid), s["name"], s["id"]))
            d = display.get(s["attrs"].get("displaysettings"))
            rgba = (d.findtext("color") or "").split() if d is not None else []
            colors.append(parse_color(tuple(int(v) for v in rgba[:3])) if len(rgba) >= 3 else None)
            limits.append(_display_limits(d))
        n = len(members)
        shown = complete_colors(colors if n == 1 else [
            None if c == "#FFFFFF" else c for c in colors])
        channels = [Channel(name=names[i], color=shown[i], contrast_limits=limits[i])
                    for i in range(n)]
        label = ", ".join(f"{k} {v}" for k, v in key) or first["name"] or f"Setup {first['id']}"
        notes = (["Pixels stored as int16 by BigDataViewer, restored to uint16."]
                 if any(f[f"t{times[0]:05d}/s{s['id']:02d}/0/cells"].dtype == np.int16
                        for s in members) else [])
        scenes.append(Scene(index=index, name=label, pixels=levels[0], dims="TCZYX",
                            physical_pixel_sizes=physical, units=units, channels=channels,
                            pyramid=levels[1:], notes=notes))
    return scenes


def _channel_name(channel: str | None, setup: str, setup_id: int) -> str:
    """A BigDataViewer channel's name.

    The channel attribute's name where it is a name; BigDataViewer's own exports name a
    channel by its number ('1'), which says less than the setup's name ('demoSlice.tif
    channel 1').
    """
    channel = (channel or "").strip()
    if channel and not channel.isdigit():
        return channel
    return setup.strip() or (f"Channel {channel}" if channel else f"Setup {setup_id}")


def _display_limits(settings: etree._Element | None) -> tuple[float, float] | None:
    """The min and max of BigDataViewer display settings; None where they are not numbers."""
    if settings is None:
        return None
    try:
        return (float(settings.findtext("min")), float(settings.findtext("max")))
    except (TypeError, ValueError):
        return None


class _Reader(ReaderBase):
    library = "h5py"

    def claims(self, path: str, fmt: FileFormat) -> bool:
        """Of all XML files, only BigDataViewer datasets (`<SpimData` in the first 4 KiB)."""
        if fmt.name != "BigDataViewer":
            return True
        try:
            return b"<SpimData" in read_regular(path, 4096, head=True)
        except (OSError, ValueError):
            return False

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_hdf5(path, fmt)


READER = _Reader()
