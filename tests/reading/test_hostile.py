"""Hostile input: special files reached by name, XML that must not be parsed, other files' bytes.

Each case that could hang or exhaust memory runs in a subprocess with a time limit (and an
address-space limit), so a regression fails the test instead of stopping the suite.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile

import napari_lightmic
from napari_lightmic import LightmicReadError, open_image
from napari_lightmic._xml import parse_xml
from tests.conftest import real_file
from tests.reading.zarr_fixtures import write_ome_zarr

SRC = str(Path(napari_lightmic.__file__).resolve().parents[1])
ROOT = str(Path(__file__).resolve().parents[2])
LIMIT_S = 20
ADDRESS_SPACE = 3 * 2**30

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")


def run_limited(code: str, *args: str) -> str:
    """Run `code` in a fresh Python, bounded in time and memory; its stdout.

    A hang fails the test (TimeoutExpired); a crash or an escaping exception fails it too.
    """
    prelude = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])}
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=LIMIT_S, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


OPEN = """
    from napari_lightmic import LightmicReadError, open_image
    try:
        source = open_image(sys.argv[1])
    except LightmicReadError as err:
        print("refused:", err)
    else:
        print("opened:", len(source.scenes))
"""


def opened_in_subprocess(path: Path) -> str:
    return run_limited(OPEN, str(path))


def refused(path: Path, *words: str) -> str:
    message = opened_in_subprocess(path)
    assert message.startswith("refused:"), message
    assert str(path) in message
    cause = message.split(str(path), 1)[1]  # the words in the cause, not in tmp_path's name
    for word in words:
        assert word in cause, message
    return message


# --- XML: one hardened parser, limits on depth, DTDs refused wherever they are -------------


def test_parser_refuses_deep_nesting():
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(ValueError, match="deeper than 256"):
        parse_xml(deep, "the test XML")


@pytest.mark.parametrize("prefix", ["", "<!-- " + "x" * 5000 + " -->\n"])
def test_parser_refuses_a_dtd_wherever_it_is(prefix):
    text = f'<?xml version="1.0"?>\n{prefix}<!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>'
    with pytest.raises(ValueError, match="DTD"):
        parse_xml(text)
    with pytest.raises(ValueError, match="DTD"):
        parse_xml(f'<?xml version="1.0"?>\n{prefix}<!DOCTYPE r><r/>')


def _czi_with_metadata(source: Path, target: Path, xml: bytes) -> Path:
    """A copy of `source` whose file header points at a new metadata segment holding `xml`."""
    data = bytearray(source.read_bytes())
    where = 32 + 60  # MetadataPosition in the file header segment's data
    body = struct.pack("<ii", len(xml), 0) + b"\0" * 248 + xml
    body += b"\0" * (-len(body) % 32)
    position = len(data)
    data += b"ZISRAWMETADATA".ljust(16, b"\0") + struct.pack("<qq", len(body), len(body)) + body
    struct.pack_into("<q", data, where, position)
    target.write_bytes(bytes(data))
    return target


def test_czi_with_deeply_nested_metadata_is_refused_not_parsed_for_minutes(tmp_path):
    # libCZI's parser took minutes over this; it is refused before libCZI sees it
    xml = b"<ImageDocument>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</ImageDocument>"
    path = _czi_with_metadata(real_file("czi/DAPI_GFP.czi"), tmp_path / "deep.czi", xml)
    refused(path, "deeper than 256")


def test_czi_metadata_with_a_dtd_is_refused(tmp_path):
    source = real_file("czi/DAPI_GFP.czi")
    xml = b'<?xml version="1.0"?>\n<!DOCTYPE ImageDocument [<!ENTITY e "x">]>' \
          b"<ImageDocument><Metadata/></ImageDocument>"
    path = _czi_with_metadata(source, tmp_path / "dtd.czi", xml)
    with pytest.raises(LightmicReadError, match="DTD"):
        open_image(path)


def test_czi_metadata_size_past_the_end_is_refused(tmp_path):
    source = real_file("czi/DAPI_GFP.czi")
    path = _czi_with_metadata(source, tmp_path / "size.czi", b"<ImageDocument/>")
    data = bytearray(path.read_bytes())
    position = struct.unpack_from("<q", data, 32 + 60)[0]
    struct.pack_into("<i", data, position + 32, 2**31 - 1)
    path.write_bytes(bytes(data))
    refused(path, "metadata")


def test_lif_header_xml_with_a_dtd_is_refused(tmp_path):
    data = real_file("lif/testdata_2channel_xz.lif").read_bytes()
    id0, _, id1, n = struct.unpack_from("<IIBI", data, 0)
    xml = "<!DOCTYPE LMSDataContainerHeader>" + data[13:13 + 2 * n].decode("utf-16-le")
    path = tmp_path / "dtd.lif"
    path.write_bytes(struct.pack("<IIBI", id0, 2 * len(xml) + 5, id1, len(xml))
                     + xml.encode("utf-16-le") + data[13 + 2 * n:])
    with pytest.raises(LightmicReadError, match="DTD"):
        open_image(path)


def test_lif_header_xml_length_past_the_end_is_refused(tmp_path):
    data = bytearray(real_file("lif/testdata_2channel_xz.lif").read_bytes())
    struct.pack_into("<I", data, 9, 2**31 - 1)  # the XML header's length in characters
    path = tmp_path / "long.lif"
    path.write_bytes(bytes(data))
    refused(path, "truncated")


def _nd2_chunk_data(data: bytes, wanted: bytes) -> tuple[int, int]:
    """Where the data of the ND2 chunk named `wanted` starts, and its length (chunk map)."""
    where = struct.unpack_from("<Q", data, len(data) - 8)[0]
    _, name_length, length = struct.unpack_from("<IIQ", data, where)
    chunk_map = data[where + 16 + name_length:where + 16 + name_length + length]
    at = chunk_map.index(wanted + b"!")
    offset = struct.unpack_from("<Q", chunk_map, at + len(wanted) + 1)[0]
    _, name_length, length = struct.unpack_from("<IIQ", data, offset)
    return offset + 16 + name_length, length


def test_nd2_xml_chunk_with_a_dtd_is_refused(tmp_path):
    # nd2 parses its XML chunks with lxml's default parser, which expands entities
    data = bytearray(real_file("nd2/example-zstack.nd2").read_bytes())
    start, length = _nd2_chunk_data(bytes(data), b"CustomDataVar|AppInfo_V1_0")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaaaaaaaa">'
              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><variant>&b;</variant>')
    data[start:start + length] = laughs.ljust(length, b" ")
    path = tmp_path / "dtd.nd2"
    path.write_bytes(bytes(data))
    refused(path, "ND2 chunk 'CustomDataVar|AppInfo_V1_0'", "DTD")


def test_every_shared_nd2_passes_the_xml_check():
    from napari_lightmic.reading.nd2 import check_nd2_chunks

    for path in sorted(real_file("nd2/example-zstack.nd2").parent.glob("*.nd2")):
        check_nd2_chunks(str(path))


def _bdv_copy(folder: Path, xml_text: str | None = None) -> Path:
    source = real_file("hdf5/bdv/demoSlice.xml")
    shutil.copy(source.with_suffix(".h5"), folder / "demoSlice.h5")
    xml = folder / "demoSlice.xml"
    xml.write_text(xml_text if xml_text is not None else source.read_text())
    return xml


def test_bigdataviewer_xml_with_a_dtd_after_4_kib_is_refused(tmp_path):
    text = real_file("hdf5/bdv/demoSlice.xml").read_text()
    head, rest = text.split("\n", 1)
    text = f"{head}\n<!-- {'x' * 5000} -->\n<!DOCTYPE SpimData>\n{rest}"
    path = _bdv_copy(tmp_path, text)
    with pytest.raises(LightmicReadError, match="DTD"):
        open_image(path)


OME = ('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
       '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
       'SizeX="16" SizeY="16" SizeZ="1" SizeC="1" SizeT="1">'
       '<Channel ID="Channel:0:0" SamplesPerPixel="1"/>{tiffdata}</Pixels></Image></OME>')


def _ome_tiff(path: Path, xml: str) -> Path:
    tifffile.imwrite(path, np.zeros((16, 16), np.uint8), description=xml, metadata=None)
    return path


def test_ome_tiff_description_with_a_dtd_after_4_kib_is_refused(tmp_path):
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- ' + "x" * 5000 + ' -->\n'
           '<!DOCTYPE OME>\n' + OME.format(tiffdata='<TiffData IFD="0" PlaneCount="1"/>'))
    path = _ome_tiff(tmp_path / "dtd.ome.tif", xml)
    with pytest.raises(LightmicReadError, match="DTD"):
        open_image(path)


def test_ome_zarr_metadata_xml_with_a_dtd_after_4_kib_is_refused(tmp_path):
    from napari_lightmic.reading.ngff import _load_ome

    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.4")
    (path / "OME").mkdir()
    (path / "OME" / "METADATA.ome.xml").write_text(
        '<?xml version="1.0"?>\n<!-- ' + "x" * 5000 + ' -->\n<!DOCTYPE OME>\n'
        + OME.format(tiffdata=""))
    with pytest.raises(ValueError, match="DTD"):
        _load_ome(str(path))


# --- special files reached by name: refused, never waited on -------------------------------


@needs_fifo
@pytest.mark.parametrize("member", [".zattrs", ".zgroup"])
def test_fifo_inside_an_ome_zarr_is_refused_at_open(tmp_path, member):
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.4")
    target = path / member
    target.unlink()
    os.mkfifo(target)
    refused(path, "FIFO", target.name)


READ = """
    from napari_lightmic import LightmicReadError, open_image
    source = open_image(sys.argv[1])
    scene = source.scenes[0]
    try:
        scene.data[(0,) * (scene.data.ndim - 2)].compute()
    except LightmicReadError as err:
        print("refused:", err)
    else:
        print("read")
"""


@needs_fifo
@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_fifo_as_an_ome_zarr_chunk_is_refused_when_read_never_waited_on(tmp_path, version):
    # chunks are checked as they are read: opening a tree does not walk a million of them
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, version)
    target = next(p for p in sorted((path / "s0").rglob("*")) if p.is_file()
                  and not p.name.startswith(".") and p.name != "zarr.json")
    target.unlink()
    os.mkfifo(target)
    message = run_limited(READ, str(path))
    assert message.startswith("refused:") and str(path) in message, message
    assert "plane T=0" in message and "FIFO" in message and str(target) in message


@needs_fifo
def test_fifo_as_zarr_json_is_refused(tmp_path):
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.5")
    (path / "zarr.json").unlink()
    os.mkfifo(path / "zarr.json")
    refused(path, "FIFO", "zarr.json")


@needs_dev_zero
def test_link_to_dev_zero_inside_an_ome_zarr_is_refused(tmp_path):
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.5")
    target = path / "zarr.json"
    target.unlink()
    target.symlink_to("/dev/zero")
    refused(path, "device")


@needs_fifo
def test_fifo_as_ome_metadata_xml_is_refused(tmp_path):
    path = tmp_path / "image.ome.zarr"
    write_ome_zarr(path, "0.4")
    (path / "OME").mkdir()
    os.mkfifo(path / "OME" / "METADATA.ome.xml")
    refused(path, "FIFO", "METADATA.ome.xml")


@needs_fifo
def test_fifo_named_xml_beside_a_bigdataviewer_h5_is_skipped(tmp_path):
    _bdv_copy(tmp_path)
    os.mkfifo(tmp_path / "another.xml")
    assert opened_in_subprocess(tmp_path / "demoSlice.h5") == "opened: 1"


@needs_fifo
def test_fifo_as_the_hdf5_file_a_bigdataviewer_xml_names_is_refused(tmp_path):
    xml = _bdv_copy(tmp_path)
    (tmp_path / "demoSlice.h5").unlink()
    os.mkfifo(tmp_path / "demoSlice.h5")
    refused(xml, "FIFO")


@needs_fifo
def test_ome_tiff_whose_tiffdata_names_a_fifo_is_refused(tmp_path):
    tiffdata = ('<TiffData FirstC="0" IFD="0" PlaneCount="1">'
                '<UUID FileName="other.ome.tif">urn:uuid:0f0e0d0c-0b0a-0908-0706-050403020100'
                '</UUID></TiffData>')
    xml = OME.format(tiffdata=tiffdata).replace(
        "<OME ", '<OME UUID="urn:uuid:00000000-0000-0000-0000-000000000001" ', 1)
    path = _ome_tiff(tmp_path / "set.ome.tif", xml)
    os.mkfifo(tmp_path / "other.ome.tif")
    refused(path, "FIFO", "other.ome.tif")


SIDECAR = """
    from napari_lightmic.session import Session
    session = Session.open(sys.argv[1])
    print("problem:", session.sidecar_problem)
    session.close()
"""


def _sidecar_case(tmp_path: Path, make) -> str:
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f["image"] = np.zeros((16, 16), np.uint8)
    make(Path(str(path) + ".lightmic.json"))
    return run_limited(SIDECAR, str(path))


@needs_fifo
def test_fifo_as_the_sidecar_is_reported_not_read(tmp_path):
    message = _sidecar_case(tmp_path, os.mkfifo)
    assert "FIFO" in message and "plain.h5.lightmic.json" in message


@needs_dev_zero
def test_link_to_dev_zero_as_the_sidecar_is_reported_not_read(tmp_path):
    message = _sidecar_case(tmp_path, lambda p: p.symlink_to("/dev/zero"))
    assert "device" in message and "plain.h5.lightmic.json" in message


def test_oversized_sidecar_is_reported_not_read(tmp_path):
    message = _sidecar_case(tmp_path, lambda p: p.write_bytes(b" " * (17 * 2**20) + b"{}"))
    assert "larger than" in message and "plain.h5.lightmic.json" in message


# --- HDF5: no other file's bytes; cycles and deep groups walked safely ----------------------


def test_hdf5_external_raw_storage_is_refused(tmp_path):
    other = tmp_path / "secret.bin"
    other.write_bytes(bytes(range(256)) * 4)
    path = tmp_path / "external.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("image", shape=(32, 32), dtype="u1", external=[(str(other), 0, 1024)])
    with pytest.raises(LightmicReadError, match="secret.bin"):
        open_image(path)


def test_hdf5_hard_link_cycle_opens(tmp_path):
    path = tmp_path / "cycle.h5"
    with h5py.File(path, "w") as f:
        group = f.create_group("a")
        group["image"] = np.arange(256, dtype=np.uint16).reshape(16, 16)
        group["loop"] = group
        group["root"] = f
    source = open_image(path)
    assert [s.name for s in source.scenes] == ["/a/image"]
    assert int(source.scenes[0].data.sum().compute()) == sum(range(256))
    source.close()


def test_hdf5_very_deep_groups_are_refused_cleanly(tmp_path):
    path = tmp_path / "deep.h5"
    with h5py.File(path, "w") as f:
        f["image"] = np.zeros((16, 16), np.uint8)
        f.create_group("/".join(["g"] * 1500))
    with pytest.raises(LightmicReadError, match="deeper than 1000"):
        open_image(path)


# --- JSON output: only finite numbers ---------------------------------------------------------


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_info_json_has_only_finite_numbers(tmp_path):
    path = tmp_path / "inf.h5"
    with h5py.File(path, "w") as f:
        f["image"] = np.zeros((16, 16), np.uint8)
        f["image"].attrs["element_size_um"] = [np.inf, np.inf]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])}
    done = subprocess.run([sys.executable, "-m", "napari_lightmic", "info", "--json", str(path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    info = _strict(done.stdout)
    assert "Infinity" not in done.stdout
    assert info


@needs_fifo
def test_fifo_opened_directly_is_refused_as_a_fifo(tmp_path):
    path = tmp_path / "pipe.czi"
    os.mkfifo(path)
    refused(path, "FIFO")


@needs_dev_zero
def test_link_to_a_device_opened_directly_is_refused_as_a_device(tmp_path):
    path = tmp_path / "zero.nd2"
    path.symlink_to("/dev/zero")
    refused(path, "device")
