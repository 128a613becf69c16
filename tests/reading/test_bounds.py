"""Damaged structure and hostile declared sizes: a LightmicReadError, never a crash or a blow-up.

Every case runs `open_image` (and a read of the first plane when it opens) in a subprocess
under an address-space limit and a timeout, so a segfault, a hang or a runaway allocation
fails the test instead of taking the test run (or the machine) with it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from napari_lightmic import LightmicReadError
from tests.conftest import real_file

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4 << 30  # bytes of address space for the subprocess
TIMEOUT = 120  # seconds: generous on a loaded machine; a hang is far longer
_PROBE = """
import json, sys
from napari_lightmic import LightmicReadError, open_image
try:
    source = open_image(sys.argv[1])
    scene = source.scenes[0]
    plane = scene.data[(0,) * (scene.data.ndim - 2)].compute()
    print(json.dumps({"outcome": "read", "shape": list(scene.data.shape)}))
except LightmicReadError as exc:
    print(json.dumps({"outcome": "refused", "message": str(exc)}))
"""


def _limit() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def probe(path: Path, env: dict[str, str] | None = None) -> dict:
    """Open and read `path` in a bounded subprocess; what came of it."""
    paths = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True,
        timeout=TIMEOUT, preexec_fn=_limit,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), **(env or {})})
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def refused(path: Path, *words: str, env: dict[str, str] | None = None) -> str:
    """The one-line refusal of `path`, checked to name the file and `words`."""
    result = probe(path, env)
    assert result["outcome"] == "refused", result
    message = result["message"]
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message, message
    return message


def mutated(tmp_path: Path, relpath: str, edits: list[tuple[int, str, int]]) -> Path:
    """A copy of a shared file with struct-packed values written at byte offsets."""
    source = real_file(relpath)
    data = bytearray(source.read_bytes())
    for offset, fmt, value in edits:
        struct.pack_into(fmt, data, offset, value)
    path = tmp_path / source.name
    path.write_bytes(bytes(data))
    return path


# ---- CZI: what libCZI walks is checked first -------------------------------------------

CZI = "czi/DAPI_GFP.czi"


def _czi_layout() -> dict[str, int]:
    data = real_file(CZI).read_bytes()
    directory, metadata = struct.unpack_from("<qq", data, 32 + 52)
    first_entry = directory + 32 + 128
    subblock = struct.unpack_from("<q", data, first_entry + 6)[0]
    return {"directory": directory, "metadata": metadata, "entry": first_entry,
            "subblock": subblock}


def test_czi_negative_dimension_count_is_refused_not_a_segfault(tmp_path):
    # int32 -1 at byte 732: directory entry 0's DimensionCount (libCZI crashed the process)
    assert _czi_layout()["entry"] + 28 == 732
    path = mutated(tmp_path, CZI, [(732, "<i", -1)])
    refused(path, "entry 0", "DimensionCount -1")


def test_czi_negative_entry_count_is_refused(tmp_path):
    path = mutated(tmp_path, CZI, [(_czi_layout()["directory"] + 32, "<i", -1)])
    refused(path, "-1 entries")


def test_czi_metadata_size_beyond_the_file_is_refused(tmp_path):
    # was: RuntimeError "Not enough data read … requested: 2147483647 bytes"
    path = mutated(tmp_path, CZI, [(_czi_layout()["metadata"] + 32, "<i", 2147483647)])
    refused(path, "metadata", "2147483647")


def test_czi_entry_pointing_nowhere_is_refused(tmp_path):
    path = mutated(tmp_path, CZI, [(_czi_layout()["entry"] + 6, "<q", 1 << 40)])
    refused(path, "entry 0", "FilePosition")
    path = mutated(tmp_path, CZI, [(_czi_layout()["entry"] + 6, "<q", 1000)])
    refused(path, "entry 0", "no subblock")


def test_czi_unknown_pixel_type_and_negative_size_are_refused(tmp_path):
    entry = _czi_layout()["entry"]
    refused(mutated(tmp_path, CZI, [(entry + 2, "<i", 77)]), "PixelType 77")
    # the first dimension entry's Size (after its 4-byte name and Start)
    refused(mutated(tmp_path, CZI, [(entry + 32 + 8, "<i", -5)]), "size -5")


def test_czi_directory_and_subblock_that_disagree_are_refused(tmp_path):
    # the subblock's own copy of its directory entry says another pixel type
    layout = _czi_layout()
    path = mutated(tmp_path, CZI, [(layout["subblock"] + 32 + 16 + 2, "<i", 2)])
    # was: RuntimeError "CZIReader::ReadSubBlock: SubBlock-directory and sub-block
    # information do not match" when the pixels were read
    refused(path, "entry 0", "disagree")


def test_every_shared_czi_passes_the_structure_check():
    from napari_lightmic.reading.czi_check import check_structure

    folder = real_file(CZI).parent
    for path in sorted(folder.glob("*.czi")):
        check_structure(str(path))


def test_a_large_directory_is_checked(tmp_path):
    """100,000 entries (checked as one structured array), and a bad one among them found."""
    from napari_lightmic.reading.czi_check import check_structure

    source = real_file(CZI).read_bytes()
    layout = _czi_layout()
    ndims = struct.unpack_from("<i", source, layout["entry"] + 28)[0]
    stride = 32 + 20 * ndims
    count = struct.unpack_from("<i", source, layout["directory"] + 32)[0]
    entry = source[layout["entry"]:layout["entry"] + stride]
    many = 100_000
    body = bytearray(source)
    start = len(body)
    header = bytearray(source[layout["directory"]:layout["directory"] + 160])
    struct.pack_into("<qq", header, 16, 128 + many * stride, 128 + many * stride)
    struct.pack_into("<i", header, 32, many)
    body += header + entry * many
    struct.pack_into("<q", body, 32 + 52, start)
    path = tmp_path / "many.czi"
    path.write_bytes(bytes(body))
    assert count >= 1
    check_structure(str(path))
    struct.pack_into("<i", body, start + 160 + 54_321 * stride + 28, 0)
    path.write_bytes(bytes(body))
    with pytest.raises(LightmicReadError, match="entry 54321: DimensionCount 0"):
        check_structure(str(path))
