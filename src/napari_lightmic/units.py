"""Units of physical sizes: the one table every reader, writer and panel uses.

The model keeps a size in the unit the file records, named by its OME symbol ('µm', 'cm',
's', 'min'); OME-XML uses the same symbols, NGFF the UDUNITS-2 names ('micrometer',
'centimeter', 'second', 'minute'). `pixel` is OME's "no physical unit": NGFF has no such
unit, so a size in pixels is written without one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit of length or time, named as OME and NGFF name it."""

    symbol: str  # OME's symbol, used in the model
    ngff: str | None  # NGFF's name; None where NGFF has none
    kind: str  # "length" or "time"
    factor: float  # in metres or seconds


PIXEL = "pixel"

_PREFIXES = [  # SI prefixes both OME and NGFF name
    ("Y", "yotta", 1e24), ("Z", "zetta", 1e21), ("E", "exa", 1e18), ("P", "peta", 1e15),
    ("T", "tera", 1e12), ("G", "giga", 1e9), ("M", "mega", 1e6), ("k", "kilo", 1e3),
    ("h", "hecto", 1e2), ("da", "deca", 1e1), ("", "", 1.0), ("d", "deci", 1e-1),
    ("c", "centi", 1e-2), ("m", "milli", 1e-3), ("µ", "micro", 1e-6), ("n", "nano", 1e-9),
    ("p", "pico", 1e-12), ("f", "femto", 1e-15), ("a", "atto", 1e-18), ("z", "zepto", 1e-21),
    ("y", "yocto", 1e-24),
]

UNITS: dict[str, Unit] = {}
for _symbol, _word, _factor in _PREFIXES:
    _ngff = _symbol != "da"  # NGFF's UDUNITS-2 list has no decameter or decasecond
    UNITS[_symbol + "m"] = Unit(_symbol + "m", _word + "meter" if _ngff else None, "length",
                                _factor)
    UNITS[_symbol + "s"] = Unit(_symbol + "s", _word + "second" if _ngff else None, "time",
                                _factor)
for _unit in (
    Unit("Å", "angstrom", "length", 1e-10),
    Unit("in", "inch", "length", 0.0254),
    Unit("ft", "foot", "length", 0.3048),
    Unit("yd", "yard", "length", 0.9144),
    Unit("mi", "mile", "length", 1609.344),
    Unit("pc", "parsec", "length", 3.0856775814913673e16),
    Unit("min", "minute", "time", 60.0),
    Unit("h", "hour", "time", 3600.0),
    Unit("d", "day", "time", 86400.0),
    Unit("thou", None, "length", 2.54e-5),
    Unit("li", None, "length", 0.0254 / 12),
    Unit("pt", None, "length", 0.0254 / 72),
    Unit("ua", None, "length", 1.495978707e11),
    Unit("ly", None, "length", 9.4607304725808e15),
    Unit(PIXEL, None, "length", float("nan")),
):
    UNITS[_unit.symbol] = _unit

_BY_NGFF = {u.ngff: u for u in UNITS.values() if u.ngff}
_ALIASES = {
    "um": "µm", "μm": "µm", "\\u00b5m": "µm", "micron": "µm", "microns": "µm",
    "mum": "µm", "us": "µs", "μs": "µs", "sec": "s", "secs": "s", "seconds": "s",
    "msec": "ms", "mins": "min", "minutes": "min", "hr": "h", "hrs": "h", "hours": "h",
    "px": PIXEL, "pixels": PIXEL, "ang": "Å", "angstroms": "Å", "Å": "Å",
    "meters": "m", "metres": "m", "metre": "m",
}


def unit(text: object) -> Unit | None:
    """Name the unit a file's text names, or None when it names no known unit.

    The text may be an OME symbol, an NGFF/UDUNITS name, a common spelling ('um',
    'micron', 'sec') or an enum of them (ome-types' units: their `value`).
    """
    if text is None:
        return None
    name = str(getattr(text, "value", text)).strip()
    if name in UNITS:
        return UNITS[name]
    lowered = name.lower()
    if lowered in _BY_NGFF:
        return _BY_NGFF[lowered]
    alias = _ALIASES.get(name) or _ALIASES.get(lowered)
    return UNITS[alias] if alias else None


def symbol(text: object, default: str | None = None) -> str | None:
    """Give the model's name (OME symbol) for a unit text, else `default`."""
    found = unit(text)
    return found.symbol if found else default


def ngff_name(text: object) -> str | None:
    """Give NGFF's name of a unit; None for pixels and units NGFF does not name."""
    found = unit(text)
    return found.ngff if found else None


def is_length(text: object) -> bool:
    """Tell whether the text names a unit of length (pixels included)."""
    found = unit(text)
    return found is not None and found.kind == "length"


def is_time(text: object) -> bool:
    """Tell whether the text names a unit of time."""
    found = unit(text)
    return found is not None and found.kind == "time"


def convert(value: float, source: object, target: object) -> float:
    """Give a size in another unit of the same kind (not pixels).

    Raises
    ------
    ValueError
        Either unit is unknown or pixels, or they are of different kinds.
    """
    a, b = unit(source), unit(target)
    if a is None or b is None or a.kind != b.kind or PIXEL in (a.symbol, b.symbol):
        raise ValueError(f"cannot convert {source!r} to {target!r}")
    return value * a.factor / b.factor


def for_ngff(value: float, text: object) -> tuple[float, str | None]:
    """State a size as NGFF can: in its own unit where NGFF names it.

    Other units are converted to micrometres or seconds; pixels and unknown units give
    (value, None).
    """
    found = unit(text)
    if found is None or found.symbol == PIXEL:
        return value, None
    if found.ngff:
        return value, found.ngff
    base = UNITS["µm"] if found.kind == "length" else UNITS["s"]
    return value * found.factor / base.factor, base.ngff
