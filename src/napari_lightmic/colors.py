"""Channel colours: from the file, else from the emission wavelength, else a fixed sequence."""

from __future__ import annotations

from collections.abc import Sequence

# napari's own defaults for channel_axis: magenta/green for two channels, CYMRGB otherwise.
TWO_CHANNELS = ("#FF00FF", "#00FF00")
MANY_CHANNELS = ("#00FFFF", "#FFFF00", "#FF00FF", "#FF0000", "#00FF00", "#0000FF")
GRAY = "#FFFFFF"


def hex_color(r: float, g: float, b: float) -> str:
    """'#RRGGBB' from components in 0..1."""
    return "#{:02X}{:02X}{:02X}".format(*(round(max(0.0, min(1.0, v)) * 255) for v in (r, g, b)))


def parse_color(value: object) -> str | None:
    """Normalise a file's colour to '#RRGGBB'.

    Accepts '#AARRGGBB' (Zeiss), '#RRGGBB', 'RRGGBB', and (r, g, b) tuples in 0..255.
    Black and unparseable values count as no colour.
    """
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) >= 3:
        r, g, b = (int(v) for v in value[:3])
        out = f"#{r:02X}{g:02X}{b:02X}"
    else:
        text = str(value).strip().lstrip("#")
        if len(text) == 8:
            text = text[2:]
        if len(text) != 6:
            return None
        try:
            int(text, 16)
        except ValueError:
            return None
        out = "#" + text.upper()
    return None if out == "#000000" else out


def wavelength_to_color(nm: float | None) -> str | None:
    """The visible colour of a wavelength in nm (Dan Bruton's approximation).

    None outside 380-780 nm.
    """
    if nm is None or not 380 <= nm <= 780:
        return None
    if nm < 440:
        r, g, b = (440 - nm) / 60, 0.0, 1.0
    elif nm < 490:
        r, g, b = 0.0, (nm - 440) / 50, 1.0
    elif nm < 510:
        r, g, b = 0.0, 1.0, (510 - nm) / 20
    elif nm < 580:
        r, g, b = (nm - 510) / 70, 1.0, 0.0
    elif nm < 645:
        r, g, b = 1.0, (645 - nm) / 65, 0.0
    else:
        r, g, b = 1.0, 0.0, 0.0
    return hex_color(r, g, b)


def default_colors(n: int) -> list[str]:
    """Colours for `n` channels: gray for one, green and magenta for two, then a cycle."""
    if n == 1:
        return [GRAY]
    seq = TWO_CHANNELS if n == 2 else MANY_CHANNELS
    return [seq[i % len(seq)] for i in range(n)]


def complete_colors(colors: list[str | None],
                    emissions: Sequence[float | None] = ()) -> list[str]:
    """Fill missing colours from emission wavelengths, then from the default sequence."""
    defaults = default_colors(len(colors))
    out = []
    for i, color in enumerate(colors):
        out.append(color or wavelength_to_color(emissions[i] if i < len(emissions) else None)
                   or defaults[i])
    return out
