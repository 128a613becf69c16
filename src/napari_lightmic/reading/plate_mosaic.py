"""An HCS plate as one lazy multiscale mosaic per acquisition, built from its fields' levels.

Wells sit in their row and column, the fields of a well in a near-square grid of tiles
inside it (`plate.PlateLayout`). Level L of the mosaic is made of the fields' own level of
the same downsampling (or the nearest finer one, strided), and below the fields' smallest
level further levels stride that one, until the whole plate fits about a screen: napari
shows the lowest level that fills the view. Every tile is its own chunk, read when it is
in view, and reads only the fields' chunks it covers; a tile with no field (a missing well
or field, or the room a smaller field leaves) is zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt

from ..model import Channel, Scene
from ..plate import Plate, PlateLayout, field_grid
from ..pyramid import SHOWN_SMALLEST
from ..scene.axes import ChunkOrigin, chunked_array
from ..scene.chunked import compute

CHUNK_XY = 2048  # tiles larger than this are read in parts
NAMED = 5  # wells or fields named in a note; the rest counted

# A field's level to draw a mosaic level from: (lazy array, stride)
Source = tuple[da.Array, int]


def level_factor(full: tuple[int, int], level: tuple[int, int]) -> int | None:
    """The integer downsampling of a level's (y, x) size, if it is one (rounded either way)."""
    factor = max(1, round(full[0] / level[0])) if level[0] else 0
    if not factor:
        return None
    ok = all(n in (m // factor, -(-m // factor)) for m, n in zip(full, level))
    return factor if ok else None


def _yx(data: da.Array, dims: str) -> tuple[int, int]:
    return int(data.shape[dims.index("Y")]), int(data.shape[dims.index("X")])


def _source(scene: Scene, factor: int) -> Source:
    """The field's level to draw at `factor`: the coarsest whose own factor divides it."""
    full = _yx(scene.data, scene.dims)
    best: Source = (scene.data, factor)
    for level in scene.levels[1:]:
        own = level_factor(full, _yx(level, scene.dims))
        if own is not None and factor % own == 0 and factor // own < best[1]:
            best = (level, factor // own)
    return best


class PlateMosaic:
    """Array-like of one level of one acquisition's mosaic: what `chunked_array` wraps.

    `sources` maps (well row, well column, slot) to the field's level and its stride; every
    axis but Y and X is as large as the largest field's.
    """

    def __init__(self, sources: dict[tuple[int, int, int], Source], layout: PlateLayout,
                 factor: int, grid: tuple[int, int], lead: Sequence[int], dtype: Any) -> None:  # noqa: ANN401 - a numpy dtype of any kind
        self.sources, self.factor = sources, factor
        self.tile = (layout.field_height // factor, layout.field_width // factor)
        self.cell = (layout.cell_height // factor, layout.cell_width // factor)
        self.fields = (layout.field_rows, layout.field_columns)
        self.shape = (*lead, grid[0] * self.cell[0], grid[1] * self.cell[1])
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)

    def chunks(self) -> tuple[tuple[int, ...], ...]:
        """One chunk per plane and per tile (tiles larger than CHUNK_XY in parts), and gaps."""
        def along(cells: int, tile: int, count: int, cell: int) -> tuple[int, ...]:
            parts = math.ceil(tile / CHUNK_XY)
            one = [tile // parts + (i < tile % parts) for i in range(parts)]
            gap = cell - tile * count
            return tuple((one * count + ([gap] if gap else [])) * cells)

        rows = self.shape[-2] // self.cell[0]
        columns = self.shape[-1] // self.cell[1]
        lead: list[tuple[int, ...]] = [(1,) * n for n in self.shape[:-2]]
        return (*lead, along(rows, self.tile[0], self.fields[0], self.cell[0]),
                along(columns, self.tile[1], self.fields[1], self.cell[1]))

    def __getitem__(self, key: slice | int | tuple[slice | int, ...]) -> npt.NDArray[Any]:
        """The pixels of a region (a slice or index per axis); zeros where no field is."""
        given = key if isinstance(key, tuple) else (key,)
        given = given + (slice(None),) * (self.ndim - len(given))
        squeeze = tuple(i for i, k in enumerate(given) if not isinstance(k, slice))
        ranges = [range(*(k if isinstance(k, slice) else slice(k, k + 1)).indices(n))
                  for k, n in zip(given, self.shape)]
        # read the span of each range at step 1, then take every step-th pixel
        spans = [range(r.start, r.stop) if r.step == 1 or not r else
                 range(r.start, r[-1] + 1) for r in ranges]
        out = np.zeros([len(s) for s in spans], dtype=self.dtype)
        y, x = spans[-2], spans[-1]
        if len(y) and len(x):
            for ty in self._tiles(y, 0):
                for tx in self._tiles(x, 1):
                    self._draw(out, spans, ty, tx)
        steps = tuple(slice(None, None, r.step) for r in ranges)
        out = out[steps]
        return out.squeeze(axis=squeeze) if squeeze else out

    def _tiles(self, span: range, axis: int) -> list[tuple[int, int, int]]:
        """The tiles a span covers along Y (axis 0) or X: (cell, field row or column, start)."""
        tile, cell, count = self.tile[axis], self.cell[axis], self.fields[axis]
        found = []
        for c in range(span.start // cell, (span.stop - 1) // cell + 1):
            for f in range(count):
                start = c * cell + f * tile
                if start < span.stop and start + tile > span.start:
                    found.append((c, f, start))
        return found

    def _draw(self, out: npt.NDArray[Any], spans: list[range], ty: tuple[int, int, int],
              tx: tuple[int, int, int]) -> None:
        slot = ty[1] * self.fields[1] + tx[1]
        source = self.sources.get((ty[0], tx[0], slot))
        if source is None:
            return
        data, stride = source
        index: list[slice] = []
        window: list[slice] = []
        for axis, span in enumerate(spans[:-2]):  # T, C, Z...: the field may have fewer
            stop = min(span.stop, int(data.shape[axis]))
            if stop <= span.start:
                return
            index.append(slice(span.start, stop))
            window.append(slice(0, stop - span.start))
        for span, (_, _, start), n, tile in zip(spans[-2:], (ty, tx), data.shape[-2:],
                                                 self.tile):
            extent = min(-(-int(n) // stride), tile)  # the field's pixels in its tile
            lo, hi = max(span.start - start, 0), min(span.stop - start, extent)
            if lo >= hi:
                return
            index.append(slice(lo * stride, (hi - 1) * stride + 1, stride))
            window.append(slice(start + lo - span.start, start + hi - span.start))
        out[tuple(window)] = compute(data[tuple(index)], "synchronous")


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:NAMED])
    return shown + (f" and {len(items) - NAMED} more" if len(items) > NAMED else "")


def plate_scenes(plate: Plate, fields: dict[tuple[str, str], Scene | str],
                 where: str) -> tuple[Plate, list[Scene]]:
    """The plate's mosaics, one scene per acquisition, and the plate with its layout.

    Parameters
    ----------
    plate : Plate
        Its wells with their fields (a well that could not be read has its `problem`).
    fields : dict
        Each field by (well path, field path): its image as a scene, or why it cannot be read.
    where : str
        The plate's path or URL, named by a tile that cannot be read.

    Raises
    ------
    ValueError
        If no field of the plate can be read.
    """
    usable, unread = _usable(plate, fields)
    first = next(iter(usable.values()))
    dims = first.dims
    lead = [max(s.shape[i] for s in usable.values()) for i in range(len(dims) - 2)]
    dtype = np.result_type(*{s.data.dtype for s in usable.values()})
    grid = (len(plate.rows), len(plate.columns))
    factors, layout = _layout(plate, usable, grid)
    plate = replace(plate, layout=layout)
    notes = _notes(plate, usable, unread)
    channels = list(first.channels)
    channels += [Channel(name=f"Channel {i}", color="#FFFFFF", named=False)
                 for i in range(len(channels), lead[dims.index("C")] if "C" in dims else 0)]
    out = []
    for index, group in enumerate(plate.groups):
        slots: dict[tuple[int, int, int], Scene] = {}
        for w in plate.wells:
            for slot, f in enumerate(plate.fields_of(w, group)):
                scene = usable.get((w.path, f.path))
                if scene is not None:
                    slots[(w.row, w.column, slot)] = scene
        levels = []
        for factor in factors:
            mosaic = PlateMosaic({k: _source(s, factor) for k, s in slots.items()}, layout,
                                 factor, grid, lead, dtype)
            levels.append(chunked_array(mosaic, mosaic.chunks(), ChunkOrigin(where, dims)))
        layout_note = (f"plate mosaic: {grid[0]} × {grid[1]} wells, {len(slots)} fields "
                       f"({layout.field_rows} × {layout.field_columns} tiles a well)")
        out.append(Scene(index=index, name=plate.group_name(group), pixels=levels[0], dims=dims,
                         physical_pixel_sizes=dict(first.physical_pixel_sizes),
                         units=dict(first.units), channels=channels, pyramid=levels[1:],
                         notes=[layout_note, *notes]))
    return plate, out


def _usable(plate: Plate, fields: dict[tuple[str, str], Scene | str],
            ) -> tuple[dict[tuple[str, str], Scene], list[str]]:
    """The fields that can be drawn, by (well, field) path, and those that cannot, named.

    The first field that opened sets the axes; a field of other axes is not drawn.
    """
    opened = [(w, f, fields[(w.path, f.path)]) for w in plate.wells for f in w.fields]
    scenes = [s for _, _, s in opened if isinstance(s, Scene)]
    if not scenes:
        problems = [f"{w.name}: {w.problem}" for w in plate.wells if w.problem]
        problems += [f"{w.path}/{f.path}: {s}" for w, f, s in opened if isinstance(s, str)]
        why = f" ({_named(problems)})" if problems else ""
        raise ValueError(f"no field of the plate can be read{why}" if plate.wells
                         else "the plate lists no well")
    dims = scenes[0].dims
    if not dims.endswith("YX"):
        raise ValueError(f"the plate's fields have axes {dims}: a mosaic needs Y and X last")
    usable: dict[tuple[str, str], Scene] = {}
    unread: list[str] = []
    for w, f, s in opened:
        if isinstance(s, str):
            unread.append(f"{w.name} field {f.path} ({s})")
        elif s.dims != dims:
            unread.append(f"{w.name} field {f.path} (axes {s.dims}, not {dims})")
        else:
            usable[(w.path, f.path)] = s
    return usable, unread


def _layout(plate: Plate, usable: dict[tuple[str, str], Scene],
            grid: tuple[int, int]) -> tuple[list[int], PlateLayout]:
    """The mosaic's downsampling factors, and where its wells and fields sit.

    The first field's own levels, then halvings until the plate fits about a screen. Tiles
    and gaps are whole multiples of the largest factor, so every level places them exactly.
    """
    first = next(iter(usable.values()))
    dims = first.dims
    height = max(s.size("Y") for s in usable.values())
    width = max(s.size("X") for s in usable.values())
    field_rows, field_columns = field_grid(plate.most_fields)
    factors = sorted({f for f in (level_factor(_yx(first.data, dims), _yx(level, dims))
                                  for level in first.levels) if f})
    rough = max(grid[0] * field_rows * height, grid[1] * field_columns * width)
    while rough // (factors[-1] * 2) >= SHOWN_SMALLEST:
        factors.append(factors[-1] * 2)
    top = factors[-1]
    gap = -(-max(height, width) // 16)  # a dark line between wells, 1/16 of a field
    return factors, PlateLayout(
        field_height=-(-height // top) * top, field_width=-(-width // top) * top,
        field_rows=field_rows, field_columns=field_columns, gap=-(-gap // top) * top)


def _notes(plate: Plate, usable: dict[tuple[str, str], Scene], unread: list[str]) -> list[str]:
    """What the user should know of the plate: wells and fields shown empty, sizes, scale."""
    notes = list(plate.notes)
    listed = {(w.row, w.column) for w in plate.wells}
    empty = [f"{r}{c}" for i, r in enumerate(plate.rows) for j, c in enumerate(plate.columns)
             if (i, j) not in listed]
    if empty:
        notes.append(f"wells the plate lists no images for, shown empty: {_named(empty)}")
    broken = [f"{w.name} ({w.problem})" for w in plate.wells if w.problem]
    if broken:
        notes.append(f"wells whose metadata cannot be read, shown empty: {_named(broken)}")
    if unread:
        notes.append(f"fields that cannot be read, shown empty: {_named(unread)}")
    layout = plate.layout
    sizes = {(s.size("Y"), s.size("X")) for s in usable.values()}
    if len(sizes) > 1 and layout is not None:
        notes.append(f"fields of {len(sizes)} sizes: each at the top left of a "
                     f"{layout.field_height} × {layout.field_width} tile, the rest zeros")
    first = next(iter(usable.values()))
    pixel = (first.physical_pixel_sizes.get("Y"), first.physical_pixel_sizes.get("X"))
    other = sorted({str(s.physical_pixel_sizes.get("X")) for s in usable.values()
                    if (s.physical_pixel_sizes.get("Y"), s.physical_pixel_sizes.get("X"))
                    != pixel})
    if other:
        unit = first.units.get("X", "")
        notes.append(f"wells disagree on the pixel size: the mosaic takes the first field's "
                     f"({pixel[1]} {unit}; others: {', '.join(other[:NAMED])})")
    return notes
