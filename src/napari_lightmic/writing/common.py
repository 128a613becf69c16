"""What both writers share: the 5D view of a scene, pyramid shapes, atomic targets."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import WriteError
from ..model import Channel, Scene
from ..paths import fitted_name, name_max
from ..pyramid import written_shapes
from ..scene.axes import displayed_axes
from ..scene.chunked import LazyPixels, as_dask


@dataclass
class Image5D:
    """A scene as the open formats hold it: T, C, (Z,) Y, X; planes are always Y by X."""

    data: LazyPixels  # a reader's ChunkedArray where only axes were moved: read without dask
    dims: str  # 'TCZYX', or 'TCYX' for an XZ scan (its Z stored as Y)
    physical: dict[str, float | None]
    units: dict[str, str]
    channels: list[Channel]
    name: str
    notes: list[str]


XZ_NOTE = ("An XZ scan: its planes are Z by X, and OME and NGFF planes are Y by X, so the "
           "scan's Z is stored as Y (with the Z step as its size){stepped}, as Bio-Formats "
           "reads the source.")


def as_5d(scene: Scene) -> Image5D:
    """Fold further axes (Airyscan phase, lambda) into T and RGB samples into channels.

    An XZ scan's plane (Z by X) becomes a Y by X plane, its stepped Y (if any) the Z.
    """
    data, dims = scene.pixels, scene.dims
    notes: list[str] = []
    channels = list(scene.channels)
    if "S" in dims:
        import dask.array as da

        # RGB samples become channels named red, green, blue (each original channel's).
        s, c = dims.index("S"), dims.index("C")
        data = da.moveaxis(as_dask(data), s, c + 1)
        shape = list(data.shape)
        n_c, n_s = shape[c], shape[c + 1]
        data = data.reshape(shape[:c] + [n_c * n_s] + shape[c + 2:])
        dims = dims.replace("S", "")
        names = ("red", "green", "blue", "alpha")
        colors = ("#FF0000", "#00FF00", "#0000FF", "#FFFFFF")
        channels = [Channel(name=f"{ch.name} {names[k]}" if n_c > 1 else names[k].capitalize(),
                            color=colors[k]) for ch in scene.channels for k in range(n_s)]
        notes.append("RGB samples written as channels.")
    extras = [a for a in dims if a not in "TCZYX"]
    if extras:
        order = extras + ["T"] + [a for a in dims if a not in extras and a != "T"]
        data = as_dask(data).transpose([dims.index(a) for a in order])
        folded = len(extras) + 1
        data = data.reshape((int(np.prod(data.shape[:folded])),) + data.shape[folded:])
        dims = "".join(["T"] + order[folded:])
        notes.append(f"Axes {''.join(extras)} folded into T (T runs fastest within them).")
    origin = {a: a for a in dims}  # axis written -> axis of the scene
    if displayed_axes(dims) == "ZX":
        swap = {"Z": "Y", "Y": "Z"}
        origin = {swap.get(a, a): a for a in dims}
        dims = "".join(swap.get(a, a) for a in dims)
        notes.append(XZ_NOTE.format(stepped=" and its Y steps as Z" if "Z" in dims else ""))
    canonical = "".join(a for a in "TCZYX" if a in dims)
    if dims != canonical:
        data = data.transpose([dims.index(a) for a in canonical])
        dims = canonical
    if not data.dtype.isnative:  # e.g. '>u2' from bioformats2raw: written in native order
        data = as_dask(data).astype(data.dtype.newbyteorder("="))
    physical = {a: scene.physical_pixel_sizes.get(origin.get(a, a)) for a in dims if a != "C"}
    if extras:
        physical["T"] = None  # the folded T is no longer a time step
    units = {a: scene.units[origin.get(a, a)] for a in physical
             if physical.get(a) and origin.get(a, a) in scene.units}
    # what the reader found (planes missing, a time step derived, ...) stays said in copies
    from ..reading.lif import XZ_SCAN_NOTE
    from ..scene.levels import STRIDED_NOTE

    # not carried: the display's levels, and the source's XZ layout once written as Y by X
    dropped = (STRIDED_NOTE, XZ_SCAN_NOTE)
    kept = [n for n in scene.notes if not n.startswith(dropped)]
    notes = list(dict.fromkeys(kept + notes))
    return Image5D(data=data, dims=dims, physical=physical, units=units, channels=channels,
                   name=scene.name, notes=notes)


plane_axes = displayed_axes  # the writers halve the same two axes a view shows


def level_shapes(shape: tuple[int, ...], dims: str, levels: int | None) -> list[tuple[int, ...]]:
    """Shapes of the written pyramid in the plane's axes (the policy: `pyramid.py`)."""
    return written_shapes(shape, [i for i, a in enumerate(dims) if a in plane_axes(dims)],
                          levels)


def halve_yx(block: np.ndarray, dims: str, nearest: bool = False) -> np.ndarray:
    """Halve Y and X: 2x2 means (integers rounded), or every second pixel for labels.

    Odd edges repeat their last row or column, so sizes round up as in `level_shapes`.
    """
    y, x = (dims.index(a) for a in plane_axes(dims))
    if nearest:
        index = [slice(None)] * block.ndim
        index[y] = index[x] = slice(None, None, 2)
        return block[tuple(index)]
    pad = [(0, 0)] * block.ndim
    pad[y], pad[x] = (0, block.shape[y] % 2), (0, block.shape[x] % 2)
    if any(p[1] for p in pad):
        block = np.pad(block, pad, mode="edge")
    wider = _WIDER.get(block.dtype.str[1:]) if block.dtype.isnative else None
    if wider is not None:  # integers are summed and rounded in integers: the same values
        return _integer_mean(block, y, x, wider)
    views = _quads(block, y, x)
    # float32 holds sums of four 16-bit values exactly; wider types need float64
    total: npt.NDArray[np.floating[Any]] = views[0].astype(
        np.float64 if block.dtype.itemsize > 2 else np.float32)
    for view in views[1:]:
        total += view
    total *= 0.25
    if np.issubdtype(block.dtype, np.integer):
        np.rint(total, out=total)  # half to even
        if block.dtype.itemsize > 2:
            info = np.iinfo(block.dtype)
            np.clip(total, info.min, info.max, out=total)
    return total.astype(block.dtype)


def _quads(block: np.ndarray, y: int, x: int) -> list[np.ndarray]:
    """The four strided views whose 2x2 means halve axes `y` and `x` (even sizes)."""
    views = []
    for dy in (0, 1):
        for dx in (0, 1):
            index = [slice(None)] * block.ndim
            index[y], index[x] = slice(dy, None, 2), slice(dx, None, 2)
            views.append(block[tuple(index)])
    return views


# integers of up to 32 bits: the sum of four in a type that holds it exactly
_WIDER: dict[str, type[np.integer[Any]]] = {
    "u1": np.uint16, "i1": np.int16, "u2": np.uint32, "i2": np.int32, "u4": np.uint64,
    "i4": np.int64}
_STRIP = 32  # rows of the halved plane made at a time: the temporaries stay in the cache


def _integer_mean(block: np.ndarray, y: int, x: int,
                  wider: type[np.integer[Any]]) -> np.ndarray:
    """2x2 means of an integer block of even Y and X, rounded half to even, in integers.

    The same values as the exact float mean rounded by `np.rint`: with s the sum of four,
    round(s / 4) = (s + 1 + bit 2 of s) >> 2 (a remainder of 3 rounds up, one of 2 up
    only from an odd quotient, whose bit 2 is set).
    """
    if (y, x) != (block.ndim - 2, block.ndim - 1):
        views = _quads(block, y, x)
        total = views[0].astype(wider)
        for view in views[1:]:
            total += view
        _round_quarter(total, np.empty_like(total))
        return total.astype(block.dtype)
    height, width = block.shape[-2:]
    out = np.empty(block.shape[:-2] + (height // 2, width // 2), dtype=block.dtype)
    rows = np.empty((_STRIP, width), dtype=wider)
    sums = np.empty((_STRIP, width // 2), dtype=wider)
    bits = np.empty_like(sums)
    for lead in np.ndindex(block.shape[:-2]):
        plane, halved = block[lead], out[lead]
        for top in range(0, height // 2, _STRIP):
            n = min(_STRIP, height // 2 - top)
            pairs, total = rows[:n], sums[:n]
            np.add(plane[2 * top:2 * (top + n):2], plane[2 * top + 1:2 * (top + n):2],
                   out=pairs, dtype=wider)
            np.add(pairs[:, 0::2], pairs[:, 1::2], out=total)
            _round_quarter(total, bits[:n])
            halved[top:top + n] = total
    return out


def _round_quarter(total: np.ndarray, bits: np.ndarray) -> None:
    """`total` becomes round(total / 4), half to even, in place (`bits`: scratch)."""
    np.bitwise_and(total, 4, out=bits)
    bits >>= 2
    total += bits
    total += 1
    total >>= 2


# what follows '.partial-': the writer's pid, a tag, and the ending of a writer's own
# temporary file beside it (the OME-TIFF writer's '.level1', ...)
PARTIAL = re.compile(r"(\d+)-[0-9a-f]{8}(\.[a-z]+\d*)?")


def partial_prefix(path: Path, kind: str = "partial") -> str:
    """The start of the hidden sibling names a write of `path` uses (kind: partial, old).

    ``.NAME.partial-PID-TAG`` (and ``.NAME.partial-PID-TAG.level1``, ... the OME-TIFF writer's
    own temporary files): the writer's process id tells a partial that a live process
    is writing from one a killed conversion left. A name too long for the file system with
    these added is cut, and a hash of the whole name kept (`fitted_name`).
    """
    # room for a pid of up to 10 digits, the tag, and a writer's own ending ('.level12')
    room = name_max(path.parent) - len(f"..{kind}-") - 10 - 1 - 8 - 10
    return f".{fitted_name(path.name, room, '')}.{kind}-"


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) at `path` whole: a ``.NAME.partial-PID-TAG`` sibling renamed over it.

    Raises
    ------
    WriteError
        When the system refuses the write (a full disk, no permission): nothing is left.
    """
    tmp = staging_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(path, f"cannot be written: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def staging_name(path: Path, kind: str = "partial") -> Path:
    """A new ``.NAME.partial-PID-TAG`` (or ``.old-``) sibling of `path`, PID this process's.

    For a write of `path` in parts by other processes (`atomic_target`'s `staged`): while
    this process lives, writes of `path` keep it; once it is gone, `stale_partials` finds it.
    """
    return path.with_name(f"{partial_prefix(path, kind)}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def stale_partials(path: Path) -> list[Path]:
    """Siblings that earlier writes of `path` left (killed ones): no live process writes them."""
    found = []
    for kind in ("partial", "old"):
        prefix = partial_prefix(path, kind)
        try:
            siblings = list(path.parent.iterdir())
        except OSError:
            return []
        for sibling in siblings:
            match = PARTIAL.fullmatch(sibling.name[len(prefix):]) \
                if sibling.name.startswith(prefix) else None
            if match and not _alive(int(match.group(1))):
                found.append(sibling)
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process: taken as alive
    return True


@contextlib.contextmanager
def atomic_target(target: str | os.PathLike[str], overwrite: bool,
                  staged: Path | None = None) -> Iterator[Path]:
    """Yield a temporary sibling to write; rename it to `target` only when writing succeeded.

    An existing target is replaced only with `overwrite`; an interrupted write leaves nothing
    at the target path (the temporary sibling is removed). What killed writes of the same
    target left (``.NAME.partial-PID-TAG`` whose process is gone) is removed first. A write
    the system refuses (a full disk, no permission) is a WriteError saying so in one line.
    `staged`: a sibling already partly written (by other processes, named by
    `staging_name`) to finish and rename instead of a new one; removed when the write fails.
    """
    path = Path(target)
    try:
        exists = path.exists()
    except OSError as exc:  # a name the system refuses: too long, ...
        raise WriteError(path, f"cannot be written: {exc.strerror or exc}") from None
    if exists and not overwrite:
        raise WriteError(path, "exists already (replace it with --overwrite)")
    if not path.parent.is_dir():
        raise WriteError(path, f"folder {path.parent} does not exist")
    for stale in stale_partials(path):
        if stale != staged:
            remove_path(stale)
    tmp = staged if staged is not None else staging_name(path)
    try:
        yield tmp
        if path.exists():
            old = staging_name(path, "old")
            os.replace(path, old)
            os.replace(tmp, path)
            remove_path(old)
        else:
            os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(path, f"cannot be written: {_os_reason(exc)}; nothing was written "
                               "there") from exc
    finally:
        if tmp.exists():
            remove_path(tmp)


def _os_reason(exc: OSError) -> str:
    """An OSError's reason without its traceback: 'No space left on device'."""
    return exc.strerror or str(exc) or type(exc).__name__


def remove_path(path: Path) -> None:
    """Remove a file or folder (a symlink itself, not its target); what is gone is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
