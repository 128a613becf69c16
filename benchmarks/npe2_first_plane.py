"""A file's first plane as napari shows a dropped file, timed in a fresh interpreter.

Shared by `open_first_plane.py --first-file` and `startup.py`. The child starts napari (a
`napari.Viewer(show=False)`: plugins discovered, napari's own modules loaded, none of it
counted), then times

  reader        npe2 finds the plugin's reader and napari calls it with the path
                (`napari.plugins._npe2.read`): the layer data, contrast limits included
  first plane   from the same start to the first plane of the first layer as an ndarray,
                as napari's slicing reads it (`np.asarray(data[0, ..., :, :])`)

and reports which of the watched modules were loaded before the read and when done. It needs
a display: without one it runs under `xvfb-run`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CHILD = r'''
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
path, later = sys.argv[1], sys.argv[2] == "later"
watch = [m for m in sys.argv[3].split(",") if m] if len(sys.argv) > 3 else []
import numpy as np
import napari
from napari.plugins import _npe2

viewer = napari.Viewer(show=False)  # napari started: plugins discovered, its modules loaded
if later:  # a first, different file has been opened in this session
    from napari_lightmic.synthetic import cells, write_ome_tiff
    import tempfile
    first = write_ome_tiff(os.path.join(tempfile.mkdtemp(), "first.ome.tif"), cells((4, 64, 64)))
    data = _npe2.read([first], "napari-lightmic", stack=False)[0][0][0]
    np.asarray(data[(0,) * (data.ndim - 2)])
before = [m for m in watch if m in sys.modules]
start = time.perf_counter()
layer_data, plugin = _npe2.read([path], "napari-lightmic", stack=False)
read = time.perf_counter()
data = layer_data[0][0]
data = data[0] if isinstance(data, list) else data  # a pyramid: napari shows its top level
np.asarray(data[(0,) * (data.ndim - 2)])
plane = time.perf_counter()
assert plugin == "napari-lightmic"
import napari_lightmic
print(json.dumps({"reader": read - start, "first plane": plane - start,
                  "modules_before": before, "modules": [m for m in watch if m in sys.modules],
                  "napari_lightmic": os.path.dirname(napari_lightmic.__file__)}), flush=True)
os._exit(0)  # the figures are out: no Qt teardown (it may crash under xvfb, after the fact)
'''

# The shared vendor files, under LIGHTMIC_TESTDATA or /work/shared/testdata.
FILES = ["czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", "lif/testdata_2channel_xz.lif",
         "nd2/example-zstack.nd2", "ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff"]


def testdata_root() -> Path:
    return Path(os.environ.get("LIGHTMIC_TESTDATA", "/work/shared/testdata"))


def measure(path: Path, src: str | None = None, later: bool = False,
            watch: Sequence[str] = (), pythonpath: Sequence[str] | None = None,
            timeout: int = 600) -> dict:
    """One fresh napari interpreter: `{"reader": s, "first plane": s, "modules": [...]}`.

    `src`, a source tree, goes first on the inherited PYTHONPATH; `pythonpath`, when given,
    replaces the inherited one. On failure: `{"error": the last line of stderr}`.
    """
    paths = list(pythonpath) if pythonpath is not None else [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src is not None:
        paths.insert(0, str(Path(src).resolve()))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    command = [sys.executable, "-c", CHILD, str(path), "later" if later else "first",
               ",".join(watch)]
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return {"error": (result.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(lines[-1])
