"""A large multi-scene input written to OME-Zarr a task per scene (`--split-size`)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic.batch.manifest import MANIFEST, read_manifest
from tests.batch.conftest import lightmic, pixels_of
from tests.conftest import real_file

MULTI = "S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi"  # a shared CZI of three scenes


def multi_scene_tiff(path: Path, shapes: list[tuple[int, ...]], axes: list[str]) -> list:
    """An OME-TIFF of one series (scene) per shape; each scene's pixels."""
    import tifffile

    rng = np.random.default_rng(3)
    scenes = [rng.integers(0, 4000, shape, dtype=np.uint16) for shape in shapes]
    with tifffile.TiffWriter(path, ome=True) as tif:
        for data, ax in zip(scenes, axes):
            tif.write(data, metadata={"axes": ax})
    return scenes


def lines_of(out: Path, output: Path) -> list[dict]:
    """The manifest's lines of one output, in order."""
    return [r for r in map(json.loads, (out / MANIFEST).read_text().splitlines())
            if r["output"] == str(output)]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, by its relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial-" in p.name or ".old-" in p.name]


def scene_under_way(out: Path, staging: str) -> bool:
    """Whether a scene's group is being written in a staging folder named `staging`...

    Only the two top levels are looked at: deeper folders come and go as they are written.
    """
    try:
        return any(".partial-" in group.name for folder in out.iterdir()
                   if folder.name.startswith(staging) for group in folder.iterdir())
    except OSError:  # a folder renamed or removed as it was looked at
        return False


def test_a_large_multi_scene_input_is_written_a_task_per_scene_as_one_task_writes_it(
        tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    pixels = multi_scene_tiff(source / "multi.ome.tif", [(2, 3, 300, 280), (50, 60),
                                                         (3, 40, 30)], ["CZYX", "YX", "ZYX"])
    shutil.copy(real_file(f"czi/{MULTI}"), source / MULTI)
    split, whole = tmp_path / "split", tmp_path / "whole"

    plan = lightmic("convert", source, "--output-dir", split, "--split-size", "1",
                    "--dry-run")
    assert plan.returncode == 0, plan.stderr
    (line,) = [x for x in plan.stdout.splitlines() if "multi.ome.tif" in x]
    assert "3 scenes in 3 scene tasks, about" in line

    done = lightmic("convert", source, "--output-dir", split, "--workers", "2",
                    "--split-size", "1")
    assert done.returncode == 0, done.stderr
    one = lightmic("convert", source, "--output-dir", whole, "--workers", "2",
                   "--split-size", "none")
    assert one.returncode == 0, one.stderr

    for name in ("multi.ome.zarr", MULTI.replace(".czi", ".ome.zarr")):
        # the same tree: groups, metadata, every chunk of every level, the OME-XML
        written, expected = tree(split / name), tree(whole / name)
        assert written.keys() == expected.keys()
        assert {"0/zarr.json", "2/zarr.json", "OME/METADATA.ome.xml"} <= written.keys()
        assert [k for k in written if written[k] != expected[k]] == []
        # one record per job: planned, running, done; the parts' workers listed
        records = lines_of(split, split / name)
        assert [r["state"] for r in records] == ["planned", "running", "done"]
        last = records[-1]
        assert last["scenes"] == 3 and last["attempts"] == 1
        assert last["workers"] and last["worker"] in last["workers"]
        assert all(w["address"].startswith("tcp://") for w in last["workers"])
        assert "workers" not in read_manifest(whole, key="output")[str(whole / name)]
    assert partials(split) == [] and partials(source) == []

    for scene, want in zip(pixels_of(split / "multi.ome.zarr"), pixels):
        assert np.array_equal(scene, want.squeeze())
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    for index, want in enumerate(pixels):
        nodes = [n for n in Reader(parse_url(str(split / "multi.ome.zarr" / str(index))))()
                 if n.data]
        assert np.array_equal(np.asarray(nodes[0].data[0]).squeeze(), want.squeeze())

    again = lightmic("convert", source, "--output-dir", split, "--split-size", "1")
    assert again.returncode == 0, again.stderr
    jobs = {r["output"]: r for r in json.loads((split / "report.json").read_text())["jobs"]}
    assert {r["state"] for r in jobs.values()} == {"skipped"}
    assert jobs[str(split / "multi.ome.zarr")]["workers"]  # kept with the job skipped


def big_scenes(path: Path, count: int) -> np.ndarray:
    """An OME-TIFF of `count` scenes of 4 x 2048 x 2048 uint16 (32 MB each): scene n, plane z
    is the returned ramp + n + z."""
    import tifffile

    ramp = np.arange(2048 * 2048, dtype=np.uint16).reshape(2048, 2048) % 4096
    with tifffile.TiffWriter(path, ome=True) as tif:
        for n in range(count):
            tif.write(np.stack([ramp + n + z for z in range(4)]), metadata={"axes": "ZYX"})
    return ramp


def test_a_killed_split_batch_leaves_nothing_partial_after_the_rerun(tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    ramp = big_scenes(source / "big.ome.tif", 3)
    batch = subprocess.Popen([sys.executable, "-m", "napari_lightmic", "convert", str(source),
                              "--output-dir", str(out), "--workers", "2", "--split-size",
                              "1MB"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    staging = f"{'.big.ome.zarr.partial-'}{batch.pid}-"
    try:
        while batch.poll() is None and not scene_under_way(out, staging):
            time.sleep(0.05)
    finally:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    assert batch.returncode == -signal.SIGKILL  # killed as a scene was being written
    assert [p for p in out.iterdir() if p.name.startswith(staging)]
    assert not (out / "big.ome.zarr").exists()
    assert read_manifest(out)[str(source / "big.ome.tif")]["state"] == "running"

    rerun = lightmic("convert", source, "--output-dir", out, "--workers", "2",
                     "--split-size", "1MB")
    assert rerun.returncode == 0, rerun.stderr
    record = read_manifest(out)[str(source / "big.ome.tif")]
    assert record["state"] == "done" and record["attempts"] == 2 and record["workers"]
    assert partials(out) == [] and partials(source) == []
    assert sorted(p.name for p in out.iterdir()) == [
        "big.ome.zarr", MANIFEST, "report.csv", "report.html", "report.json"]
    for n, scene in enumerate(pixels_of(out / "big.ome.zarr")):
        assert np.array_equal(scene[2], ramp + n + 2)


def test_a_cancelled_split_batch_cancels_every_part_and_a_rerun_resumes(tmp_path):
    import threading

    from napari_lightmic.batch import convert
    from napari_lightmic.batch.engine import CANCELLED

    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    ramp = big_scenes(source / "big.ome.tif", 4)
    cancel = threading.Event()
    reports = []
    batch = threading.Thread(target=lambda: reports.append(
        convert([source], out, workers=1, split_size="1MB", cancel=cancel)))
    batch.start()
    try:
        while batch.is_alive() and not scene_under_way(out, ".big.ome.zarr.partial-"):
            time.sleep(0.05)
    finally:
        cancel.set()
        batch.join(timeout=300)
    assert not batch.is_alive()
    [report] = reports
    (record,) = report.records
    assert record["state"] == "failed" and record["error"].endswith(CANCELLED)
    assert partials(out) == []  # the staging folder too, its scenes written or not
    assert not (out / "big.ome.zarr").exists()

    again = convert([source], out, workers=1, split_size="1MB")
    assert again.exit_status == 0
    assert partials(out) == []
    for n, scene in enumerate(pixels_of(out / "big.ome.zarr")):
        assert np.array_equal(scene[1], ramp + n + 1)


def test_a_scene_that_cannot_be_read_fails_its_job_with_its_reason(tmp_path):
    import tifffile

    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    bad = source / "bad.ome.tif"
    rng = np.random.default_rng(5)
    with tifffile.TiffWriter(bad, ome=True) as tif:
        for _ in range(3):
            tif.write(rng.integers(0, 4000, (2, 64, 64), dtype=np.uint16),
                      metadata={"axes": "ZYX"}, compression="zlib")
    with tifffile.TiffFile(bad) as tif:  # the last scene's compressed planes spoiled
        spans = [(at, n) for page in tif.series[2].pages
                 for at, n in zip(page.dataoffsets, page.databytecounts)]
    raw = bytearray(bad.read_bytes())
    for at, n in spans:
        raw[at:at + n] = b"\xff" * n
    bad.write_bytes(bytes(raw))

    done = lightmic("convert", source, "--output-dir", out, "--workers", "2",
                    "--split-size", "1")
    assert done.returncode == 1, done.stderr
    records = lines_of(out, out / "bad.ome.zarr")
    assert [r["state"] for r in records] == ["planned", "running", "failed", "running",
                                             "failed"]  # the whole job retried once
    last = records[-1]
    assert last["attempts"] == 2 and last["workers"]
    assert last["error"].startswith(f"{bad}: plane ") and "cannot be decoded" in last["error"]
    assert f"lightmic: failed: {last['error']}" in done.stderr
    assert not (out / "bad.ome.zarr").exists() and partials(out) == []


def test_one_scene_chosen_is_one_task_whatever_the_split_size(tmp_path):
    czi, out = real_file(f"czi/{MULTI}"), tmp_path / "out"
    plan = lightmic("convert", czi, "--output-dir", out, "--scene", "2", "--split-size", "1",
                    "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "-> " in plan.stdout and "scene tasks" not in plan.stdout

    done = lightmic("convert", czi, "--output-dir", out, "--scene", "2", "--split-size", "1")
    assert done.returncode == 0, done.stderr
    (record,) = read_manifest(out).values()
    assert record["options"] == {"scene": 2}  # an index, as a single conversion takes it
    assert "workers" not in record and record["scenes"] == 1
    (scene,) = pixels_of(Path(record["output"]))
    assert scene.shape[-2:] == (237, 352)


def test_the_writer_in_parts_writes_the_tree_it_writes_in_one_go_in_ngff_04(tmp_path):
    from napari_lightmic.errors import WriteError
    from napari_lightmic.session import Session
    from napari_lightmic.writing import WriteOptions
    from napari_lightmic.writing.common import staging_name
    from napari_lightmic.writing.ome_zarr import finish_ome_zarr, write_ome_zarr, write_scene_group

    multi_scene_tiff(tmp_path / "m.ome.tif", [(3, 300, 280), (2, 50, 60)], ["ZYX", "CYX"])
    options = WriteOptions(ngff_version="0.4", compression="lz4", pyramid_levels=2)
    one, parts = tmp_path / "one.ome.zarr", tmp_path / "parts.ome.zarr"
    with Session.open(tmp_path / "m.ome.tif") as session:
        source = session.effective_source()
        write_ome_zarr(source, source.scenes, one, options, record=session.record)
        staging = staging_name(parts)
        for index in (1, 0):  # in any order, each by itself
            write_scene_group(source.scenes[index], index, staging, options)
        finish_ome_zarr(source, source.scenes, staging, parts, options,
                        record=session.record)
    written, expected = tree(parts), tree(one)
    assert {"0/.zattrs", "1/1/.zarray", "OME/.zattrs", ".zgroup"} <= expected.keys()
    assert written == expected
    assert partials(tmp_path) == []

    staging = staging_name(tmp_path / "half.ome.zarr")
    with Session.open(tmp_path / "m.ome.tif") as session:
        source = session.effective_source()
        write_scene_group(source.scenes[0], 0, staging, options)
        with pytest.raises(WriteError, match="the staged scene groups 1 are missing"):
            finish_ome_zarr(source, source.scenes, staging, tmp_path / "half.ome.zarr",
                            options)
    assert not staging.exists() and not (tmp_path / "half.ome.zarr").exists()


def test_a_large_input_of_one_scene_is_written_by_the_part_that_counts_its_scenes(
        tmp_path, monkeypatch):
    """The file is opened once: no second task opens it again to write it."""
    from napari_lightmic.batch import convert
    from napari_lightmic.batch.engine import count_scenes
    from napari_lightmic.session import Session

    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    out.mkdir()
    (one,) = multi_scene_tiff(source / "one.ome.tif", [(2, 3, 60, 50)], ["CZYX"])
    (multi, _) = multi_scene_tiff(source / "two.ome.tif", [(40, 30), (20, 10)], ["YX", "YX"])
    opened = []
    real_open = Session.open
    monkeypatch.setattr(Session, "open", classmethod(
        lambda cls, path: opened.append(path) or real_open.__func__(cls, path)))
    job = {"input": str(source / "one.ome.tif"), "output": str(out / "one.ome.zarr"),
           "options": {}, "worker": None}
    record = count_scenes(job, str(out))
    assert record["state"] == "done" and record["scenes"] == 1, record.get("error")
    assert opened == [job["input"]]
    assert np.array_equal(pixels_of(out / "one.ome.zarr")[0], one)
    two = dict(job, input=str(source / "two.ome.tif"), output=str(out / "two.ome.zarr"))
    record = count_scenes(two, str(out))
    assert record["scenes"] == 2 and record.get("state") is None  # counted only
    assert not (out / "two.ome.zarr").exists()

    # on a cluster: each job ends done, in one attempt
    report = convert([source], tmp_path / "batch", workers=1, split_size="1")
    assert report.exit_status == 0
    assert sorted((r["scenes"], r["attempts"]) for r in report.records) == [(1, 1), (2, 1)]
    assert np.array_equal(pixels_of(tmp_path / "batch" / "two.ome.zarr")[0], multi)
