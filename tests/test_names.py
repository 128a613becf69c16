"""Any name the file system takes opens; an error about any name is one line.

Long names (the sidecar's name would pass the file system's 255 bytes), spaces, accents,
emoji, bytes that are not UTF-8 and newlines, through the command line as a user runs it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_lightmic import LightmicError, LightmicReadError, open_image
from napari_lightmic.metadata.sidecar import sidecar_path

NAMES = {
    "spaces": "two words .ome.tif",
    "accents": "Zellkern ñ é ü.ome.tif",
    "emoji": "🦠 cells 🔬.ome.tif",
    "long": "x" * 240 + ".ome.tif",  # 248 bytes: NAME.lightmic.json would be 262
    "long-unicode": "é" * 118 + ".ome.tif",  # 244 bytes in 126 characters
    "not-utf8": os.fsdecode(b"caf\xe9 \xff.ome.tif"),  # Latin-1 bytes: surrogate escapes
    "newline": "first\nsecond.ome.tif",
}


def lightmic(*args: str | os.PathLike[str], strict_output: bool = False
             ) -> subprocess.CompletedProcess[bytes]:
    """`python -m napari_lightmic ARGS` as a user runs it; raw bytes out.

    strict_output: stdout and stderr refuse what is not UTF-8 (PYTHONIOENCODING=utf-8), as
    a terminal set to a UTF-8 locale without Python's UTF-8 mode does.
    """
    env = dict(os.environ)
    if strict_output:
        env["PYTHONIOENCODING"] = "utf-8"
        env["PYTHONUTF8"] = "0"
    return subprocess.run([sys.executable, "-m", "napari_lightmic",
                           *(os.fsencode(a) for a in args)],
                          capture_output=True, timeout=300, env=env)


def small_ome_tiff(folder: Path, name: str) -> Path:
    """A 2-plane OME-TIFF under `name` (written under a plain name, then renamed by bytes)."""
    plain = folder / "plain.ome.tif"
    tifffile.imwrite(plain, np.arange(2 * 16 * 16, dtype=np.uint16).reshape(2, 16, 16),
                     ome=True, metadata={"axes": "ZYX"})
    target = os.path.join(os.fsencode(folder), os.fsencode(name))
    os.rename(os.fsencode(plain), target)
    return Path(os.fsdecode(target))


@pytest.mark.parametrize("kind", NAMES)
def test_any_name_opens_and_keeps_edits(tmp_path, kind):
    path = small_ome_tiff(tmp_path, NAMES[kind])
    saved = lightmic("metadata", path, "--set", "rembi.study.title=Named", strict_output=True)
    assert saved.returncode == 0, saved.stderr.decode(errors="replace")
    assert saved.stderr.count(b"\n") == 1 and saved.stderr.startswith(b"saved ")
    sidecar = sidecar_path(path)
    assert sidecar is not None and sidecar.is_file()
    assert len(os.fsencode(sidecar.name)) <= 255

    info = lightmic("info", path, "--json", strict_output=True)
    assert info.returncode == 0, info.stderr.decode(errors="replace")
    described = json.loads(info.stdout.decode("utf-8"))  # valid JSON, valid UTF-8
    assert described["scenes"][0]["shape"][-2:] == [16, 16]
    assert b"applied" in info.stderr and info.stderr.count(b"\n") == 1


def test_long_names_get_distinct_short_sidecars(tmp_path):
    a = sidecar_path(tmp_path / ("y" * 245 + "a.czi"))
    b = sidecar_path(tmp_path / ("y" * 245 + "b.czi"))
    assert a is not None and b is not None and a != b
    assert a.name.endswith(".lightmic.json") and a.name.startswith("y" * 200)
    assert len(os.fsencode(a.name)) == 255  # as long as the file system takes
    assert sidecar_path(tmp_path / "short.czi") == tmp_path / "short.czi.lightmic.json"


def test_a_name_the_system_refuses_is_a_read_error(tmp_path):
    path = tmp_path / ("z" * 300 + ".czi")
    with pytest.raises(LightmicReadError, match="File name too long"):
        open_image(path)
    done = lightmic("info", path)
    assert done.returncode == 1
    assert done.stderr.count(b"\n") == 1 and b"File name too long" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize("kind", ["newline", "not-utf8"])
def test_an_error_about_any_name_is_one_line(tmp_path, kind):
    path = tmp_path / NAMES[kind].replace(".ome.tif", ".czi")  # no such file
    done = lightmic("info", path, strict_output=True)
    assert done.returncode == 1
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert b"no such file" in done.stderr
    assert (b"first\\nsecond" if kind == "newline" else b"caf\\xe9 \\xff") in done.stderr


@pytest.mark.parametrize(("name", "head"), [
    ("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
    ("cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ("cut\nname.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
])
def test_a_truncated_png_or_jpeg_is_said_in_one_line(tmp_path, name, head):
    path = tmp_path / name
    path.write_bytes(head)
    done = lightmic("info", path)
    assert done.returncode == 1
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert b"damaged, truncated or not a" in done.stderr


def test_error_text_is_always_one_line():
    err = LightmicError("/data/a\nb\udcff.czi", "first line\n  Readers attempted:\n  - x")
    assert str(err) == "/data/a\\nb\\xff.czi: first line"
    assert err.path == "/data/a\nb\udcff.czi"  # the name itself, to open it again
    str(err).encode("utf-8")  # printable on any UTF-8 stream
    assert LightmicError(b"/data/caf\xe9.czi", "gone").path == os.fsdecode(b"/data/caf\xe9.czi")


def test_convert_to_a_long_target_name(tmp_path):
    source = small_ome_tiff(tmp_path, "short.ome.tif")
    for ending in (".ome.zarr", ".ome.tif"):
        target = tmp_path / ("t" * (250 - len(ending)) + ending)
        done = lightmic("convert", source, target)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert open_image(target).scenes[0].data.shape[-2:] == (16, 16)


@pytest.mark.parametrize("kind", ["long", "not-utf8", "emoji"])
def test_any_name_opens_in_napari(make_napari_viewer, tmp_path, kind):
    path = small_ome_tiff(tmp_path, NAMES[kind])
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin="napari-lightmic")
    assert len(layers) == 1 and layers[0].data.shape[-2:] == (16, 16)


def test_a_bad_file_with_a_newline_in_its_name_is_one_line_in_napari(make_napari_viewer,
                                                                    tmp_path, notifications):
    bad = tmp_path / "broken\nfile.czi"
    bad.write_bytes(b"ZISRAWFILE" + b"\0" * 50)
    viewer = make_napari_viewer()
    assert viewer.open(bad, plugin="napari-lightmic") == []
    said = [str(n.message) for n in notifications if "broken" in str(n.message)]
    assert said and all("\n" not in text and "broken\\nfile.czi" in text for text in said)


def test_a_target_name_the_system_refuses_is_one_line(tmp_path):
    source = small_ome_tiff(tmp_path, "short.ome.tif")
    target = tmp_path / ("t" * 300 + ".ome.zarr")
    done = lightmic("convert", source, target)
    assert done.returncode == 1
    assert done.stderr.endswith(b": cannot be written: File name too long\n")
    assert done.stderr.count(b"\n") == 1


@pytest.mark.parametrize("target", ["out.ome.tif", "out.ome.zarr"])
def test_a_name_that_is_not_utf8_converts(tmp_path, target):
    """The image is named after the file (a plain TIFF records no name): undecodable bytes are
    written as backslash escapes, where the OME-XML writer refused the text (fuzz case 1-50)."""
    source = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9 \xff.tif"))
    tifffile.imwrite(source, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    done = lightmic("convert", source, tmp_path / target)
    assert done.returncode == 0, done.stderr
    if target.endswith(".tif"):
        with open_image(tmp_path / target) as copy:
            assert copy.scenes[0].name == "caf\\xe9 \\xff"


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_a_name_that_is_not_utf8_converts_to_valid_utf8_ngff_metadata(tmp_path, version):
    # the scene's name comes from the file name: its bytes that are not UTF-8 were written
    # into the NGFF JSON as lone surrogates ("\udce9"), which strict JSON readers refuse
    plain = tmp_path / "plain.tif"  # no OME name: the scene is named after the file
    tifffile.imwrite(plain, np.zeros((16, 16), np.uint16))
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9 \xff.tif"))
    os.rename(plain, path)
    out = tmp_path / "out.ome.zarr"
    done = lightmic("convert", path, out, "--ngff-version", version)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    texts = [p.read_bytes() for p in out.rglob("*") if p.name in ("zarr.json", ".zattrs")]
    assert texts and all(b"\\ud" not in t for t in texts)  # no escaped surrogate
    for text in texts:
        json.loads(text.decode("utf-8"))
    names = json.dumps([json.loads(t) for t in texts], ensure_ascii=False)
    assert "caf\\\\xe9 \\\\xff" in names  # the bytes, kept as backslash escapes


def test_a_czi_whose_name_is_not_utf8_opens_and_reads(tmp_path):
    # fuzz 5-1140: pylibCZIrw refuses a name with surrogate escapes (TypeError)
    import shutil

    from tests.conftest import real_file

    source = real_file("czi/DAPI_GFP.czi")
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/bytes \xff\xfe here.czi"))
    shutil.copyfile(source, path)
    with open_image(path) as opened:
        plane = np.asarray(opened.scenes[0].data[(0,) * (opened.scenes[0].data.ndim - 2)])
    with open_image(source) as original:
        expected = np.asarray(original.scenes[0].data[(0,) * (original.scenes[0].data.ndim - 2)])
    np.testing.assert_array_equal(plane, expected)
    done = lightmic("info", path, strict_output=True)
    assert done.returncode == 0 and b"bytes \\xff\\xfe here" in done.stdout


def test_a_name_that_is_not_utf8_is_the_same_text_in_every_json(tmp_path):
    """`lightmic info --json`, `lightmic audit --json` and a batch's report.json write the
    name's bytes alike: a backslash, x and two hex digits (not JSON's escaped surrogate)."""
    from napari_lightmic.batch.report import write_reports

    path = small_ome_tiff(tmp_path, NAMES["not-utf8"])
    info = lightmic("info", "--json", path, strict_output=True)
    assert info.returncode == 0, info.stderr
    audit = lightmic("audit", path, "--json", strict_output=True)
    assert audit.returncode == 0, audit.stderr
    reports = tmp_path / "reports"
    reports.mkdir()
    write_reports([{"input": str(path), "state": "done"}], reports, title="t",
                  started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:01+00:00")
    texts = [json.loads(info.stdout.decode("utf-8"))["path"],
             json.loads(audit.stdout.decode("utf-8"))["datasets"][0]["path"],
             json.loads((reports / "report.json").read_bytes().decode("utf-8"))["jobs"][0]["input"]]
    expected = os.fsdecode(os.fsencode(tmp_path)) + "/caf\\xe9 \\xff.ome.tif"
    assert texts == [expected] * 3
