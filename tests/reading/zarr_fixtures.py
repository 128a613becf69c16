"""OME-Zarr 0.4 and 0.5 images written with ome-zarr-py, with omero channel metadata, and
HCS plates of them."""

import numpy as np
import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.io import parse_url
from ome_zarr.writer import write_image

AXES = [
    {"name": "c", "type": "channel"},
    {"name": "z", "type": "space", "unit": "micrometer"},
    {"name": "y", "type": "space", "unit": "micrometer"},
    {"name": "x", "type": "space", "unit": "micrometer"},
]
OMERO = {
    "channels": [
        {"label": "DAPI", "color": "0000FF", "active": True,
         "window": {"start": 10, "end": 900, "min": 0, "max": 65535}},
        {"label": "GFP", "color": "00FF00", "active": True,
         "window": {"start": 20, "end": 800, "min": 0, "max": 65535}},
    ]
}


def write_ome_zarr(path, version: str, data=None) -> np.ndarray:
    fmt = {"0.4": FormatV04(), "0.5": FormatV05()}[version]
    if data is None:
        data = np.random.default_rng(1).integers(0, 1000, (2, 3, 64, 64), dtype=np.uint16)
    store = parse_url(str(path), mode="w", fmt=fmt).store
    root = zarr.open_group(store, mode="w", zarr_format=fmt.zarr_format)
    write_image(data, root, axes=AXES, fmt=fmt, scale_factors=[2],
                scale={"c": 1.0, "z": 2.0, "y": 0.25, "x": 0.25},
                axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
    if version == "0.5":
        attrs = dict(root.attrs["ome"])
        attrs["omero"] = OMERO
        root.attrs["ome"] = attrs
    else:
        root.attrs["omero"] = OMERO
    return data


def write_plate(path, version: str) -> np.ndarray:
    """A one-well NGFF plate whose well A/1 has one field, 0: its image as `write_ome_zarr`'s.

    Returns the field's pixels.
    """
    root = zarr.open_group(str(path), mode="w", zarr_format=2 if version == "0.4" else 3)
    well = root.require_group("A").require_group("1")
    plate = {"rows": [{"name": "A"}], "columns": [{"name": "1"}], "field_count": 1,
             "wells": [{"path": "A/1", "rowIndex": 0, "columnIndex": 0}]}
    images = {"images": [{"path": "0"}]}
    if version == "0.4":
        root.attrs["plate"] = {**plate, "version": "0.4"}
        well.attrs["well"] = {**images, "version": "0.4"}
    else:
        root.attrs["ome"] = {"version": "0.5", "plate": plate}
        well.attrs["ome"] = {"version": "0.5", "well": images}
    return write_ome_zarr(path / "A" / "1" / "0", version)
