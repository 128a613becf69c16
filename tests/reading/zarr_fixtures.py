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


# The HCS plate of the plate tests: rows A-B, columns 1-3, two acquisitions of two fields a
# well. A/3 holds no images (not listed), B/2 is listed but its folder is missing, B/1's last
# field is listed but missing, and A/2's fields are smaller (48 x 40) than the rest (64 x 64).
HCS_WELLS = {"A/1": (64, 64), "A/2": (48, 40), "B/1": (64, 64), "B/3": (64, 64)}
HCS_ACQUISITIONS = [{"id": 0, "name": "Day 0"}, {"id": 1, "name": "Day 1"}]
HCS_FIELDS = [("0", 0), ("1", 0), ("2", 1), ("3", 1)]  # (path, acquisition)
HCS_MISSING_FIELD = ("B/1", "3")


def hcs_value(well: str, field: str, channel: int) -> int:
    """The pixel value of every pixel of one channel of one field of the HCS plate."""
    return 1000 * (list(HCS_WELLS).index(well) + 1) + 10 * int(field) + channel + 1


def write_hcs_plate(path, version: str, cells: bool = False, times: int = 1) -> None:
    """The HCS plate above, NGFF `version` 0.4 (zarr v2) or 0.5 (zarr v3).

    Each channel of a field is `hcs_value` throughout, or with `cells` synthetic cells (for
    pictures); `times` multiplies the fields' height and width.
    """
    from napari_lightmic.synthetic import cells as cell_image

    root = zarr.open_group(str(path), mode="w", zarr_format=2 if version == "0.4" else 3)
    rows, columns = ["A", "B"], ["1", "2", "3"]
    listed = [*HCS_WELLS, "B/2"]
    plate = {"name": "test plate", "rows": [{"name": r} for r in rows],
             "columns": [{"name": c} for c in columns], "acquisitions": HCS_ACQUISITIONS,
             "field_count": len(HCS_FIELDS),
             "wells": [{"path": w, "rowIndex": rows.index(w[0]),
                        "columnIndex": columns.index(w[2])} for w in listed]}
    images = {"images": [{"path": f, "acquisition": a} for f, a in HCS_FIELDS]}
    if version == "0.4":
        root.attrs["plate"] = {**plate, "version": "0.4"}
    else:
        root.attrs["ome"] = {"version": "0.5", "plate": plate}
    for well, (height, width) in HCS_WELLS.items():
        height, width = height * times, width * times
        group = root.require_group(well)
        if version == "0.4":
            group.attrs["well"] = {**images, "version": "0.4"}
        else:
            group.attrs["ome"] = {"version": "0.5", "well": images}
        for field, _ in HCS_FIELDS:
            if (well, field) == HCS_MISSING_FIELD:
                continue
            data = np.stack([np.full((1, height, width), hcs_value(well, field, c), np.uint16)
                             for c in range(2)])
            if cells:
                seed = hcs_value(well, field, 0)
                data = cell_image((1, height, width), n_cells=5 + seed % 7, seed=seed)[:2]
            write_ome_zarr(path / well / field, version, data)
