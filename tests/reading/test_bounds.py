"""Damaged structure and hostile declared sizes: a LightmicReadError, never a crash or a blow-up.

Every case runs `open_image` (and a read of the first plane when it opens) in a subprocess
under an address-space limit and a timeout, so a segfault, a hang or a runaway allocation
fails the test instead of taking the test run (or the machine) with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    refused(path, "metadata segment declares 2147483647 bytes")


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


# ---- declared sizes: checked before anything is allocated ---------------------------------


def _nd2_chunks(data: bytes) -> list[int]:
    """Byte offsets of the ND2 chunk headers (magic 0x0ABECEDA)."""
    magic = struct.pack("<I", 0x0ABECEDA)
    found, at = [], data.find(magic)
    while at >= 0:
        found.append(at)
        at = data.find(magic, at + 1)
    return found


@pytest.mark.parametrize("which", [1, 2, -1])
def test_nd2_chunk_length_of_2_62_is_refused(tmp_path, which):
    # data_length (uint64 after the magic and the name length) of a metadata chunk, and
    # of the chunk map at the end: nd2 read that many bytes (MemoryError, a traceback)
    relpath = "nd2/example-zstack.nd2"
    offset = _nd2_chunks(real_file(relpath).read_bytes())[which]
    refused(mutated(tmp_path, relpath, [(offset + 8, "<Q", 2**62)]), "declares 4,611,686,018")


def test_png_declaring_2_31_frames_is_refused(tmp_path):
    import zlib

    from PIL import Image
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "base.png")
    data = (tmp_path / "base.png").read_bytes()
    body = b"acTL" + struct.pack(">II", 2**31 - 1, 0)
    chunk = struct.pack(">I", 8) + body + struct.pack(">I", zlib.crc32(body))
    path = tmp_path / "frames.png"
    path.write_bytes(data[:33] + chunk + data[33:])  # after the IHDR chunk
    refused(path, "2,147,483,647 animation frames")


def test_png_declaring_more_pixels_than_deflate_could_make_of_it_is_refused(tmp_path):
    # fuzz 5-2817: IHDR height 10**6 over a 9 kB file; a conversion ran past its time limit
    from PIL import Image

    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "tall.png")
    path = tmp_path / "tall.png"
    data = bytearray(path.read_bytes())
    struct.pack_into(">I", data, 20, 10**6)  # IHDR height (its CRC is not checked first)
    path.write_bytes(bytes(data))
    refused(path, "64 × 1,000,000 pixels", "deflate")


def test_a_valid_png_near_deflates_limit_opens(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((2000, 2000), np.uint8)).save(tmp_path / "black.png")
    assert probe(tmp_path / "black.png")["shape"][-2:] == [2000, 2000]


def test_bigdataviewer_last_time_point_of_2e9_is_refused(tmp_path):
    xml = real_file("hdf5/bdv/demoSlice.xml").read_text()
    shutil.copy(real_file("hdf5/bdv/demoSlice.h5"), tmp_path / "demoSlice.h5")
    path = tmp_path / "demoSlice.xml"
    path.write_text(re.sub(r"<last>\d+</last>", "<last>2000000000</last>", xml))
    refused(path, "time points", "2000000000")


def test_hdf5_dataset_of_1e9_squared_in_single_pixel_chunks_is_refused(tmp_path):
    import h5py

    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("img", shape=(10**9, 10**9), chunks=(1, 1), dtype="u1")
    refused(path, "chunks", "LIGHTMIC_MAX_CHUNKS")


def _ome_zarr(path: Path, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Path:
    import zarr

    group = zarr.open_group(path, mode="w", zarr_format=3)
    group.create_array("0", shape=shape, chunks=chunks, dtype="u1")
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0]}]}]}]}
    return path


def test_ome_zarr_of_1e6_squared_in_single_pixel_chunks_is_refused(tmp_path):
    path = _ome_zarr(tmp_path / "huge.ome.zarr", (10**6, 10**6), (1, 1))
    refused(path, "1,000,000,000,000 chunks", "LIGHTMIC_MAX_CHUNKS")


def _ome_tiff(tmp_path: Path, **sizes: int) -> Path:
    import tifffile

    source = real_file("ometiff/bioformats_converted/s_1_t_1_c_1_z_1.ome.tiff")
    with tifffile.TiffFile(source) as tif:
        xml, plane = tif.pages[0].description, tif.pages[0].asarray()
    for axis, value in sizes.items():
        xml = re.sub(rf'{axis}="\d+"', f'{axis}="{value}"', xml)
    path = tmp_path / "declared.ome.tiff"
    tifffile.imwrite(path, plane, description=xml.encode(), metadata=None)
    return path


def test_ome_tiff_declaring_1e6_squared_pixels_is_refused(tmp_path):
    # was: opened, then a read asked for 1.8 TiB
    path = _ome_tiff(tmp_path, SizeX=10**6, SizeY=10**6)
    refused(path, "1000000 × 1000000", "LIGHTMIC_MAX_PLANE_BYTES")


def test_lsm_declaring_2_31_channels_is_refused(tmp_path):
    import tifffile

    relpath = "lsm/test.lsm"
    with tifffile.TiffFile(real_file(relpath)) as tif:
        info = tif.pages[0].tags[34412].valueoffset  # CZ_LSMINFO
    # DimensionChannels: after the magic, the structure size and DimensionX, Y, Z
    refused(mutated(tmp_path, relpath, [(info + 20, "<i", 2**31 - 1)]))


def _mmstack(tmp_path: Path, folder: Path) -> Path:
    """A copy of the unpacked Micro-Manager set (four files, one per position)."""
    shutil.copytree(folder, tmp_path / "mm")
    return tmp_path / "mm" / "1.4compatTest_3_MMStack_1-Pos_000_000.ome.tif"


def test_an_uncompressed_page_larger_than_its_file_is_refused(tmp_path, micromanager_dataset):
    # fuzz 5-352: ImageLength 10**6 made 64-pixel planes 10**6 rows long; the strided display
    # levels of 125,000 chunks a plane took longer than the time limit to build
    path = _tag(_mmstack(tmp_path, micromanager_dataset), 257, 10**6)
    refused(path, "page 0 declares an uncompressed plane of 1000000 × 64 pixels",
            "128,000,000 bytes")


def test_an_uncompressed_page_its_strips_cannot_fill_is_refused(tmp_path, micromanager_dataset):
    # fuzz 5-2716: ImageLength 65535 over one 64-row strip: planes of zeros 1000 times too
    # tall, and a conversion past its time limit
    path = _tag(_mmstack(tmp_path, micromanager_dataset), 257, 65535)
    refused(path, "65535 × 64 pixels (8,388,480 bytes), but its strips hold 8,192 bytes")


def test_a_tiff_cut_before_its_first_page_is_truncated_not_empty(tmp_path, micromanager_dataset):
    # fuzz 5-184: opened with no scene, and `lightmic info` failed with an IndexError
    path = _mmstack(tmp_path, micromanager_dataset)
    with open(path, "r+b") as fh:
        fh.truncate(597146)
    refused(path, "truncated", "no page lies inside the file")


# ---- a width or height of 0: refused at open ----------------------------------------------


def test_ome_zarr_of_height_0_is_refused_at_open(tmp_path):
    # was: opened, and every read gave an empty plane
    path = _ome_zarr(tmp_path / "empty.ome.zarr", (0, 64), (16, 16))
    expect = refused(path, "0 × 64")
    assert "width, height" in expect


def test_ome_tiff_of_width_0_is_refused_at_open(tmp_path):
    # was: opened as one pixel wide, then every read failed with a ValueError
    refused(_ome_tiff(tmp_path, SizeX=0), "SizeX 0")


def _tag(path: Path, code: int, value: int) -> Path:
    """`path` with tag `code` of its first page set to `value` (in the tag's own width)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags[code]
        fmt = tif.byteorder + {3: "H", 4: "I", 16: "Q"}[int(tag.dtype)]
        offset = tag.valueoffset
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("code", "value", "declared"), [
    (256, 1025709355, "325 × 1025709355"),  # ImageWidth: the decoder allocated 621 GiB
    (277, 65535, "325 × 475 × 65535"),  # SamplesPerPixel: 18.8 GiB
])
def test_a_page_declaring_another_plane_than_its_image_is_refused_before_decoding(
        tmp_path, code, value, declared):
    # fuzz 1-124 and 1-208: MemoryError while decoding, under a 4 GiB address space
    path = _tag(_ome_tiff(tmp_path), code, value)
    refused(path, f"declares a plane of {declared} pixels, not 325 × 475", "T=0, C=0, Z=0")


def test_planes_declared_by_the_million_around_one_end_after_the_last_held(tmp_path):
    # fuzz 1-160: SizeZ=1000000 over one page opened as 309 GB of zeros, and a conversion
    # wrote zeros until killed
    result = probe(_ome_tiff(tmp_path, SizeZ=10**6))
    assert result == {"outcome": "read", "shape": [1, 1, 1, 325, 475]}
    from napari_lightmic import open_image

    with open_image(tmp_path / "declared.ome.tiff") as source:
        assert any("declares SizeZ=1,000,000" in n and "999,999 planes" in n
                   for n in source.scenes[0].notes)


def test_a_few_planes_no_file_holds_stay_zeros_as_bio_formats_shows_them(tmp_path):
    # an acquisition stopped early keeps its declared size (Bio-Formats shows the same)
    assert probe(_ome_tiff(tmp_path, SizeZ=40))["shape"] == [1, 1, 40, 325, 475]


# ---- the limits, and the open boundary ------------------------------------------------------


def test_the_limits_are_configurable(monkeypatch):
    from napari_lightmic import open_image

    path = real_file(CZI)
    monkeypatch.setenv("LIGHTMIC_MAX_PLANE_BYTES", "1000")
    with pytest.raises(LightmicReadError, match="LIGHTMIC_MAX_PLANE_BYTES"):
        open_image(path)
    monkeypatch.delenv("LIGHTMIC_MAX_PLANE_BYTES")
    monkeypatch.setenv("LIGHTMIC_MAX_CHUNKS", "1")
    with pytest.raises(LightmicReadError, match="LIGHTMIC_MAX_CHUNKS"):
        open_image(path)
    monkeypatch.delenv("LIGHTMIC_MAX_CHUNKS")
    open_image(path).close()


def test_memory_error_in_a_reader_is_a_read_error(tmp_path, monkeypatch):
    """What a library raises when it believes a declared size: one line, the file named."""
    from napari_lightmic import open_image
    from napari_lightmic.reading import czi

    def believe(path, fmt):
        raise MemoryError("Unable to allocate 16.0 GiB for an array")

    monkeypatch.setattr(czi, "open_czi", believe)
    path = real_file(CZI)
    with pytest.raises(LightmicReadError, match="too large to hold in memory") as info:
        open_image(path)
    assert str(path) in str(info.value) and "16.0 GiB" in str(info.value)


def test_cli_info_on_a_damaged_czi_says_one_line(tmp_path):
    """`lightmic info` on the CZI that crashed the process: exit 1, one line, no traceback."""
    path = mutated(tmp_path, CZI, [(732, "<i", -1)])
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    proc = subprocess.run(
        [sys.executable, "-m", "napari_lightmic", "info", str(path)], capture_output=True,
        text=True, timeout=TIMEOUT, preexec_fn=_limit,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)})
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DimensionCount -1" in lines[0] and str(path) in lines[0]
