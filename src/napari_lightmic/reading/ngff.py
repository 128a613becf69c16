"""OME-Zarr (NGFF 0.4 and 0.5), local or over HTTP, read with zarr.

Read here rather than through bioio-ome-zarr because the whole NGFF description is wanted
(axis units, `omero` colours and display windows, every multiscale level) and because remote
reads need a time limit, which bioio cannot pass to fsspec.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeGuard

from .._xml import parse_xml
from ..colors import complete_colors, parse_color
from ..errors import cause_of, first_line
from ..formats import FileFormat, ngff_attributes
from ..model import Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, canonical, chunked_array
from ..scene.budget import SizeRefused
from ..units import symbol
from .contract import ReaderBase
from .files import MAX_METADATA_BYTES, check_regular, read_regular
from .remote import fs_kwargs, is_http

if TYPE_CHECKING:
    import dask.array as da
    import zarr
    from ome_types import OME

    from ..plate import PlateWell
    from ..scene.chunked import ChunkedArray

# JSON read from a Zarr group's attributes: any JSON value, checked where it is used.
Attrs = dict[str, Any]


def ngff_attrs(group: zarr.Group) -> Attrs:
    """The NGFF attributes of a group: under 'ome' in 0.5, at the top level in 0.4."""
    return dict(ngff_attributes(dict(group.attrs), v3=False))


def open_ngff(path: str, fmt: FileFormat) -> ImageSource:
    """Open an OME-Zarr image, or a bioformats2raw collection of them, with zarr.

    Parameters
    ----------
    path : str
        A local folder or an HTTP(S) URL (each request with a time limit).
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene per image group, every multiscale level a pyramid level.

    Raises
    ------
    ValueError
        If the path holds no OME-Zarr image, plate or well, or metadata too malformed to
        place the arrays.

    Notes
    -----
    An HCS plate opens as one mosaic scene per acquisition, with `ImageSource.plate`; a
    well as one scene per field.
    """
    import zarr

    if is_http(path):
        root = zarr.open_group(path, mode="r", storage_options=fs_kwargs())
    else:
        from .zarr_store import RegularFileStore  # a FIFO or device would block a read

        root = zarr.open_group(RegularFileStore(path, read_only=True), mode="r")
        ome_xml = os.path.join(path, "OME", "METADATA.ome.xml")
        if os.path.lexists(ome_xml):  # read later, when the metadata is first asked for
            check_regular(ome_xml)
    attrs = ngff_attrs(root)
    if "plate" in attrs:
        return _open_plate(root, attrs["plate"], path, fmt)
    if "multiscales" in attrs:
        groups = [root]
    elif "bioformats2raw.layout" in attrs:
        groups = [_group(root, key)
                  for key in sorted((k for k in root.group_keys() if k.isdigit()), key=int)]
    elif "well" in attrs:
        return _open_well(root, attrs["well"], path, fmt)
    else:
        raise ValueError("no OME-Zarr image here (no 'multiscales' or bioformats2raw layout)")
    scenes = [_scene_of(group, index, path) for index, group in enumerate(groups)]
    # OME/METADATA.ome.xml, where there is one; ImageSource.ome falls back when it is absent.
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="zarr",
                       ome_factory=_ome_factory(path), ome_xml=partial(_ome_text, path))


PARALLEL_READS = 16  # wells' and fields' metadata read at once (each a small file or request)


def _open_plate(root: zarr.Group, meta: object, path: str, fmt: FileFormat) -> ImageSource:
    """An HCS plate: one mosaic scene per acquisition (see `plate_mosaic`), and the plate.

    Each well's metadata (one small file) and each field's image metadata are read, no
    pixel: a well or field that cannot be read is shown empty and named in the notes.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..plate import plate_from_json
    from .plate_mosaic import plate_scenes

    plate = plate_from_json(meta)
    v3 = root.metadata.zarr_format == 3
    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        wells = tuple(pool.map(lambda well: _read_well(path, well, v3), plate.wells))
        plate = replace(plate, wells=wells)
        jobs = [(w.path, f.path) for w in wells for f in w.fields]
        opened = list(pool.map(lambda job: _field_or_problem(root, path, *job), jobs))
    plate, scenes = plate_scenes(plate, dict(zip(jobs, opened)), path)
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="zarr", plate=plate)


def _read_well(path: str, well: PlateWell, v3: bool) -> PlateWell:
    """The well with its fields, or with the problem that kept them from being read."""
    from ..plate import fields_from_json

    name = "zarr.json" if v3 else ".zattrs"
    try:
        attrs = ngff_attributes(json.loads(_read_small(_joined(path, f"{well.path}/{name}"))), v3)
        if "well" not in attrs:
            return replace(well, problem=f"its {name} holds no 'well' metadata")
        return replace(well, fields=fields_from_json(attrs["well"]))
    except FileNotFoundError:
        return replace(well, problem=f"no {name}")
    except Exception as exc:  # noqa: BLE001 - too large, not JSON, HTTP errors: this well's
        return replace(well, problem=cause_of(exc))




def _field_or_problem(root: zarr.Group, path: str, well: str, field: str) -> Scene | str:
    """A field's image (its levels lazy, its label images not looked for), or why not."""
    inner = f"{well}/{field}"
    try:
        return _scene_of(_group(root, inner), 0, _joined(path, inner), with_labels=False)
    except KeyError:
        return "missing"
    except Exception as exc:  # noqa: BLE001 - any library's failure: this field's problem
        return cause_of(exc)


def _open_well(root: zarr.Group, meta: object, path: str, fmt: FileFormat) -> ImageSource:
    """An HCS well: each field an ordinary scene, named by the well and the field."""
    from ..plate import fields_from_json

    parts = path.rstrip("/").replace("\\", "/").split("/")
    well = "".join(parts[-2:]) if len(parts) >= 2 else parts[-1]
    scenes: list[Scene] = []
    missing: list[str] = []
    broken: list[str] = []
    for image in fields_from_json(meta):
        try:
            group = _group(root, image.path)
        except KeyError:
            missing.append(image.path)
            continue
        try:
            scene = _scene_of(group, len(scenes), _joined(path, image.path))
        except (KeyError, IndexError, TypeError, ValueError, SizeRefused) as exc:
            broken.append(f"{image.path} ({first_line(str(exc)) or type(exc).__name__})")
            continue
        scenes.append(replace(scene, name=f"{well} field {image.path}"))
    if not scenes:
        raise ValueError("the well lists no field image that can be read" if broken
                         else "the well lists no field image that exists" if missing
                         else "the well lists no field image")
    notes = ([f"fields the well lists but that are missing: {', '.join(missing)}"]
             if missing else []) + (
        [f"fields that cannot be read: {', '.join(broken)}"] if broken else [])
    if notes:
        scenes = [replace(s, notes=[*s.notes, *notes]) for s in scenes]
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="zarr")


def member_path(path: str, inner: str) -> str:
    """A member ('A/1', a well) of the OME-Zarr at `path` (a folder or URL), as a path to open."""
    return _joined(path, inner)


def _joined(path: str, inner: str) -> str:
    """`inner` ('A/1/0') inside the folder or URL `path`."""
    if is_http(path):
        return f"{path.rstrip('/')}/{inner}"
    return os.path.join(path, *inner.split("/"))


def _group(root: zarr.Group, key: str) -> zarr.Group:
    import zarr

    node = root[key]
    if not isinstance(node, zarr.Group):
        raise ValueError(f"{key!r} is an array, not a group")
    return node


def _scene_of(group: zarr.Group, index: int, where: str, with_labels: bool = True) -> Scene:
    """One image group as a scene (with its label images, unless `with_labels` is False).

    Metadata too malformed to place the arrays is refused with what is wrong (the reader is
    lenient otherwise: `lightmic validate` judges).
    """
    multiscales = ngff_attrs(group).get("multiscales")
    if not isinstance(multiscales, list) or not multiscales:
        raise ValueError("'multiscales' is empty: the metadata describes no image")
    multiscale = multiscales[0]
    datasets = multiscale.get("datasets") if isinstance(multiscale, dict) else None
    if not isinstance(datasets, list) or not datasets:
        raise ValueError("multiscales[0] has no 'datasets': the metadata names no array")
    try:
        return _scene(group, index, where, with_labels)
    except KeyError as exc:
        raise ValueError(f"the multiscales metadata lacks {exc.args[0]!r}") from exc
    except (IndexError, TypeError, AttributeError) as exc:
        raise ValueError(f"the multiscales metadata is malformed ({exc})") from exc


def _scene(group: zarr.Group, index: int, where: str, with_labels: bool = True) -> Scene:
    attrs = ngff_attrs(group)
    multiscale = attrs["multiscales"][0]
    axes = [a if isinstance(a, dict) else {"name": a} for a in multiscale.get("axes") or []]
    first = _array(group, multiscale["datasets"][0]["path"])
    if not axes and not 2 <= first.ndim <= 5:
        raise ValueError(f"no axes in the metadata, and {first.ndim} dimensions are not "
                         "2 to 5 (T, C, Z, Y, X)")
    names = axis_letters(axes) if axes else "TCZYX"[5 - first.ndim:]
    levels = []
    for dataset in multiscale["datasets"]:
        array = _array(group, dataset["path"])
        if array.ndim != len(names):
            raise ValueError(f"the array {dataset['path']!r} has {array.ndim} dimensions but "
                             f"the multiscales metadata {len(names)} axes")
        data, dims = canonical(_lazy(array, where, names), names)
        levels.append(data)
    scale = _scale(multiscale["datasets"][0], len(names))
    physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
    units: dict[str, str] = {}
    for axis, value, meta in zip(names, scale, axes or [{}] * len(names)):
        if meta.get("type") == "channel" or axis == "C":
            continue
        if axis == "T" and not meta.get("unit"):
            continue
        unit = meta.get("unit")
        # A scale of 1 without a unit says nothing: the size is unknown.
        known = value and value > 0 and (unit or value != 1.0)
        physical[axis] = float(value) if known else None
        if known and unit:
            units[axis] = symbol(unit) or str(unit)
    sizes = dict(zip(dims, levels[0].shape))
    if sizes.get("Z", 1) == 1 and "Z" not in names:
        physical["Z"] = None
    channels = _channels(attrs.get("omero") or {}, sizes.get("C", 1))
    name = multiscale.get("name") or (group.basename if group.basename else "")
    own = dict(group.attrs).get("lightmic")
    notes = own.get("notes") if isinstance(own, dict) else None
    unnamed = own.get("unnamed_channels") if isinstance(own, dict) else None
    for i in unnamed if isinstance(unnamed, list) else []:
        if isinstance(i, int) and 0 <= i < len(channels):
            channels[i] = replace(channels[i], named=False)
    found, colors, skipped = _labels(group, where) if with_labels else ({}, {}, [])
    return Scene(index=index, name=name or f"Image {index}", pixels=levels[0], dims=dims,
                 physical_pixel_sizes=physical, units={k: v for k, v in units.items() if v},
                 channels=channels, pyramid=levels[1:], labels=found, label_colors=colors,
                 notes=[*([str(n) for n in notes] if isinstance(notes, list) else []),
                        *skipped])


def _lazy(array: zarr.Array[Any], where: str, axes: str) -> ChunkedArray:
    """The array's chunks, lazily; a chunk that fails to read names `where` and its plane."""
    return chunked_array(array, array.chunks, ChunkOrigin(where, axes))


def _array(group: zarr.Group, path: str) -> zarr.Array[Any]:
    import zarr

    try:
        node = group[path]
    except KeyError:
        raise ValueError(f"no array at {path!r}, which the multiscales metadata names") from None
    if not isinstance(node, zarr.Array):
        raise ValueError(f"{path!r} is a group, but the multiscales metadata names an array")
    return node


# Letters an NGFF axis of another name never takes: the canonical axes, and I and Q, which
# canonical() reads as a Z stack.
_RESERVED = set("TCZYXSIQ")


def axis_letters(axes: list[Attrs]) -> str:
    """One letter per NGFF axis.

    t, c, z, y, x by name; other names by type (time T, channel C, space the free ones of
    Z, Y, X, last first); custom or untyped axes (an "angle") by their first letter when
    free, else another free letter.

    Raises
    ------
    ValueError
        If two axes take one letter, or there are more axes than letters.
    """
    letters: list[str | None] = []
    for axis in axes:
        name = str(axis.get("name", "")).lower()
        letters.append(name.upper() if name in ("t", "c", "z", "y", "x") else None)
    used = {x for x in letters if x}
    for i, axis in enumerate(axes):
        kind = {"time": "T", "channel": "C"}.get(axis.get("type", ""))
        if letters[i] is None and kind and kind not in used:
            letters[i] = kind
            used.add(kind)
    space = [i for i, axis in enumerate(axes) if letters[i] is None
             and axis.get("type") == "space"]
    free = [x for x in "ZYX" if x not in used]
    for i, letter in zip(reversed(space), reversed(free)):
        letters[i] = letter
        used.add(letter)
    pool = [chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in _RESERVED]
    for i, axis in enumerate(axes):
        if letters[i] is None:
            initial = str(axis.get("name", "")).upper()[:1]
            chosen = (initial if initial in pool and initial not in used
                      else next((x for x in pool if x not in used), None))
            if chosen is None:
                raise ValueError("more axes than this reader can name")
            letters[i] = chosen
            used.add(chosen)
    if len(used) != len(letters):
        names = [str(axis.get("name")) for axis in axes]
        raise ValueError(f"the axes {names} name one axis twice")
    return "".join(letter for letter in letters if letter)  # every axis has its letter


LabelColors = dict[str, dict[int, tuple[int, int, int, int]]]


def _labels(group: zarr.Group, where: str
            ) -> tuple[dict[str, da.Array], LabelColors, list[str]]:
    """The full-resolution level of each NGFF label image of a group, colours and notes.

    The colours are the `image-label` "colors" each gives. A label image listed that cannot
    be read is skipped with a note: the image still opens.
    """
    if "labels" not in group.group_keys():
        return {}, {}, []
    labels_group = _group(group, "labels")
    out: dict[str, da.Array] = {}
    colors: LabelColors = {}
    skipped: list[str] = []
    for name in ngff_attrs(labels_group).get("labels", []):
        try:
            label = _group(labels_group, name)
            multiscale = ngff_attrs(label)["multiscales"][0]
            axes = axis_letters([a if isinstance(a, dict) else {"name": a}
                                 for a in multiscale["axes"]])
            array = _array(label, multiscale["datasets"][0]["path"])
            out[name] = canonical(_lazy(array, where, axes), axes)[0].to_dask()
            given = _label_colors(ngff_attrs(label).get("image-label"))
            if given:
                colors[name] = given
        except (KeyError, IndexError, TypeError, ValueError, SizeRefused) as exc:
            skipped.append(f"The label image {name!r} listed in labels/ cannot be read "
                           f"({first_line(str(exc)) or type(exc).__name__}); it is not shown.")
    return out, colors, skipped


def _label_colors(meta: object) -> dict[int, tuple[int, int, int, int]]:
    """A label image's colours: label value -> RGBA (0-255).

    Entries not of the spec's form (an integer value, four integers 0-255) are left out.
    """
    entries = meta.get("colors") if isinstance(meta, dict) else None
    out: dict[int, tuple[int, int, int, int]] = {}
    for entry in entries if isinstance(entries, list) else []:
        value = entry.get("label-value") if isinstance(entry, dict) else None
        rgba = entry.get("rgba") if isinstance(entry, dict) else None
        if (isinstance(value, int) and not isinstance(value, bool) and isinstance(rgba, list)
                and len(rgba) == 4 and all(isinstance(v, int) and 0 <= v <= 255
                                           for v in rgba)):
            out[value] = (rgba[0], rgba[1], rgba[2], rgba[3])
    return out


def _scale(dataset: Attrs, ndim: int) -> list[float]:
    for transform in dataset.get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            return [float(v) for v in transform["scale"]]
    return [1.0] * ndim


def _channels(omero: Attrs, n: int) -> list[Channel]:
    meta = omero.get("channels") if isinstance(omero, dict) else None
    meta = [m if isinstance(m, dict) else {} for m in meta] if isinstance(meta, list) else []
    if len(meta) != n:
        meta = [{}] * n
    colors = complete_colors([parse_color(m.get("color")) for m in meta])
    out = []
    for i, m in enumerate(meta):
        window = m.get("window") if isinstance(m.get("window"), dict) else {}
        start, end = window.get("start"), window.get("end")
        limits = None
        if _number(start) and _number(end) and end > start:
            limits = (float(start), float(end))
        label = m.get("label")  # a string by the spec; a number is taken as its text
        name = label if isinstance(label, str) else str(label) if _number(label) else ""
        out.append(Channel(name=name or f"Channel {i}", color=colors[i],
                           contrast_limits=limits, named=bool(name)))
    return out


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ome_factory(path: str) -> Callable[[], OME]:
    """The bioformats2raw layout's OME-XML (OME/METADATA.ome.xml), parsed when first asked."""
    return partial(_load_ome, path)


def _load_ome(path: str) -> OME:
    import ome_types

    text = _read_ome_text(path)
    parse_xml(text, "OME/METADATA.ome.xml")
    return ome_types.from_xml(text)


def _ome_text(path: str) -> str | None:
    """OME/METADATA.ome.xml as text; None where there is none (or it cannot be read)."""
    try:
        return _read_ome_text(path)
    except (OSError, ValueError):
        return None


def _read_ome_text(path: str) -> str:
    return _read_small(path.rstrip("/") + "/OME/METADATA.ome.xml").decode("utf-8")


def _read_small(url: str) -> bytes:
    """A metadata file of a local or remote OME-Zarr, whole, at most MAX_METADATA_BYTES.

    Raises
    ------
    FileNotFoundError
        When there is none.
    ValueError
        When it is larger, or not a regular file.
    """
    if not is_http(url):
        return read_regular(url)
    import fsspec

    with fsspec.open(url, "rb", **fs_kwargs()) as fh:
        raw = fh.read(MAX_METADATA_BYTES + 1)
    if len(raw) > MAX_METADATA_BYTES:
        raise ValueError(f"{url} is larger than {MAX_METADATA_BYTES} bytes, which is not read")
    return bytes(raw)


class _Reader(ReaderBase):
    library = "zarr"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_ngff(path, fmt)


READER = _Reader()
