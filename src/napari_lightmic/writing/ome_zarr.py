"""OME-Zarr writer: NGFF 0.5 (zarr v3) or 0.4 (zarr v2), streamed chunk by chunk.

Each level is written one (T, C) block at a time from the level above it, so memory stays
bounded by a few chunks whatever the image size. Channel labels, colours and windows go to
`omero`; axes carry types and units; the full OME-XML goes to OME/METADATA.ome.xml.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from ..errors import WriteError, utf8_tree
from ..formats import file_stem
from ..model import ImageSource, Scene, Well, row_name
from ..reading.tiff import single_threaded_decoding
from ..scene.chunked import ChunkedArray, LazyPixels, as_dask, compute
from ..scene.contrast import estimate_contrast
from ..units import for_ngff
from ..wells import plate_wells
from .chunks import ChunkWriter
from .common import Image5D, as_5d, atomic_target, halve_yx, level_shapes, plane_axes
from .options import WriteOptions

if TYPE_CHECKING:
    import dask.array as da
    import zarr

    from ..metadata.record import MetadataRecord

AXIS_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}
CHUNK_BYTES = 2 * 2**20  # about 2 MiB per chunk

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)
Advance = Callable[[int], None]  # (bytes written since)
Region = tuple[slice, ...]
Level: TypeAlias = "ChunkWriter | zarr.Array[Any]"  # an array written to


def write_ome_zarr(source: ImageSource, scenes: Sequence[Scene], target: str | os.PathLike[str],
                   options: WriteOptions = WriteOptions(), *,
                   progress: Progress | None = None, attributes: dict[str, Any] | None = None,
                   labels: dict[str, Any] | None = None,
                   label_colors: dict[str, dict[int, tuple[int, int, int, int]]] | None = None,
                   record: MetadataRecord | None = None) -> Path:
    """Write scenes of a source as one OME-Zarr (several as the bioformats2raw layout).

    Each scene's own label images (`Scene.labels`) are written as its NGFF labels, with
    their colours. `labels` (name -> integer array with the first image's axes but C) are
    further NGFF labels of the first image, `label_colors` their colours (value -> RGBA).
    Raises ValueError for a compression OME-Zarr does not take, or labels that do not fit
    the image. The same tree is written in parts, by separate
    processes, with `write_scene_group` and `finish_ome_zarr`.
    """
    import zarr

    options.compression_for("OME-Zarr")  # refused before anything is written
    wells = plate_wells(scenes, options.layout)
    images = [as_5d(scene) for scene in scenes]
    own_labels = [_scene_labels(scene, image) for scene, image in zip(scenes, images)]
    for image, (_, _, left_out) in zip(images, own_labels):
        image.notes.extend(left_out)
    # The metadata (the REMBI record, the OME-XML: a second of building on a large vendor
    # file) is made while the pixels are copied.
    metadata_pool = ThreadPoolExecutor(1)
    metadata = metadata_pool.submit(_metadata, source, scenes, images, record, wells)
    metadata_pool.shutdown(wait=False)
    total = sum(_bytes_of_pyramid(img, options.pyramid_levels) for img in images)
    advance = _advancing(progress, total)

    with atomic_target(target, options.overwrite) as tmp:
        root = zarr.open_group(str(tmp), mode="w", zarr_format=_zarr_format(options))
        groups = [root] if len(images) == 1 and wells is None else [
            root.create_group(str(i)) for i in range(len(images))]
        for i, (group, image, scene) in enumerate(zip(groups, images, scenes)):
            _write_image(group, image, scene, options, advance)
            own, colors, _ = own_labels[i]
            if i == 0 and labels:
                own.update(labels)
                colors.update(label_colors or {})
            if own:
                _write_labels(group, image, own, options, advance, colors)
        _finish(root, groups, tmp, images, metadata.result(), options.ngff_version,
                attributes, wells, file_stem(source.path))
    return Path(target)


def write_scene_group(scene: Scene, index: int, staging: str | os.PathLike[str],
                      options: WriteOptions = WriteOptions(), *,
                      progress: Progress | None = None) -> Path:
    """Write one scene as image group `index` of a multi-scene OME-Zarr staged in a folder.

    The group (``staging/INDEX``) appears only once written completely; one written before
    is replaced. Every scene's group written, `finish_ome_zarr` makes the folder the
    OME-Zarr that `write_ome_zarr` writes in one go. Raises ValueError for a compression
    OME-Zarr does not take.
    """
    import zarr

    options.compression_for("OME-Zarr")
    image = as_5d(scene)
    folder = Path(staging)
    folder.mkdir(parents=True, exist_ok=True)
    advance = _advancing(progress, _bytes_of_pyramid(image, options.pyramid_levels))
    with atomic_target(folder / str(index), overwrite=True) as tmp:
        group = zarr.open_group(str(tmp), mode="w", zarr_format=_zarr_format(options))
        _write_image(group, image, scene, options, advance)
        own, colors, _ = _scene_labels(scene, image)  # notes: written by finish_ome_zarr
        if own:
            _write_labels(group, image, own, options, advance, colors)
    return folder / str(index)


def finish_ome_zarr(source: ImageSource, scenes: Sequence[Scene],
                    staging: str | os.PathLike[str], target: str | os.PathLike[str],
                    options: WriteOptions = WriteOptions(), *,
                    attributes: dict[str, Any] | None = None,
                    record: MetadataRecord | None = None) -> Path:
    """Finish a multi-scene OME-Zarr whose image groups `write_scene_group` staged.

    Writes the root's attributes, each image's ``lightmic`` attributes and
    OME/METADATA.ome.xml into `staging`, then renames it to `target` (replaced only with
    `options.overwrite`). The staging folder is removed when this fails.

    Raises
    ------
    WriteError
        A scene's group is missing, or the target cannot be written.
    """
    import zarr

    if len(scenes) < 2:  # a caller's mistake: the staged groups are left as they are
        raise WriteError(target, "one scene is written in one go (write_ome_zarr)")
    wells = plate_wells(scenes, options.layout)
    images = [as_5d(scene) for scene in scenes]
    for scene, image in zip(scenes, images):
        image.notes.extend(_scene_labels(scene, image)[2])  # what each group left out
    with atomic_target(target, options.overwrite, staged=Path(staging)) as tmp:
        missing = [str(i) for i in range(len(images)) if not (tmp / str(i)).is_dir()]
        if missing:
            raise WriteError(target, f"the staged scene groups {', '.join(missing)} are "
                             "missing")
        metadata = _metadata(source, scenes, images, record, wells)
        root = zarr.open_group(str(tmp), mode="a", zarr_format=_zarr_format(options))
        groups = [root[str(i)] for i in range(len(images))]
        _finish(root, cast("list[zarr.Group]", groups), tmp, images, metadata,
                options.ngff_version, attributes, wells, file_stem(source.path))
    return Path(target)


def _zarr_format(options: WriteOptions) -> Literal[2, 3]:
    return 3 if options.ngff_version == "0.5" else 2


def _advancing(progress: Progress | None, total: int) -> Advance:
    """An `Advance` that tells `progress` the bytes written so far of `total`."""
    done = [0]

    def advance(nbytes: int) -> None:
        done[0] += nbytes
        if progress:
            progress(done[0], total)

    return advance


def _finish(root: zarr.Group, groups: list[zarr.Group], tmp: Path, images: list[Image5D],
            metadata: tuple[dict[str, Any], str], version: str,
            attributes: dict[str, Any] | None, wells: list[Well] | None = None,
            plate_name: str = "") -> None:
    """What follows the pixels: the layout, each image's own attributes, the OME-XML.

    With `wells`, the image groups (written as 0, 1, ...) are moved into their plate's
    row/column/field groups; the plate and its one acquisition are named `plate_name`.
    """
    if len(images) > 1 or wells is not None:
        _set_ngff(root, version, {"bioformats2raw.layout": 3})
    rembi, xml = metadata
    attributes = {**({"rembi": rembi, "schema": REMBI_SCHEMA} if rembi else {}),
                  **(attributes or {})}
    for group, image in zip(groups, images):
        # what the writer did to fit the open format, for readers and people alike
        own = {**attributes, **({"notes": image.notes} if image.notes else {})}
        if not all(c.named for c in image.channels):
            # the omero labels of unnamed channels are display defaults, not names
            own["unnamed_channels"] = [i for i, c in enumerate(image.channels)
                                       if not c.named]
        if own:
            group.attrs["lightmic"] = utf8_tree(own)
    series = _place_in_plate(root, tmp, wells, version, plate_name) if wells else (
        [str(i) for i in range(len(images))] if len(images) > 1 else [])
    _write_ome_xml(root, tmp, version, xml, series)


def _place_in_plate(root: zarr.Group, tmp: Path, wells: list[Well], version: str,
                    name: str) -> list[str]:
    """Move image groups 0, 1, ... to their wells' fields and describe the plate (NGFF HCS).

    Rows and columns span the wells written, from the first to the last (a well between
    them that was not imaged is left out of the wells). Gives each image's path, in order.
    """
    rows = range(min(w.row for w in wells), max(w.row for w in wells) + 1)
    columns = range(min(w.column for w in wells), max(w.column for w in wells) + 1)
    fields: dict[tuple[int, int], list[str]] = {}
    groups: dict[tuple[int, int], zarr.Group] = {}
    paths = []
    for i, well in enumerate(wells):
        where = f"{row_name(well.row)}/{well.column + 1}"
        groups[well.row, well.column] = root.require_group(where)
        os.rename(tmp / str(i), tmp / where / str(well.field))
        fields.setdefault((well.row, well.column), []).append(str(well.field))
        paths.append(f"{where}/{well.field}")
    own = {"version": "0.4"} if version == "0.4" else {}
    for (row, column), names in fields.items():
        _set_ngff(groups[row, column], version, {"well": {
            "images": [{"path": name, "acquisition": 0} for name in sorted(names, key=int)],
            **own}})
    _set_ngff(root, version, {"bioformats2raw.layout": 3, "plate": {
        "name": name,
        "rows": [{"name": row_name(r)} for r in rows],
        "columns": [{"name": str(c + 1)} for c in columns],
        "wells": [{"path": f"{row_name(r)}/{c + 1}", "rowIndex": r - rows[0],
                   "columnIndex": c - columns[0]} for r, c in sorted(fields)],
        "field_count": max(len(names) for names in fields.values()),
        "acquisitions": [{"id": 0, "name": name, "maximumfieldcount": max(
            len(names) for names in fields.values())}],
        **own}})
    return paths


def _metadata(source: ImageSource, scenes: Sequence[Scene], images: list[Image5D],
              record: MetadataRecord | None,
              wells: list[Well] | None = None) -> tuple[dict[str, Any], str]:
    """The REMBI record ({} when nothing is filled) and the OME-XML (a Plate of `wells`)."""
    from ..metadata.ome import export_xml, ome_for_export, rembi_pairs
    from ..metadata.prefill import record_from_source

    record = record or record_from_source(source)
    rembi = record.rembi.model_dump(mode="json", exclude_none=True) if rembi_pairs(record) \
        else {}
    return rembi, export_xml(source, ome_for_export(source, scenes, images, record, wells),
                             record.privacy)


REMBI_SCHEMA = "https://napari-lightmic.github.io/schema/metadata-record/1.json#/$defs/Rembi"


def _bytes_of_pyramid(image: Image5D, levels: int | None) -> int:
    itemsize = int(image.data.dtype.itemsize)
    return sum(int(np.prod(s)) * itemsize
               for s in level_shapes(image.data.shape, image.dims, levels))


def _set_ngff(group: zarr.Group, version: str, attrs: dict[str, Any]) -> None:
    attrs = utf8_tree(attrs)  # names from a file name that is not UTF-8 keep its bytes escaped
    if version == "0.5":
        group.attrs["ome"] = {"version": "0.5", **attrs}
    else:
        group.attrs.update(attrs)


# Blosc level 2 with byte shuffle and 256 KiB blocks: as small as level 3 with blosc's default
# blocks on microscopy data, at three times the speed (benchmarks/convert.py).
CLEVEL = 2
BLOCKSIZE = 2**18


def _codecs(compression: str, fmt: int, dtype: npt.DTypeLike) -> dict[str, Any]:
    if compression == "none":
        return {"compressors": None}
    if fmt == 3:
        from zarr.codecs import BloscCodec, GzipCodec

        if compression == "zlib":
            return {"compressors": GzipCodec(level=6)}
        cname = cast(Literal["zstd", "lz4"], compression)  # zlib and none are handled above
        return {"compressors": BloscCodec(cname=cname, clevel=CLEVEL, shuffle="shuffle",
                                          typesize=np.dtype(dtype).itemsize,
                                          blocksize=BLOCKSIZE)}
    from numcodecs import Blosc, GZip

    if compression == "zlib":
        return {"compressors": GZip(level=6)}
    return {"compressors": Blosc(cname=compression, clevel=CLEVEL, shuffle=Blosc.SHUFFLE,
                                 blocksize=BLOCKSIZE)}


def chunk_shape(shape: tuple[int, ...], dims: str, dtype: npt.DTypeLike) -> tuple[int, ...]:
    """One plane per chunk, square in Y and X, about CHUNK_BYTES."""
    side = int(np.sqrt(CHUNK_BYTES / np.dtype(dtype).itemsize))
    side = 1 << (side.bit_length() - 1)  # a power of two
    return tuple(min(n, side) if a in plane_axes(dims) else 1 for a, n in zip(dims, shape))


def _write_image(group: zarr.Group, image: Image5D, scene: Scene, options: WriteOptions,
                 advance: Advance) -> None:
    multiscale = _write_multiscale(group, image.data, image, options, advance, nearest=False,
                                   shard=options.shard)
    _set_ngff(group, options.ngff_version,
              {"multiscales": [multiscale], "omero": _omero(image, scene)})


def _scene_labels(scene: Scene, image: Image5D) -> tuple[
        dict[str, Any], dict[str, dict[int, tuple[int, int, int, int]]], list[str]]:
    """A scene's label images as `_write_labels` takes them, their colours, notes on the rest.

    The label images kept have the image's axes but C: integers of the image's shape (C
    aside). One that is not (a 2D segmentation of a Z stack, floats), or any of a scene
    whose axes the writer changes (`as_5d`), is left out: a note says so, for the image's
    notes.
    """
    if not scene.labels:
        return {}, {}, []
    c = scene.dims.index("C") if "C" in scene.dims else -1
    kept: dict[str, Any] = {}
    notes = []
    for name, label in scene.labels.items():
        fits = (scene.dims == image.dims and label.ndim == image.data.ndim
                and label.shape[c] == 1
                and label.shape[:c] + label.shape[c + 1:]
                == image.data.shape[:c] + image.data.shape[c + 1:]
                and np.issubdtype(label.dtype, np.integer))
        if fits:
            kept[name] = label[(slice(None),) * c + (0,)]
        else:
            notes.append(
                f"The label image {name!r} ({label.dtype}, shape {tuple(label.shape)}) is not "
                f"kept: NGFF labels are integers of the image's shape "
                f"({tuple(image.data.shape)}, C aside).")
    return kept, {name: dict(scene.label_colors[name]) for name in kept
                  if name in scene.label_colors}, notes


def _write_labels(image_group: zarr.Group, image: Image5D, labels: dict[str, Any],
                  options: WriteOptions, advance: Advance,
                  colors: dict[str, dict[int, tuple[int, int, int, int]]] | None = None) -> None:
    """NGFF labels: integer images with the image's axes (C of size one), nearest levels.

    `colors` (name -> label value -> RGBA, 0-255) become each label image's "colors".
    """
    version = options.ngff_version
    labels_group = image_group.create_group("labels")
    names = []
    import dask.array as da

    for name, given in labels.items():
        data = da.asarray(as_dask(given) if isinstance(given, ChunkedArray) else given)
        while data.ndim < image.data.ndim - 1:
            data = data[None]
        c = image.dims.index("C")
        data = da.expand_dims(data, c)
        if data.shape[:c] + data.shape[c + 1:] != image.data.shape[:c] + image.data.shape[c + 1:]:
            raise ValueError(f"labels {name!r} of shape {data.shape} do not fit the image "
                             f"{image.data.shape}")
        if not np.issubdtype(data.dtype, np.integer):
            raise ValueError(f"labels {name!r} are not integers ({data.dtype})")
        group = labels_group.create_group(name)
        multiscale = _write_multiscale(group, data, image, options, advance, nearest=True,
                                       shard=False)
        given = (colors or {}).get(name) or {}
        _set_ngff(group, version, {"multiscales": [multiscale], "image-label": {
            **({"colors": [{"label-value": int(v), "rgba": [int(x) for x in given[v]]}
                           for v in sorted(given)]} if given else {}),
            "source": {"image": "../../"}, **({"version": "0.4"} if version == "0.4" else {})}})
        names.append(name)
    _set_ngff(labels_group, version, {"labels": names})


def _create_levels(group: zarr.Group, data5: LazyPixels, image: Image5D, options: WriteOptions,
                   shapes: list[tuple[int, ...]], chunks: tuple[int, ...],
                   shard: bool) -> list[Level]:
    """The empty arrays of every level, written through `ChunkWriter` where it can."""
    fmt = 3 if options.ngff_version == "0.5" else 2
    compression = options.compression_for("OME-Zarr")
    arrays: list[Level] = []
    for level, shape in enumerate(shapes):
        level_chunks = tuple(min(c, n) for c, n in zip(chunks, shape))
        create = dict(_codecs(compression, fmt, data5.dtype))
        if fmt == 2:
            # NGFF 0.2-0.4 require "/" chunk keys: zarr-2 clients that do not honour
            # .zarray's separator (ome-zarr < 0.11) would read every chunk as missing
            create["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        if fmt == 3:
            create["dimension_names"] = [a.lower() for a in image.dims]
            if shard:
                create["shards"] = tuple(
                    min(c * 4, -(-n // c) * c) if a in plane_axes(image.dims) else c
                    for a, c, n in zip(image.dims, level_chunks, shape))
        # Every chunk is written, empty or not: comparing each to the fill value costs more.
        array = group.create_array(str(level), shape=shape, chunks=level_chunks,
                                   dtype=data5.dtype, fill_value=0,
                                   config={"write_empty_chunks": True}, **create)
        arrays.append(ChunkWriter(array) if ChunkWriter.usable(array) else array)
    return arrays


def _write_multiscale(group: zarr.Group, data5: LazyPixels, image: Image5D,
                      options: WriteOptions, advance: Advance, *, nearest: bool,
                      shard: bool) -> dict[str, Any]:
    shapes = level_shapes(data5.shape, image.dims, options.pyramid_levels)
    chunks = chunk_shape(shapes[0], image.dims, data5.dtype)
    arrays = _create_levels(group, data5, image, options, shapes, chunks, shard)

    # Readers that are not thread-safe serialise their own reads (scene.axes.SerialReads).
    read = data5.read if isinstance(data5, ChunkedArray) else _dask_reads(data5)

    # A block of 2 x 2 chunks halves into exactly one chunk of level 1: made now, from the
    # block in memory, instead of reading level 0 back. Where a block is a whole plane, every
    # further level is made from it too.
    plane = plane_axes(image.dims)
    whole_planes = all(n <= 2 * c for a, n, c in zip(image.dims, shapes[0], chunks) if a in plane)
    in_memory = len(arrays) if whole_planes else min(len(arrays), 2)

    def lower_levels(region: Region, block: np.ndarray) -> int:
        written = 0
        for level in range(1, in_memory):
            region, block = _halved(region, image.dims), halve_yx(block, image.dims, nearest)
            arrays[level][region] = block
            written += block.nbytes
        return written

    with single_threaded_decoding():  # blocks are read in parallel already
        copy_blocks(read, arrays[0], image.dims, advance,
                    after=lower_levels if len(arrays) > 1 else None)
    for level in range(in_memory, len(arrays)):  # each further level from the one above it
        copy_blocks(_halving(arrays[level - 1], image.dims, nearest), arrays[level], image.dims,
                    advance)
    return _multiscale(image, len(shapes), nearest, options.ngff_version)


def _dask_reads(data: da.Array) -> Callable[[Region], np.ndarray]:
    """Read a region by computing its dask array on the calling thread."""

    def read(region: Region) -> np.ndarray:
        return np.asarray(compute(data[region], "synchronous"))

    return read


def _halving(above: Level, dims: str, nearest: bool) -> Callable[[Region], np.ndarray]:
    """Read a region of a level by halving the region of the level above it."""

    def read(region: Region) -> np.ndarray:
        return halve_yx(np.asarray(above[_doubled(region, above.shape, dims)]), dims, nearest)

    return read


def _multiscale(image: Image5D, n_levels: int, nearest: bool, version: str) -> dict[str, Any]:
    """The NGFF multiscale of an image's levels: axes with units, each level's scale."""
    scale0, axes = [], []
    for a in image.dims:
        axis = {"name": a.lower(), "type": AXIS_TYPES[a]}
        size, unit = for_ngff(image.physical.get(a) or 1.0, image.units.get(a))
        if unit and image.physical.get(a):
            axis["unit"] = unit
        scale0.append(size)
        axes.append(axis)
    datasets = []
    for level in range(n_levels):
        factors = [2.0**level if a in plane_axes(image.dims) else 1.0 for a in image.dims]
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [s * f for s, f in zip(scale0, factors)]}]})
    method = "nearest" if nearest else "2x2 mean"
    multiscale = {"name": image.name, "axes": axes, "datasets": datasets,
                  "type": method, "metadata": {"method": f"napari_lightmic {method}"}}
    if version == "0.4":
        multiscale["version"] = "0.4"
    return multiscale


def _blocks(shape: tuple[int, ...], dims: str, chunks: tuple[int, ...]) -> list[Region]:
    """Chunk-aligned regions of two by two chunks in Y and X, one plane deep."""
    steps = [c * 2 if a in plane_axes(dims) else 1 for a, c in zip(dims, chunks)]
    ranges = [range(0, n, s) for n, s in zip(shape, steps)]
    return [tuple(slice(i, min(i + s, n)) for i, s, n in zip(start, steps, shape))
            for start in itertools.product(*ranges)]


def _doubled(region: Region, shape: tuple[int, ...], dims: str) -> Region:
    """The region of the level above that a region of this level is made from."""
    return tuple(slice(r.start * 2, min(r.stop * 2, n)) if a in plane_axes(dims) else r
                 for r, n, a in zip(region, shape, dims))


def _halved(region: Region, dims: str) -> Region:
    """The region of the level below that a region of this level makes."""
    return tuple(slice(r.start // 2, -(-r.stop // 2)) if a in plane_axes(dims) else r
                 for r, a in zip(region, dims))


def copy_blocks(read: Callable[[Region], np.ndarray], array: Level, dims: str,
                advance: Advance,
                after: Callable[[Region, np.ndarray], int] | None = None) -> None:
    """Fill `array` block by block from `read(region)`, a few blocks in flight at a time.

    Blocks are chunk-aligned, so no two threads write the same chunk; reading, compressing
    and writing overlap across threads while memory stays a few blocks. `after(region,
    block)` returns the bytes it wrote; progress is counted on the calling thread only.
    """
    regions = _blocks(array.shape, dims, array.chunks)
    workers = 2 * (os.cpu_count() or 2)  # reads and writes wait on the disk: oversubscribe

    def one(region: Region) -> int:
        block = read(region)
        array[region] = block
        return block.nbytes + (after(region, block) if after is not None else 0)

    with ThreadPoolExecutor(workers) as pool:
        pending: set[Future[int]] = set()
        for region in regions:
            if len(pending) >= 2 * workers:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    advance(future.result())
            # each block in a copy of this context: the decoding setting goes with it
            pending.add(pool.submit(contextvars.copy_context().run, one, region))
        for future in pending:
            advance(future.result())


def _omero(image: Image5D, scene: Scene) -> dict[str, Any]:
    dtype = image.data.dtype
    if np.issubdtype(dtype, np.integer):
        lo, hi = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
    else:
        lo, hi = 0.0, 1.0
    channels = []
    for i, ch in enumerate(image.channels):
        window = ch.contrast_limits
        if window is None and "S" not in scene.dims and i < scene.size("C"):
            window = estimate_contrast(scene, i)
        window = window or (lo, hi)
        channels.append({
            "label": ch.name, "color": ch.color.lstrip("#"), "active": True,
            "coefficient": 1.0, "family": "linear", "inverted": False,
            "window": {"start": float(window[0]), "end": float(window[1]),
                       "min": lo, "max": hi},
        })
    return {"channels": channels, "rdefs": {"model": "color"}, "name": image.name}


def _write_ome_xml(root: zarr.Group, tmp: Path, version: str, xml: str,
                   series: list[str]) -> None:
    ome_group = root.create_group("OME")
    if series:
        _set_ngff(ome_group, version, {"series": series})
    (Path(tmp) / "OME").mkdir(exist_ok=True)
    (Path(tmp) / "OME" / "METADATA.ome.xml").write_text(xml, encoding="utf-8")
