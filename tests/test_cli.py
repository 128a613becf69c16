import json
import os
import re
import subprocess
import sys

import pytest

from napari_lightmic.cli import main
from tests.conftest import real_file


def test_info_json_contract(capsys):
    assert main(["info", str(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "CZI" and info["vendor"] == "Carl Zeiss"
    assert info["open_format"] is False and info["lossy"] is False
    assert len(info["scenes"]) == 3
    scene = info["scenes"][0]
    assert set(scene) >= {"index", "name", "dims", "shape", "dtype", "physical_pixel_sizes",
                          "units", "channel_names", "channel_colors", "mosaic"}
    assert scene["dims"] == "TCZYX" and scene["shape"] == [2, 2, 3, 122, 295]
    assert scene["dtype"] == "uint16"
    assert scene["physical_pixel_sizes"] == pytest.approx({"T": None, "Z": 1.0, "Y": 1.6, "X": 1.6})
    assert scene["units"] == {"Z": "µm", "Y": "µm", "X": "µm"}
    assert scene["channel_names"] == ["DAPI", "EGFP"]
    assert scene["channel_colors"] == ["#00A1FF", "#00FF5B"]
    assert scene["mosaic"]["tiles"] == 10
    assert info["scenes"][1]["mosaic"] is None


def test_info_one_scene_by_name(capsys):
    assert main(["info", str(real_file("lif/testdata_2channel_xz.lif")), "--scene", "xz",
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in info["scenes"]] == ["xz"]
    assert info["scenes"][0]["dims"] == "TCZX"


def test_info_keeps_extra_axes_in_dims(capsys):
    assert main(["info", str(real_file("czi/LSM880_AiryScan.czi")), "--json"]) == 0
    scene = json.loads(capsys.readouterr().out)["scenes"][0]
    assert scene["dims"] == "HTCZYX" and scene["shape"][0] == 32


def test_info_text(capsys):
    assert main(["info", str(real_file("nd2/example-zstack.nd2"))]) == 0
    out = capsys.readouterr().out
    assert "ND2 (Nikon)" in out and "Z 6 µm" in out and "FITC BP" in out


def test_bad_input_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "broken.lif"
    bad.write_bytes(b"\x00" * 100)
    result = subprocess.run([sys.executable, "-m", "napari_lightmic", "info", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1  # the work failed: the file is unreadable
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.lif" in lines[0] and "LIF" in lines[0]


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("lightmic") or str(
        __import__("pathlib").Path(sys.executable).with_name("lightmic"))
    result = subprocess.run([exe, "info", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--json" in result.stdout


def test_info_lists_resolution_levels(capsys):
    assert main(["info", str(real_file("hdf5/bdv/demoSlice.xml")), "--json"]) == 0
    scene = json.loads(capsys.readouterr().out)["scenes"][0]
    assert scene["levels"] == [[1, 1, 1, 397, 580], [1, 1, 1, 99, 145]]
    assert scene["units"] == {"Z": "pixel", "Y": "pixel", "X": "pixel"}


def test_metadata_set_show_json_and_export(vendor_copy, tmp_path, capsys):
    path = str(vendor_copy("nd2/example-multichannel.nd2"))
    assert main(["metadata", path, "--set", "rembi.study.title=Yeast division",
                 "--set", "rembi.image_acquisition.imaging_method=SDCM",
                 "--set", "scenes.0.channels.0.name=Brightfield"]) == 0
    assert main(["metadata", path, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["rembi"]["study"]["title"] == "Yeast division"
    assert record["rembi"]["image_acquisition"]["imaging_method"]["label"] == \
        "Confocal fluorescence microscopy"  # SDCM: a synonym's acronym
    assert main(["info", path, "--json"]) == 0  # edits are applied when the CLI opens the file
    info = json.loads(capsys.readouterr().out)
    assert info["scenes"][0]["channel_names"][0] == "Brightfield"
    assert info["acquisition"]["imaging_method"].startswith("Confocal fluorescence microscopy")
    assert main(["metadata", path]) == 0
    out = capsys.readouterr().out
    assert "study.title: Yeast division" in out
    # the instrument (the Ti2 stand) is read from the file
    assert "5 of 12 required REMBI fields filled: missing Study description" in out
    assert main(["metadata", path, "--export-idr", str(tmp_path / "idr")]) == 0
    assert (tmp_path / "idr" / "experimentA" / "idr0000-experimentA-assays.txt").exists()


def test_metadata_refuses_bad_values_with_reason(vendor_copy, capsys):
    path = vendor_copy("nd2/example-multichannel.nd2")
    assert main(["metadata", str(path), "--set", "scenes.0.channels.1.emission_nm=0"]) == 2
    err = capsys.readouterr().err
    assert "scenes.0.channels.1.emission_nm" in err and "100–3000 nm" in err
    assert not (path.parent / (path.name + ".lightmic.json")).exists()


def test_metadata_privacy_listing(capsys):
    assert main(["metadata", str(real_file("lsm/test.lsm")), "--privacy"]) == 0
    assert "name: 'Jefferis'" in capsys.readouterr().out


def lightmic(*args) -> subprocess.CompletedProcess:
    """The installed `lightmic` command, as a user runs it."""
    import shutil
    from pathlib import Path

    exe = Path(sys.executable).with_name("lightmic")
    command = [str(exe)] if exe.exists() else [shutil.which("lightmic") or "lightmic"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_convert_writes_every_scene_by_default_and_says_so(tmp_path, opened):

    czi = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    done = lightmic("convert", czi, tmp_path / "all.ome.zarr")
    assert done.returncode == 0, done.stderr
    assert "3 scenes (TR1, P1, TR2)" in done.stderr
    assert [s.name for s in opened(tmp_path / "all.ome.zarr").scenes] == ["TR1", "P1", "TR2"]
    done = lightmic("convert", czi, tmp_path / "all.ome.tif")
    assert done.returncode == 0 and "3 scenes" in done.stderr
    assert len(opened(tmp_path / "all.ome.tif").scenes) == 3


@pytest.mark.parametrize("scene", ["1", "P1"])
def test_convert_one_scene_by_index_or_name(tmp_path, scene, opened):

    czi = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    done = lightmic("convert", czi, tmp_path / "one.ome.zarr", "--scene", scene)
    assert done.returncode == 0, done.stderr
    assert "1 scene (P1)" in done.stderr
    back = opened(tmp_path / "one.ome.zarr")
    assert len(back.scenes) == 1 and back.scenes[0].shape == opened(czi).scenes[1].shape
    bad = lightmic("convert", czi, tmp_path / "bad.ome.zarr", "--scene", "nope")
    assert bad.returncode == 2 and "no scene named 'nope'" in bad.stderr
    assert not (tmp_path / "bad.ome.zarr").exists()


@pytest.mark.parametrize("options, message", [
    (["--ngff-version", "0.4", "--shard"], "sharding needs NGFF 0.5"),
    (["--pyramid-levels", "0"], "pyramid levels must be at least 1"),
    (["--compression", "lz4"], "compression 'lz4' is not one of"),
])
def test_convert_refuses_bad_options_naming_the_output(tmp_path, capsys, options, message):
    czi = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    out = tmp_path / "out.ome.tif"
    assert main(["convert", str(czi), str(out), *options]) == 2
    err = capsys.readouterr().err
    assert f"lightmic: {out}: {message}" in err
    assert not out.exists()


# -- the command line as Unix tools behave ---------------------------------------------------

def lightmic_to_closed_pipe(*args) -> subprocess.CompletedProcess:
    """`lightmic ARGS | head -0`: stdout is a pipe whose reader is gone before anything is
    written (closed before the command starts, so the outcome does not depend on timing)."""
    import shutil
    from pathlib import Path

    exe = Path(sys.executable).with_name("lightmic")
    command = [str(exe)] if exe.exists() else [shutil.which("lightmic") or "lightmic"]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([*command, *map(str, args)], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [["info"], ["info", "--json"], ["metadata", "--show"],
                                  ["metadata", "--json"]])
def test_output_into_a_closed_pipe_ends_quietly(args):
    done = lightmic_to_closed_pipe(*args, real_file("nd2/example-zstack.nd2"))
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.returncode == 141  # 128 + SIGPIPE, what the shell shows for `cat F | head`


def test_version_from_the_installed_package():
    from importlib.metadata import version

    done = lightmic("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"lightmic {version('napari-lightmic')}"


@pytest.mark.parametrize("command, positional", [
    ("info", "path"), ("convert", "input"), ("validate", "path"), ("metadata", "path"),
    ("view", "path"), ("audit", "INPUT"), ("rois", "path")])
def test_each_subcommand_help_has_examples_and_explains_its_arguments(command, positional):
    done = lightmic(command, "--help")
    assert done.returncode == 0
    out = done.stdout
    assert "\nexamples:\n  lightmic " + command in out  # kept as written, one per line
    assert "exit status: 0 done, 1 the work failed" in out
    arguments = out.split("positional arguments:")[1].split("options:")[0]
    entries = dict(re.findall(r"^  (\S+)(.*(?:\n {4,}.*)*)", arguments, re.MULTILINE))
    assert positional in entries
    assert all(text.strip() for text in entries.values())  # each says what it takes


def test_validate_says_what_it_accepts():
    done = lightmic("validate", real_file("lsm/test.lsm"))
    assert done.returncode == 2  # a usage error: validate does not check LSM files
    assert "output" not in done.stderr
    assert "validate checks an OME-Zarr folder (*.ome.zarr, *.zarr, or any folder with NGFF " \
        "metadata) or an OME-TIFF file (*.ome.tif, *.ome.tiff)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_exit_codes_usage_2_failed_work_1(tmp_path):
    czi = real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")
    assert lightmic("info", czi, "--no-such-option").returncode == 2  # argparse's own
    assert lightmic("info", czi, "--scene", "9").returncode == 2  # a bad option value
    assert lightmic("convert", czi, tmp_path / "out.png").returncode == 2  # no such format
    assert not (tmp_path / "out.png").exists()
    assert lightmic("info", tmp_path / "missing.czi").returncode == 1  # the work failed
    (tmp_path / "there.ome.tif").write_bytes(b"")
    refused = lightmic("convert", czi, tmp_path / "there.ome.tif")  # would overwrite
    assert refused.returncode == 1 and "--overwrite" in refused.stderr
    assert lightmic("validate", tmp_path / "there.ome.tif").returncode == 1  # invalid output


def test_info_shows_the_acquisition_as_metadata_does(capsys):
    nd2 = str(real_file("nd2/example-timelapse.nd2"))
    assert main(["metadata", nd2, "--show"]) == 0
    shown = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines()
                 if line.startswith("image_acquisition."))
    assert main(["info", nd2, "--json"]) == 0
    acquisition = json.loads(capsys.readouterr().out)["acquisition"]
    assert {f"image_acquisition.{k}": v for k, v in acquisition.items()} == shown
    assert acquisition["objective"].startswith("PLAN APO λD 40x")
    assert acquisition["acquisition_date"].startswith("2025-03-27")
    assert main(["info", nd2]) == 0
    out = capsys.readouterr().out
    assert "  acquisition:\n" in out and "objective: PLAN APO λD 40x" in out
    assert "time step: 500.2 ms" in out and "pixel size: Y 0.325 µm, X 0.325 µm\n" in out


def test_info_says_when_no_time_step_is_recorded(capsys):
    assert main(["info", str(real_file("czi/CellDivision_T3_Z5_CH2_X240_Y170.czi"))]) == 0
    out = capsys.readouterr().out
    assert "time step: not recorded" in out and "instrument: Carl Zeiss Castor.Stand" in out


def test_library_log_records_are_printed_only_when_asked(tmp_path):
    """tifffile's own notes on a damaged tag: not lines of their own unless -v (fuzz 1-185)."""
    import struct

    import numpy as np
    import tifffile

    path = tmp_path / "four.tif"
    tifffile.imwrite(path, np.zeros((4, 32, 32), np.uint8), photometric="minisblack",
                     metadata=None)
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[2].tags[273].offset  # StripOffsets of page 2
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, offset + 4, 5000)  # its count: the values lie past the end
    path.write_bytes(bytes(data))
    quiet = lightmic("convert", path, tmp_path / "out.ome.zarr")
    assert quiet.returncode == 1
    assert quiet.stderr.count("\n") == 1 and "four.tif: the file is truncated" in quiet.stderr
    told = lightmic("-v", "convert", path, tmp_path / "out.ome.zarr")
    assert told.returncode == 1 and "tifffile: " in told.stderr
    assert told.stderr.strip().splitlines()[-1] == quiet.stderr.strip()
    assert not (tmp_path / "out.ome.zarr").exists()
