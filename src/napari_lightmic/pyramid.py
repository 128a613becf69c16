"""The pyramid policy: when a plane gets lower resolution levels, and down to what size.

One home for the readers (levels shown while browsing a file that has none) and the writers
(levels stored in OME-Zarr and OME-TIFF). Each level halves Y and X.

- Shown: planes larger than `SHOWN_ABOVE` px get levels down to about `SHOWN_SMALLEST`, so
  napari draws the level that fits the screen. Where the file has its own pyramid the
  reader composes levels from it (CZI: libCZI scales the stored subsampled tiles), cheap
  enough to start at `COMPOSED_ABOVE`; elsewhere levels are strided views of the full
  resolution, each read touching every stored tile it strides over, so they start only at
  `SHOWN_ABOVE`.
- Written: every plane gets levels down to about `WRITTEN_SMALLEST` px, as viewers of the
  open formats expect (OME-Zarr multiscales, OME-TIFF SubIFDs).
"""

from __future__ import annotations

SHOWN_ABOVE = 8192  # strided levels for planes larger than this (px, either side)
SHOWN_SMALLEST = 1024  # ... down to about this size
COMPOSED_ABOVE = 4096  # levels composed from the file's own pyramid (CZI) above this
COMPOSED_SMALLEST = 512  # ... down to about this size
WRITTEN_SMALLEST = 256  # written pyramids go down to about this many pixels per side


def shown_factors(height: int, width: int, composed: bool = False) -> list[int]:
    """Downsampling factors (2, 4, ...) of the levels shown for a plane without its own."""
    above, smallest = ((COMPOSED_ABOVE, COMPOSED_SMALLEST) if composed
                       else (SHOWN_ABOVE, SHOWN_SMALLEST))
    factors: list[int] = []
    f = 2
    if max(height, width) < above:
        return factors
    while max(height, width) // f >= smallest:
        factors.append(f)
        f *= 2
    return factors


def written_shapes(shape: tuple[int, ...], plane: list[int],
                   levels: int | None = None) -> list[tuple[int, ...]]:
    """Shapes of a written 2x pyramid; odd sizes round up.

    Halves the axes at `plane` (the indices of Y and X) down to about WRITTEN_SMALLEST, or
    to `levels` levels in all.
    """
    shapes = [tuple(shape)]
    while True:
        last = shapes[-1]
        if levels is not None and len(shapes) >= levels:
            break
        if levels is None and max(last[i] for i in plane) <= WRITTEN_SMALLEST:
            break
        if min(last[i] for i in plane) < 2:
            break
        shapes.append(tuple((n + 1) // 2 if i in plane else n for i, n in enumerate(last)))
    return shapes
