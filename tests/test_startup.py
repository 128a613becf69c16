"""What the first file of a session and the command line import: each in a fresh interpreter.

Not timed (timings flake on a shared machine): the modules that cost the time are named
instead. `benchmarks/open_first_plane.py` gives the figures.
"""

import subprocess
import sys

import pytest

from tests.conftest import real_file


def fresh(script: str, *args: str) -> subprocess.CompletedProcess:
    """`script` in a new interpreter, with nothing imported before it."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


# What napari does with a file dropped on it: npe2 finds the readers of the installed
# plugins, and napari calls the chosen one with the path (napari.plugins._npe2.read).
READ_AS_NAPARI_DOES = r"""
import sys
from npe2 import PluginManager, io_utils

PluginManager.instance().discover()
layers, reader = io_utils.read_get_reader(sys.argv[1], plugin_name="napari-lightmic")
assert reader.plugin_name == "napari-lightmic" and layers[0][0] is not None
watched = sys.argv[2].split() if len(sys.argv) > 2 else [
    "distributed", "zarr", "napari._qt.qt_main_window"]
print(" ".join(sorted(m for m in watched if m in sys.modules)))
"""


@pytest.mark.parametrize("relpath", ["czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi",
                                     "nd2/example-zstack.nd2",
                                     "ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff",
                                     "lsm/test.lsm"])
def test_first_file_imports_no_dask_cluster_no_zarr_and_no_qt_window(relpath):
    # The reader computes a plane for the contrast limits; dask, told the scheduler by name
    # or not at all, first looks for a distributed client, importing `distributed`. zarr is
    # for TIFFs that tifffile can only give as a zarr store, not for plain page series.
    # Without a viewer there is no window to look for: napari's Qt main window (0.3-0.5 s)
    # stays unimported.
    done = fresh(READ_AS_NAPARI_DOES, str(real_file(relpath)))
    assert done.stdout.split() == []


@pytest.mark.parametrize("relpath", ["ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff",
                                     "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", "lsm/test.lsm",
                                     "nd2/example-timelapse.nd2"])
def test_first_file_imports_no_ome_model(relpath):
    # ome-types (0.4-0.6 s to import, and a second parse of the XML) makes the OME model
    # when the metadata is first used, not to show the first plane: an OME-TIFF's scenes
    # are read from the XML this plugin's parser already parsed, an ND2's from nd2's
    # attributes (bioio-nd2 made nd2's OME at open: 1.4 s with bioio)
    done = fresh(READ_AS_NAPARI_DOES, str(real_file(relpath)), "ome_types bioio")
    assert done.stdout.split() == []


HELP = r"""
import sys
from napari_lightmic.cli import main

for argv in (["--help"], ["info", "--help"], ["--version"]):
    try:
        main(argv)
    except SystemExit as exit:
        assert exit.code == 0, exit.code
print(" ".join(m for m in ("dask.array", "napari") if m in sys.modules), file=sys.stderr)
"""


def test_command_line_help_imports_neither_dask_array_nor_napari():
    done = fresh(HELP)
    assert "usage: lightmic info" in done.stdout
    assert done.stderr.split() == []


# What loads when napari lists the plugin's contributions or the command line starts: the
# package, its command line and the module npe2 names for the reader contribution.
IMPORTS = r"""
import sys
import napari_lightmic
import napari_lightmic.cli
import napari_lightmic._napari.reader

heavy = ("dask.array", "pandas", "xarray", "scipy", "ome_types", "napari")
print(" ".join(m for m in heavy if m in sys.modules))
"""


def test_package_cli_and_npe2_reader_module_import_no_heavy_library():
    # dask.array alone brings pandas, xarray and scipy (0.5-0.8 s); ome_types 0.5-0.7 s.
    # The readers import them when a file is opened.
    done = fresh(IMPORTS)
    assert done.stdout.split() == []


CONVERT = r"""
import os, sys
from napari_lightmic.cli import main

assert main(["convert", *sys.argv[1:]]) == 0
assert os.path.exists(sys.argv[2])
heavy = ("dask.array", "pandas", "xarray", "distributed", "napari")
print("loaded:", *(m for m in heavy if m in sys.modules))
"""


@pytest.mark.parametrize("target", ["out.ome.zarr", "out.ome.tif"])
def test_a_conversion_reads_and_writes_without_dask_array(tmp_path, target):
    # dask.array brings pandas, xarray and scipy (0.7 s of a small file's conversion): the
    # readers' pixels are read chunk by chunk without it (`scene.chunked.ChunkedArray`).
    # (scipy still comes, with pint, through ome_types: the export's OME model)
    import numpy as np
    import tifffile

    source = tmp_path / "cells.ome.tif"
    data = np.random.default_rng(3).integers(0, 4000, (2, 5, 96, 80), dtype=np.uint16)
    tifffile.imwrite(source, data, ome=True, metadata={"axes": "CZYX"})
    done = fresh(CONVERT, str(source), str(tmp_path / target))
    loaded = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
    assert loaded == ["loaded:"], done.stdout + done.stderr


@pytest.mark.parametrize("relpath", ["hdf5/bdv/demoSlice.xml", "ims/Minimal_IMS_File.ims",
                                     "nd2/example-zstack.nd2"])
def test_a_vendor_file_converts_without_dask_array(tmp_path, relpath):
    # BigDataViewer and Imaris keep a dataset per time point and channel, read as one array
    # (`hdf5.H5Stack`); an ND2 is read frame by frame with nd2: none of them needs dask
    done = fresh(CONVERT, str(real_file(relpath)), str(tmp_path / "out.ome.zarr"))
    loaded = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
    assert loaded == ["loaded:"], done.stdout + done.stderr
