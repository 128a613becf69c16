"""Shared fixtures of the interoperability tests: every shared file converted once per
session by the installed `lightmic convert` command, and the plugin's own read of each source.

Conversions run as subprocesses, two at a time; asking for one output of a file starts all
of that file's conversions, so later tests find them made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import TESTDATA, real_file

from .expect import Expected, expected

MICROMANAGER = "ometiff/micromanager_1.4_multifile"
MICROMANAGER_FILE = "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"
# Every file of the shared tree that the plugin opens (BigDataViewer through its .xml, which
# names the .h5; Micro-Manager through the micromanager_dataset fixture). test_inventory
# fails when the tree gains a file this list lacks.
FILES = [
    "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    "czi/CellDivision_T3_Z6_CH1_X300_Y200_DCV_ZSTD.czi",
    "czi/DAPI_GFP.czi",
    "czi/LSM880_AiryScan.czi",
    "czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi",
    "czi/WellD6-7_S2.czi",
    "czi/xyz__multiple_images.czi",
    "hdf5/bdv/demoSlice.xml",
    "ims/Minimal_IMS_File.ims",
    "lif/LeicaLASX_wavelength-sweep_example.lif",
    "lif/testdata_2channel_xz.lif",
    "lif/reference_planes/xz_c0_t0.tif",
    "lif/reference_planes/xz_c1_t8.tif",
    "lsm/test.lsm",
    "nd2/example-cerevisiae.nd2",
    "nd2/example-multichannel.nd2",
    "nd2/example-timelapse.nd2",
    "nd2/example-zstack.nd2",
    "ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff",
    "tiff/CH1_16bit.tif",
    "tiff/CH3_Fluorescence_8bit.tif",
    "tiff/Fluorescence_RGB.tif",
    MICROMANAGER,
]
# Files that record no channel names (Bio-Formats reports none; the plugin shows 'Channel N').
NAMELESS = {"tiff/CH1_16bit.tif", "tiff/CH3_Fluorescence_8bit.tif", "ims/Minimal_IMS_File.ims",
            "lif/reference_planes/xz_c0_t0.tif", "lif/reference_planes/xz_c1_t8.tif"}
MULTI_SCENE = ["czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", "czi/WellD6-7_S2.czi",
               "czi/xyz__multiple_images.czi", "lif/LeicaLASX_wavelength-sweep_example.lif",
               "lif/testdata_2channel_xz.lif", MICROMANAGER]

# name: (output file name, `lightmic convert` options). The first three take the command's
# default scene choice; their readers accept one image or the bioformats2raw layout.
VARIANTS = {
    "0.5": ("out.ome.zarr", ["--ngff-version", "0.5"]),
    "0.4": ("out.ome.zarr", ["--ngff-version", "0.4"]),
    "shard": ("out.ome.zarr", ["--ngff-version", "0.5", "--shard"]),
    "all": ("out.ome.zarr", ["--ngff-version", "0.5", "--scene", "all"]),
    "tiff": ("out.ome.tif", ["--scene", "all"]),
}
ZARR_VARIANTS = ["0.5", "0.4", "shard", "all"]


def case(*values, reason: str | None = None):
    """A parametrized case, marked as a known limit (strict xfail) when `reason` says one."""
    marks = []
    if reason is not None:
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return pytest.param(*values, marks=marks, id="-".join(str(v) for v in values))


ALL_CASES = [case(key, variant) for key in FILES for variant in ZARR_VARIANTS]


def source_path(request, key: str) -> Path:
    if key == MICROMANAGER:
        return request.getfixturevalue("micromanager_dataset") / MICROMANAGER_FILE
    return real_file(key)


class Outputs:
    """Conversions by `lightmic convert`, each made once per session."""

    def __init__(self, root: Path):
        self.root = root
        self.pool = ThreadPoolExecutor(2)
        self.futures: dict[tuple[str, str], Future] = {}
        self.lock = threading.Lock()

    def target(self, key: str, variant: str) -> Path:
        folder = self.root / key.replace("/", "__") / variant
        return folder / VARIANTS[variant][0]

    def _convert(self, source: Path, target: Path, options: list[str]):
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "napari_lightmic", "convert", str(source), str(target),
               *options]
        return cmd, subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                                   env=os.environ.copy())

    def _submit(self, source: Path, key: str) -> None:
        if (key, "tiff") not in self.futures:
            for name, (_, options) in VARIANTS.items():  # all of this file's outputs
                self.futures[(key, name)] = self.pool.submit(
                    self._convert, source, self.target(key, name), options)

    def get(self, source: Path, key: str, variant: str, following=()) -> Path:
        """The output, converted now if need be; `following` ((source, key) pairs: the next
        files tests will ask for) are queued behind it so the two workers never idle."""
        with self.lock:
            self._submit(source, key)
            for later in following:
                self._submit(*later)
        cmd, done = self.futures[(key, variant)].result()
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
        return self.target(key, variant)

    def close(self):
        self.pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def outputs(tmp_path_factory, testdata):
    made = Outputs(tmp_path_factory.mktemp("interop"))
    yield made
    made.close()


@pytest.fixture(scope="session")
def _sources():
    opened = {}
    yield opened
    for source in opened.values():
        source.close()


@pytest.fixture
def converted(request, outputs):
    """converted(key, variant) -> the output path, made once per session."""
    def get(key: str, variant: str) -> Path:
        following = []
        if key in FILES:  # tests go through FILES in order: queue the next two
            for later in FILES[FILES.index(key) + 1:FILES.index(key) + 3]:
                try:
                    following.append((source_path(request, later), later))
                except pytest.skip.Exception:
                    pass
        return outputs.get(source_path(request, key), key, variant, following)
    return get


@pytest.fixture
def source(request, _sources):
    """source(key) -> the plugin's own ImageSource of a shared file (opened once)."""
    from napari_lightmic.reading import open_image

    def get(key: str):
        if key not in _sources:
            _sources[key] = open_image(source_path(request, key))
        return _sources[key]
    return get


_expected_cache: dict[tuple[str, int], Expected] = {}


@pytest.fixture
def written(source):
    """written(key, scenes) -> the Expected image of each scene index in `scenes` (or
    'all'), cached so each source's pixels are read once."""
    def get(key: str, scenes="all") -> list[Expected]:
        src = source(key)
        indices = range(len(src.scenes)) if scenes == "all" else scenes
        out = []
        for i in indices:
            if (key, i) not in _expected_cache:
                _expected_cache[(key, i)] = expected(src.scenes[i])
            out.append(_expected_cache[(key, i)])
        return out
    return get


def ngff_images(root: Path) -> tuple[bool, list[Path]]:
    """(bioformats2raw layout?, image group folders), read from the JSON alone."""
    attrs = zarr_attrs(root)
    if "bioformats2raw.layout" not in attrs:
        return False, [root]
    series = zarr_attrs(root / "OME").get("series")
    if not series:
        series = sorted((p.name for p in root.iterdir() if p.name.isdigit()), key=int)
    return True, [root / s for s in series]


def zarr_attrs(group: Path) -> dict:
    """A group's NGFF attributes: 'ome' of zarr.json (v3) or .zattrs (v2)."""
    if (group / "zarr.json").exists():
        attrs = json.loads((group / "zarr.json").read_text()).get("attributes", {})
        return attrs.get("ome", attrs)
    if (group / ".zattrs").exists():
        return json.loads((group / ".zattrs").read_text())
    return {}


def expected_images(written, key: str, variant: str, layout: bool) -> list[Expected]:
    """The images an OME-Zarr output should hold: every scene with --scene all or when the
    command wrote the bioformats2raw layout, else the first."""
    return written(key) if (layout or variant == "all") else written(key, [0])


__all__ = ["FILES", "TESTDATA", "ngff_images", "zarr_attrs"]
