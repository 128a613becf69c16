"""Olympus FluoView OIF and OIB through oiffile, one TIFF plane read at a time.

An OIF is a UTF-16 settings file (INI) beside a folder ``NAME.oif.files`` holding one TIFF
per plane (``s_C001Z002T003.tif``) and per-plane settings; an OIB is the same files inside
an OLE compound file. The settings name the axes and their sizes, the pixel size, the
channels' dyes and wavelengths, and the objective. Each plane is read from its own TIFF
when it is first shown.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..colors import complete_colors
from ..errors import LightmicReadError
from ..formats import FileFormat
from ..model import Acquisition, Channel, ImageSource, Scene
from ..scene.axes import ChunkOrigin, chunked_array
from ..units import convert, symbol
from .acquisition import lenient, positive_float
from .contract import ReaderBase
from .handles import LazyHandle

if TYPE_CHECKING:
    import oiffile

# The settings' axis codes this reader places; others (A, L, P) beyond their first are not read.
AXES = "TCZYX"
# A plane's TIFF name: s_C001Z002T003.tif (a letter and a 1-based index per axis)
PLANE = re.compile(r"^s_((?:[A-Z]\d+)+)\.tif$", re.I)
INDEX = re.compile(r"([A-Z])(\d+)", re.I)
Settings = dict[str, dict[str, Any]]


class OifHandle(LazyHandle["oiffile.OifFile"]):
    """An OIF or OIB opened on first read; pickles as its path."""

    def _open(self) -> oiffile.OifFile:
        import oiffile

        return oiffile.OifFile(self.path)


def open_oif(path: str, fmt: FileFormat) -> ImageSource:
    """Open an OIF or OIB with oiffile, reading no pixels.

    Parameters
    ----------
    path : str
        The .oif settings file (its ``.oif.files`` folder beside it) or the .oib file.
    fmt : FileFormat
        Its registry row.

    Returns
    -------
    ImageSource
        One scene; each plane a chunk read from its TIFF.

    Raises
    ------
    ValueError
        When the settings lack the axes, or planes the axes call for are missing.
    """
    handle = OifHandle(path)
    try:
        with handle.lock:
            oif = handle.opened
            settings: Settings = {k: v for k, v in oif.mainfile.items() if isinstance(v, dict)}
            text = _text(oif, oif.filesystem.mainfile)
            if oif.is_oib:
                text = _text(oif, "OibInfo.txt", oib=True) + "\n" + text
            planes = _plane_files(oif)
            name = str(oif.filesystem.name or "") or os.path.basename(path)
        sizes, physical, units = _axes(settings)
        dims = AXES  # absent axes of size one, as the other readers give them
        shape = tuple(sizes.get(a, 1) for a in dims)
        files, unplaced = _plane_table(path, planes, dims, shape)
        array = OifPlanes(handle, files, shape, _dtype(settings))
        chunks = tuple(n if a in "YX" else 1 for a, n in zip(dims, shape))
        data = chunked_array(array, chunks, ChunkOrigin(path, dims))
    except BaseException:
        handle.close()
        raise
    scene = Scene(index=0, name=os.path.splitext(name)[0] or name, pixels=data, dims=dims,
                  physical_pixel_sizes=physical, units=units,
                  channels=_channels(settings, sizes.get("C", 1)),
                  notes=[f"The planes of axis {a} ({n} positions) beyond its first are not read:"
                         " this reader places T, C, Z, Y and X only." for a, n in unplaced])
    return ImageSource(path=path, format=fmt, scenes=[scene], reader="oiffile",
                       handles=[handle], original_metadata=text,
                       acquisition_factory=lenient(oif_acquisition, settings))


def _text(oif: oiffile.OifFile, name: str, oib: bool = False) -> str:
    """A settings file's text (UTF-16 with a byte-order mark, or UTF-8), its LUT cut off."""
    import oiffile

    fs = oif.filesystem
    opened = (fs.com.open_file(name) if oib and isinstance(fs, oiffile.OibFileSystem)
              else oif.open_file(name))
    with opened as fh:
        raw = fh.read()
    text = raw.decode("utf-16") if raw[:2] == b"\xff\xfe" else raw.decode("utf-8", "replace")
    return text.split("[ColorLUTData]", 1)[0]


def _plane_files(oif: oiffile.OifFile) -> dict[tuple[tuple[str, int], ...], str]:
    """The plane TIFFs by their axis indices (0-based), from their names."""
    out = {}
    for name in oif.glob("*.tif"):
        match = PLANE.match(os.path.basename(name))
        if match:
            key = tuple((a.upper(), int(i) - 1) for a, i in INDEX.findall(match.group(1)))
            out[key] = name
    return out


def _axes(settings: Settings) -> tuple[dict[str, int], dict[str, float | None], dict[str, str]]:
    """Each placed axis's size, and the physical size (µm, s) of those that have one."""
    sizes: dict[str, int] = {}
    physical: dict[str, float | None] = {}
    units: dict[str, str] = {}
    for i in range(8):
        axis = settings.get(f"Axis {i} Parameters Common")
        if axis is None:
            continue
        code = str(axis.get("AxisCode", "")).upper()
        try:
            n = int(axis.get("MaxSize", 0))
        except (TypeError, ValueError):
            n = 0
        if code not in AXES or n < 1:
            continue
        sizes[code] = n
        if code in "ZT" and n > 1:
            step = _step(axis, n, "µm" if code == "Z" else "s")
            physical[code] = step
            if step:
                units[code] = "µm" if code == "Z" else "s"
    for code in "YX":
        if code not in sizes:
            raise ValueError(f"the settings give no size of axis {code}")
    ref = settings.get("Reference Image Parameter", {})
    for code, key in (("X", "Width"), ("Y", "Height")):
        size = positive_float(ref.get(f"{key}ConvertValue"))
        unit = symbol(ref.get(f"{key}Unit") or "um")
        physical[code] = convert(size, unit, "µm") if size and unit else None
        if physical[code]:
            units[code] = "µm"
    physical.setdefault("Z", None)
    return sizes, physical, units


def _step(axis: dict[str, Any], n: int, target: str) -> float | None:
    """The step between planes from the axis's start and end, in `target`; None if unknown."""
    try:
        span = abs(float(axis["EndPosition"]) - float(axis["StartPosition"]))
        return convert(span / (n - 1), str(axis.get("UnitName", "")), target) or None
    except (KeyError, TypeError, ValueError):
        return None


def _dtype(settings: Settings) -> np.dtype[Any]:
    ref = settings.get("Reference Image Parameter", {})
    depth = ref.get("ImageDepth")
    if depth in (1, 2, 4):
        return np.dtype(f"<u{depth}")
    bits = ref.get("ValidBitCounts", 16)
    return np.dtype("<u2" if not isinstance(bits, int) or bits > 8 else "u1")


def _plane_table(path: str, planes: dict[tuple[tuple[str, int], ...], str], dims: str,
                 shape: tuple[int, ...]
                 ) -> tuple[dict[tuple[int, ...], str], list[tuple[str, int]]]:
    """The TIFF of each plane, by its index on the axes before Y and X; unplaced axes.

    The plane names' axes this reader does not place (each with its number of positions)
    are listed: their planes beyond the first are left out.

    Raises
    ------
    LightmicReadError
        Naming the file and the first plane the axes call for that has no TIFF.
    """
    lead = [(a, n) for a, n in zip(dims, shape) if a not in "YX"]
    table: dict[tuple[int, ...], str] = {}
    unplaced: dict[str, set[int]] = {}
    for key, name in planes.items():
        where = dict(key)
        for a, i in key:
            if a not in dict(lead):
                unplaced.setdefault(a, set()).add(i)
        if any(a not in dict(lead) and i != 0 for a, i in key):
            continue  # an axis this reader does not place, beyond its first position
        index = tuple(where.get(a, 0) for a, _ in lead)
        if all(0 <= i < n for i, (_, n) in zip(index, lead)):
            table[index] = name
    total = int(np.prod([n for _, n in lead])) if lead else 1
    if len(table) < total:
        missing = next(ix for ix in np.ndindex(*(n for _, n in lead)) if ix not in table)
        where_text = ", ".join(f"{a}={i}" for (a, n), i in zip(lead, missing) if n > 1)
        raise LightmicReadError(path, f"incomplete: {total - len(table)} of {total} planes "
                                f"have no TIFF (first: {where_text})")
    return table, sorted((a, max(at) + 1) for a, at in unplaced.items() if max(at) > 0)


class OifPlanes:
    """The planes of an OIF/OIB as one array, each plane read from its TIFF when indexed."""

    def __init__(self, handle: OifHandle, files: dict[tuple[int, ...], str],
                 shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.handle, self.files = handle, files
        self.shape, self.dtype, self.ndim = shape, dtype, len(shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        """The planes `key` covers, each read from its TIFF (the file is read now)."""
        lead = key[:-2]
        ranges = [range(*k.indices(n)) for k, n in zip(lead, self.shape[:-2])]
        out = np.empty([len(r) for r in ranges] + list(self.shape[-2:]), self.dtype)
        for pos in np.ndindex(*[len(r) for r in ranges]):
            index = tuple(r[p] for r, p in zip(ranges, pos))
            with self.handle.lock:
                plane = self.handle.opened.asarray(self.files[index])
            if plane.shape != self.shape[-2:]:
                raise ValueError(f"damaged: plane {self.files[index]} is {plane.shape}, "
                                 f"the settings say {self.shape[-2:]}")
            out[pos] = plane
        return out[(Ellipsis, key[-2], key[-1])]


def _channels(settings: Settings, n: int) -> list[Channel]:
    """Names, dyes and wavelengths of the active channels ('GUI Channel N Parameters')."""
    gui = [settings[f"GUI Channel {i} Parameters"] for i in range(1, 65)
           if f"GUI Channel {i} Parameters" in settings]
    active = [g for g in gui if str(g.get("CH Activate", 1)) != "0"]
    if len(active) != n:
        active = gui[:n] if len(gui) >= n else []
    names: list[str] = []
    named: list[bool] = []
    excitations: list[float | None] = []
    emissions: list[float | None] = []
    for i in range(n):
        g = active[i] if i < len(active) else {}
        name = str(g.get("DyeName") or g.get("CH Name") or "").strip()
        names.append(name or f"Channel {i}")
        named.append(bool(name))
        excitations.append(positive_float(g.get("ExcitationWavelength")))
        emissions.append(positive_float(g.get("EmissionWavelength")))
    colors = complete_colors([None] * n, emissions)
    return [Channel(name=names[i], color=colors[i], named=named[i],
                    excitation_nm=excitations[i], emission_nm=emissions[i]) for i in range(n)]


def oif_acquisition(settings: Settings) -> Acquisition:
    """Microscope, objective and date from the settings' 'Acquisition Parameters Common'.

    Parameters
    ----------
    settings : dict
        The main settings file, section by section.

    Returns
    -------
    Acquisition
        What the settings record; empty when they record none of it.
    """
    from ome_types import model as ome

    acq = settings.get("Acquisition Parameters Common", {})
    system = str(settings.get("Version Info", {}).get("SystemName", "") or "").strip()
    objective = ome.Objective(
        id="Objective:0", model=str(acq.get("ObjectiveLens Name", "") or "").strip() or None,
        nominal_magnification=positive_float(acq.get("Magnification")),
        lens_na=positive_float(acq.get("ObjectiveLens NAValue")),
        working_distance=positive_float(acq.get("ObjectiveLens WDValue")),
    )
    scope = ome.Microscope(manufacturer="Olympus", model=system or None)
    instrument = ome.Instrument(id="Instrument:0", microscope=scope, objectives=[objective])
    return Acquisition(instrument=instrument,
                       acquisition_date=_date(acq.get("ImageCaputreDate")
                                              or acq.get("ImageCaptureDate")),
                       acquisition_mode="LaserScanningConfocalMicroscopy")


def _date(value: object) -> datetime | None:
    """'2010-01-22 14:22:51' (FluoView's capture date), or None."""
    try:
        return datetime.strptime(str(value).strip("'\" "), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


class _Reader(ReaderBase):
    library = "oiffile"

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        return open_oif(path, fmt)


READER = _Reader()
