"""OME-Zarr (NGFF 0.4 and 0.5), local or over HTTP, read with zarr.

Read here rather than through bioio-ome-zarr because the whole NGFF description is wanted
(axis units, `omero` colours and display windows, every multiscale level) and because remote
reads need a time limit, which bioio cannot pass to fsspec.
"""

from __future__ import annotations

import dask.array as da

from .._xml import refuse_dtd
from ..colors import complete_colors, parse_color
from ..formats import FileFormat
from ..model import Channel, ImageSource, Scene
from ..units import symbol
from .axes import canonical
from .remote import fs_kwargs, is_remote


def ngff_attrs(group) -> dict:
    """The NGFF attributes of a group: under 'ome' in 0.5, at the top level in 0.4."""
    attrs = dict(group.attrs)
    return dict(attrs["ome"]) if isinstance(attrs.get("ome"), dict) else attrs


def open_ngff(path: str, fmt: FileFormat) -> ImageSource:
    import zarr

    options = {"storage_options": fs_kwargs()} if is_remote(path) else {}
    root = zarr.open_group(path, mode="r", **options)
    attrs = ngff_attrs(root)
    if "multiscales" in attrs:
        groups = [root]
    elif "bioformats2raw.layout" in attrs:
        groups = [root[key] for key in sorted((k for k in root.group_keys() if k.isdigit()),
                                              key=int)]
    elif "plate" in attrs:
        raise ValueError("HCS plates are not supported yet; open one well's field instead")
    else:
        raise ValueError("no OME-Zarr image here (no 'multiscales' or bioformats2raw layout)")
    scenes = [_scene(group, index) for index, group in enumerate(groups)]
    # OME/METADATA.ome.xml, where there is one; ImageSource.ome falls back when it is absent.
    return ImageSource(path=path, format=fmt, scenes=scenes, reader="zarr",
                       ome_factory=_ome_factory(path))


def _scene(group, index: int) -> Scene:
    attrs = ngff_attrs(group)
    multiscale = attrs["multiscales"][0]
    axes = [a if isinstance(a, dict) else {"name": a} for a in multiscale.get("axes", [])]
    names = "".join(a["name"].upper() for a in axes) or "TCZYX"[-group[
        multiscale["datasets"][0]["path"]].ndim:]
    levels = []
    for dataset in multiscale["datasets"]:
        data, dims = canonical(da.from_zarr(group[dataset["path"]]), names)
        levels.append(data)
    scale = _scale(multiscale["datasets"][0], len(names))
    physical: dict[str, float | None] = {"Z": None, "Y": None, "X": None}
    units: dict[str, str] = {}
    for axis, value in zip(names, scale):
        meta = next(a for a in axes if a["name"].upper() == axis) if axes else {}
        if meta.get("type") == "channel" or axis == "C":
            continue
        if axis == "T" and not meta.get("unit"):
            continue
        unit = meta.get("unit")
        # A scale of 1 without a unit says nothing: the size is unknown.
        known = value and value > 0 and (unit or value != 1.0)
        physical[axis] = float(value) if known else None
        if known and unit:
            units[axis] = symbol(unit, str(unit))
    sizes = dict(zip(dims, levels[0].shape))
    if sizes.get("Z", 1) == 1 and not any(a["name"].upper() == "Z" for a in axes):
        physical["Z"] = None
    channels = _channels(attrs.get("omero") or {}, sizes.get("C", 1))
    name = multiscale.get("name") or (group.basename if group.basename else "")
    return Scene(index=index, name=name or f"Image {index}", data=levels[0], dims=dims,
                 physical_pixel_sizes=physical, units={k: v for k, v in units.items() if v},
                 channels=channels, pyramid=levels[1:], labels=_labels(group))


def _labels(group) -> dict[str, da.Array]:
    """The full-resolution level of each NGFF label image of an image group."""
    if "labels" not in group.group_keys():
        return {}
    labels_group = group["labels"]
    out = {}
    for name in ngff_attrs(labels_group).get("labels", []):
        try:
            label = labels_group[name]
            multiscale = ngff_attrs(label)["multiscales"][0]
            axes = "".join(a["name"].upper() if isinstance(a, dict) else a.upper()
                           for a in multiscale["axes"])
            out[name] = canonical(da.from_zarr(label[multiscale["datasets"][0]["path"]]),
                                  axes)[0]
        except (KeyError, IndexError, TypeError):
            continue  # a broken label image is skipped; the image itself still opens
    return out


def _scale(dataset: dict, ndim: int) -> list[float]:
    for transform in dataset.get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            return [float(v) for v in transform["scale"]]
    return [1.0] * ndim


def _channels(omero: dict, n: int) -> list[Channel]:
    meta = omero.get("channels") or []
    if len(meta) != n:
        meta = [{}] * n
    colors = complete_colors([parse_color(m.get("color")) for m in meta])
    out = []
    for i, m in enumerate(meta):
        window = m.get("window") or {}
        limits = None
        if "start" in window and "end" in window and window["end"] > window["start"]:
            limits = (float(window["start"]), float(window["end"]))
        out.append(Channel(name=m.get("label") or f"Channel {i}", color=colors[i],
                           contrast_limits=limits, named=bool(m.get("label"))))
    return out


def _ome_factory(path: str):
    """The bioformats2raw layout's OME-XML (OME/METADATA.ome.xml), parsed when first asked."""

    def load():
        import fsspec
        import ome_types

        url = path.rstrip("/") + "/OME/METADATA.ome.xml"
        with fsspec.open(url, "rb", **(fs_kwargs() if is_remote(path) else {})) as fh:
            text = fh.read().decode("utf-8")
        refuse_dtd(text, "OME/METADATA.ome.xml")
        return ome_types.from_xml(text)

    return load
