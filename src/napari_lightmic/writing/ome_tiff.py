"""OME-TIFF writer: tiled, pyramidal (SubIFDs), lossless, streamed a plane at a time.

Planes larger than BAND_BYTES are streamed a band of tile rows at a time.

The OME-XML is the source's metadata (instrument, objective, acquisition, annotations, the
vendor's own metadata) with Pixels describing what is written; each image's planes are
stored in XYZCT order and addressed by TiffData.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..model import ImageSource, Scene
from ..scene.chunked import read
from .common import Image5D, as_5d, atomic_target, halve_yx, level_shapes
from .options import WriteOptions

if TYPE_CHECKING:
    from ..metadata.record import MetadataRecord

# tifffile's names of the compressions this writer accepts (`options.COMPRESSIONS`)
COMPRESSIONS = {"zlib": "zlib", "zstd": "zstd", "lzw": "lzw", "none": None}
TILE = 512
BATCH_BYTES = 64 * 2**20  # raw tiles compressed at once
BAND_BYTES = 256 * 2**20  # larger planes are read a band of tile rows at a time
WORKERS = os.cpu_count() or 1

IN_FLIGHT = 48  # tiles handed to the encoders, not yet written (24 MiB of 512² uint16)
AHEAD_BYTES = 32 * 2**20  # bands read ahead of the encoders (none when a band is larger)
T = TypeVar("T")


_scratch = threading.local()  # each encoding thread's own predictor buffer


def _predicted(tile: np.ndarray) -> np.ndarray:
    """The tile with TIFF's horizontal differencing (predictor 2), in this thread's buffer.

    One pass (imagecodecs' delta encoder) over the tile, a view into the band read, straight
    into a buffer the thread owns and reuses: the tile is not first copied out contiguous,
    nor a new array made for the differences. Integers wrap around, as the predictor does.
    """
    import imagecodecs

    buffer: np.ndarray | None = getattr(_scratch, "buffer", None)
    if buffer is None or buffer.shape != tile.shape or buffer.dtype != tile.dtype:
        buffer = _scratch.buffer = np.empty(tile.shape, tile.dtype)
    return imagecodecs.delta_encode(tile, axis=-1, out=buffer)


def _deflate_with_predictor(tile: np.ndarray) -> bytes:
    """TIFF deflate (compression 8, a zlib stream) with horizontal differencing, by ISA-L.

    ISA-L's level 3 takes less than half the time of libdeflate's level 1 for about 1 % more
    bytes (the 512 MB file of issue 15: deflate 2.3 s of CPU against 5.0 s), and a third of
    zlib's level 1, smaller; any zlib decoder reads it.
    """
    from isal import isal_zlib

    # bytes-like: the thread's own buffer, compressed as it is (no copy), the GIL released
    return isal_zlib.compress(_predicted(tile), isal_zlib.ISAL_BEST_COMPRESSION)


def _zstd_with_predictor(tile: np.ndarray) -> bytes:
    """TIFF zstd (compression 50000) with horizontal differencing, at level 1.

    Bio-Formats 7.3 and tifffile read it back. On the 512 MB file of issue 15: 455 MB (612 MB
    without the predictor, 418 MB as deflate), in 3.1 s against deflate's 3.6 s.
    """
    import imagecodecs

    return bytes(imagecodecs.zstd_encode(_predicted(tile), level=1))  # type: ignore[arg-type]


# Tiles this writer encodes itself, in a bounded pool; tifffile stores the bytes as they are.
ENCODERS = {"zlib": _deflate_with_predictor, "zstd": _zstd_with_predictor}

Progress = Callable[[int, int], None]


def _without_labels(scene: Scene) -> Image5D:
    """A scene as OME-TIFF holds it; label images it has are said lost in its notes."""
    image = as_5d(scene)
    if scene.labels:
        image.notes.append(f"The label images ({', '.join(scene.labels)}) are not kept: "
                           "OME-TIFF holds no label images (OME-Zarr keeps them).")
    return image


def write_ome_tiff(source: ImageSource, scenes: Sequence[Scene], target: str | os.PathLike[str],
                   options: WriteOptions = WriteOptions(), *,
                   progress: Progress | None = None,
                   record: MetadataRecord | None = None) -> Path:
    """Write scenes of a source as one OME-TIFF, one image (with its SubIFD pyramid) each.

    `record`: the metadata record to write (the file's own when None).

    Raises ValueError for a compression OME-TIFF does not take.
    """
    import tifffile
    from ome_types.model import TiffData

    from ..metadata.ome import export_xml, ome_for_export
    from ..wells import plate_wells

    compression = options.compression_for("OME-TIFF")
    levels = options.pyramid_levels
    images = [_without_labels(scene) for scene in scenes]
    from ..metadata.prefill import record_from_source

    record = record or record_from_source(source)
    ome = ome_for_export(source, scenes, images, record, plate_wells(scenes))
    first_ifd = 0
    for image, meta in zip(images, ome.images):
        n_planes = _plane_count(image)
        meta.pixels.metadata_only = None
        meta.pixels.tiff_data_blocks = [TiffData(ifd=first_ifd, plane_count=n_planes)]
        first_ifd += n_planes
    xml = export_xml(source, ome, record.privacy)
    pyramids = [level_shapes(_plane_shape(img), "YX", levels) for img in images]
    total = sum(_plane_count(img) * sum(int(np.prod(s)) for s in shapes)
                * img.data.dtype.itemsize for img, shapes in zip(images, pyramids))
    bigtiff = total > 2**32 - 2**25
    done = [0]

    def advance(nbytes: int) -> None:
        done[0] += nbytes
        if progress:
            progress(done[0], total)

    tiff_options: dict[str, Any] = {
        "compression": COMPRESSIONS[compression], "photometric": "minisblack",
        "metadata": None, "software": "napari-lightmic",
        # Tiles are compressed in parallel, a bounded batch at a time (tifffile's default
        # batch holds about 1 GB for a 2 GB file).
        "maxworkers": os.cpu_count() or 1, "buffersize": BATCH_BYTES}
    if compression in ("zlib", "zstd", "lzw"):
        tiff_options["predictor"] = True
    if compression == "zlib":
        tiff_options["compressionargs"] = {"level": 3}  # as small as the default, twice as fast
    with atomic_target(target, options.overwrite) as tmp:
        with tifffile.TiffWriter(tmp, bigtiff=bigtiff) as tif:
            for k, (image, shapes) in enumerate(zip(images, pyramids)):
                n = _plane_count(image)
                # One pass over the source: full-resolution tiles go straight to the file,
                # the smaller levels to temporary files beside it, written after (plain
                # files rather than memory maps, so they do not count as the process's memory).
                rows = band_rows(image, len(shapes))
                lower = [LevelFile(Path(f"{tmp}.level{level}"), shape, image.data.dtype, rows)
                         for level, shape in enumerate(shapes) if level]
                # the generators of a level: closed (their threads stopped) before the
                # level files go, also when tifffile raises halfway
                stages: list[Generator[Any, None, None]] = []
                try:
                    for level, (height, width) in enumerate(shapes):
                        tile = (min(TILE, _round16(height)), min(TILE, _round16(width)))
                        extra: dict[str, Any] = ({"subifds": len(shapes) - 1} if level == 0
                                                 else {"subfiletype": 1})
                        if level == 0 and k == 0:
                            extra["description"] = xml.encode("utf-8")  # OME-XML is UTF-8
                        made = _level_stages(image, level, rows, lower, advance, tile,
                                             compression)
                        stages += made
                        tif.write(made[-1], shape=(n, height, width),
                                  dtype=image.data.dtype, tile=tile, **extra, **tiff_options)
                finally:
                    for stage in reversed(stages):
                        stage.close()
                    for level_file in lower:
                        level_file.remove()
    return Path(target)


def _round16(n: int) -> int:
    return max(16, -(-n // 16) * 16)  # TIFF tiles are multiples of 16


def _plane_shape(image: Image5D) -> tuple[int, int]:
    height, width = image.data.shape[-2:]
    return int(height), int(width)


def _plane_count(image: Image5D) -> int:
    return int(np.prod(image.data.shape[:-2]))


def band_rows(image: Image5D, n_levels: int = 1) -> int:
    """Rows read at once: the whole plane, or a band of it for planes over BAND_BYTES.

    A band is whole tile rows, at least one source chunk. Bands are multiples of
    2 ** (n_levels - 1) rows, so halving each band on its own gives every level exactly as
    halving the whole plane.
    """
    height, width = _plane_shape(image)
    if height * width * image.data.dtype.itemsize <= BAND_BYTES:
        return height
    align = max(TILE, 1 << (n_levels - 1))
    chunk_rows = int(max(image.data.chunks[-2])) if hasattr(image.data, "chunks") else TILE
    itemsize = int(image.data.dtype.itemsize)
    rows = max(align, BAND_BYTES // (width * itemsize) // align * align)
    return min(height, max(rows, -(-chunk_rows // align) * align))


def _level_stages(image: Image5D, level: int, rows: int, lower: list[LevelFile],
                  advance: Callable[[int], None], tile: tuple[int, int],
                  compression: str) -> list[Generator[Any, None, None]]:
    """The generators that make one level's tiles, in order: the last gives what is written.

    Level 0 is read from the source (ahead of the encoders, on a thread of its own, where a
    band is at most AHEAD_BYTES), the smaller levels from their temporary files.
    """
    stages: list[Generator[Any, None, None]] = []
    if level == 0:
        stages.append(_bands_and_levels(image, rows, lower, advance))
        depth = AHEAD_BYTES // _band_bytes(image, rows)
        if depth:
            stages.append(_ahead(stages[-1], depth))
    else:
        stages.append(_stored(lower[level - 1], advance))
    stages.append(_tiles(stages[-1], tile))
    if compression in ENCODERS and np.issubdtype(image.data.dtype, np.integer):
        stages.append(_encoded(stages[-1], ENCODERS[compression]))
    return stages


def _band_bytes(image: Image5D, rows: int) -> int:
    return rows * _plane_shape(image)[1] * int(image.data.dtype.itemsize)


_DONE = object()


def _ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """`items`, made on a thread of their own up to `depth` (at least 1) ahead of the caller.

    The source's reads and the smaller levels' means then run while the caller hands tiles
    to the encoders. What the producer raises is raised here; closing this generator early
    stops the producer.
    """
    made: queue.Queue[Any] = queue.Queue(max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():  # a caller gone stops waiting for room
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - given to the caller, raised there
            put(exc)

    context = contextvars.copy_context()  # the decoding setting goes with the reads
    thread = threading.Thread(target=context.run, args=(produce,), daemon=True,
                              name="lightmic-read-ahead")
    thread.start()
    try:
        while (item := made.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _bands_and_levels(image: Image5D, rows: int, lower: list[LevelFile],
                      advance: Callable[[int], None]) -> Generator[np.ndarray, None, None]:
    """Every plane in the OME order XYZCT (Z fastest, then C, then T), a band at a time.

    The smaller levels are stored on the way.
    """
    height = _plane_shape(image)[0]
    for index in np.ndindex(*image.data.shape[:-2]):
        for y in range(0, height, rows):
            band = read(image.data, index + (slice(y, y + rows),))
            advance(band.nbytes)
            small = band
            for level_file in lower:
                small = halve_yx(small, "YX")
                level_file.append(small)
            yield band


class LevelFile:
    """Planes of one pyramid level, appended to a temporary file and read back in order.

    They are read back a band of at most `rows` rows at a time.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: npt.DTypeLike,
                 rows: int) -> None:
        self.path, self.shape, self.dtype, self.rows = path, tuple(shape), np.dtype(dtype), rows
        self.handle = open(path, "w+b")

    def append(self, plane: np.ndarray) -> None:
        """Store a plane (or a band of one) after those stored."""
        # a band read is contiguous already: written from its own memory, not a copy
        self.handle.write(np.ascontiguousarray(plane, dtype=self.dtype).data)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Read every stored plane back, in order, a band at a time."""
        self.handle.flush()
        self.handle.seek(0)
        height, width = self.shape
        row_bytes = width * self.dtype.itemsize
        while True:
            for y in range(0, height, self.rows):
                n = min(self.rows, height - y)
                chunk = self.handle.read(n * row_bytes)
                if not chunk:
                    return
                yield np.frombuffer(chunk, dtype=self.dtype).reshape(n, width)

    def remove(self) -> None:
        """Close and delete the temporary file."""
        self.handle.close()
        self.path.unlink(missing_ok=True)


def _stored(level_file: LevelFile,
            advance: Callable[[int], None]) -> Generator[np.ndarray, None, None]:
    for band in level_file:
        advance(band.nbytes)
        yield band


def _encoded(tiles: Iterator[np.ndarray],
             encode: Callable[[np.ndarray], bytes]) -> Generator[bytes, None, None]:
    """`encode(tile)` for every tile, in order, up to IN_FLIGHT tiles in flight.

    tifffile can do this itself (maxworkers, buffersize, compressionargs level 1), but it
    compresses a batch, then waits for the whole batch before reading on: the 2 GB benchmark
    takes 26 s that way against 16.5 s here. Tiles are handed to the encoders from a thread
    of their own, so that the encoders keep working while the caller writes.
    """
    with ThreadPoolExecutor(WORKERS) as pool:
        handed = _ahead((pool.submit(encode, tile) for tile in tiles), IN_FLIGHT)
        try:
            for future in handed:
                yield future.result()
        finally:
            handed.close()  # its thread stopped before the pool shuts down


def _tiles(planes: Iterable[np.ndarray],
           tile: tuple[int, int]) -> Generator[np.ndarray, None, None]:
    th, tw = tile
    for plane in planes:
        height, width = plane.shape
        for y in range(0, height, th):
            for x in range(0, width, tw):
                block = plane[y:y + th, x:x + tw]
                if block.shape != tile:
                    block = np.pad(block, ((0, th - block.shape[0]), (0, tw - block.shape[1])))
                yield block
