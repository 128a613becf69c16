"""Regions of interest kept with the image.

NGFF has no ROI standard yet, so ROIs live in the image's OME-XML (the OME-TIFF header,
OME/METADATA.ome.xml of an OME-Zarr) as OME `ROI`s. `model` is the frozen ROI, `ome` its
conversion to and from OME shapes, `geojson` QuPath's exchange format, `measure` the
areas and mean intensities of the CSV.
"""

from __future__ import annotations

from .model import KINDS, Roi

__all__ = ["KINDS", "Roi"]
