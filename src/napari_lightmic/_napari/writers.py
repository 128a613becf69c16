"""npe2 writers: image layers (recombined into one multichannel image) and labels."""

from __future__ import annotations

from ..writing import WriteOptions, write
from .layer_source import source_from_layers


def write_ome_zarr(path: str, layer_data: list[tuple]) -> list[str]:
    source, labels, record = source_from_layers(layer_data)
    out = write(source, path, 0, WriteOptions(overwrite=True), labels=labels, record=record)
    return [str(out)]


def write_ome_tiff(path: str, layer_data: list[tuple]) -> list[str]:
    source, _, record = source_from_layers(layer_data)
    out = write(source, path, 0, WriteOptions(overwrite=True), record=record)
    return [str(out)]
