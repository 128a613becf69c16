"""npe2 writers: image layers (one multichannel image), labels, Shapes and Points as ROIs."""

from __future__ import annotations

from typing import Any

from ..writing import WriteOptions, write
from .layer_source import label_colors, source_from_layers


def write_ome_zarr(path: str, layer_data: list[tuple[Any, ...]]) -> list[str]:
    """npe2 writer: the image layers as one OME-Zarr image, with its labels and ROIs.

    Labels layers become its NGFF labels, Shapes and Points layers its OME ROIs (in
    OME/METADATA.ome.xml).
    """
    source, labels, record = source_from_layers(layer_data)
    out = write(source, path, 0, WriteOptions(overwrite=True), labels=labels,
                label_colors=label_colors(layer_data), record=record)
    return [str(out)]


def write_ome_tiff(path: str, layer_data: list[tuple[Any, ...]]) -> list[str]:
    """npe2 writer: the image layers as one OME-TIFF image, Shapes and Points as its ROIs.

    Labels are not kept.
    """
    source, _, record = source_from_layers(layer_data)
    out = write(source, path, 0, WriteOptions(overwrite=True), record=record)
    return [str(out)]
