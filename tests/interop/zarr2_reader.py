"""Read an NGFF 0.4 OME-Zarr with a zarr-2 client: zarr<3 and ome-zarr<0.11.

Runs in the separate env of tests/interop/envs.py (not the project's), so it imports nothing
from the project. Prints JSON: for each image (the root, or each image of the
bioformats2raw layout), what ome-zarr's Reader and plain zarr 2 see of it:

    {"zarr": "2.18.7", "ome_zarr": "0.10.3", "images": [{"path": "0", "axes": [...],
     "levels": [[shape], ...], "dtype": "uint16", "channel_names": [...],
     "ome_zarr": {"sum": ..., "md5": ...}, "zarr": {"sum": ..., "md5": ...}}]}

`md5` is of level 0's bytes in C order, little-endian; `sum` is their sum.
"""

import hashlib
import json
import os
import sys
from importlib.metadata import version

import numpy as np
import zarr
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader


def digest(array) -> dict:
    array = np.ascontiguousarray(np.asarray(array))
    array = array.astype(array.dtype.newbyteorder("<"), copy=False)
    total = array.sum(dtype=np.float64 if array.dtype.kind == "f" else np.int64)
    return {"sum": total.item(), "md5": hashlib.md5(array.tobytes()).hexdigest()}


def image(root: str, sub: str) -> dict:
    path = os.path.join(root, sub) if sub else root
    nodes = list(Reader(parse_url(path))())
    node = next(n for n in nodes if n.data)
    group = zarr.open_group(path, mode="r")
    first = group.attrs["multiscales"][0]["datasets"][0]["path"]
    return {
        "path": sub,
        "axes": node.metadata.get("axes"),
        "levels": [list(level.shape) for level in node.data],
        "dtype": str(node.data[0].dtype),
        "channel_names": node.metadata.get("channel_names"),
        "ome_zarr": digest(node.data[0]),
        "zarr": digest(group[first][...]),
    }


def main(root: str) -> dict:
    attrs = parse_url(root).root_attrs
    if "bioformats2raw.layout" in attrs:
        series = zarr.open_group(os.path.join(root, "OME"), mode="r").attrs.get("series")
        subs = series or sorted((k for k in zarr.open_group(root, mode="r").group_keys()
                                 if k.isdigit()), key=int)
    else:
        subs = [""]
    return {"zarr": zarr.__version__, "ome_zarr": version("ome-zarr"),
            "images": [image(root, sub) for sub in subs]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
