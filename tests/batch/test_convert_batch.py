import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from napari_lightmic.batch.manifest import MANIFEST, locked, read_manifest
from tests.batch.conftest import lightmic, make_collection, pixels_of
from tests.conftest import real_file


def states(out: Path) -> dict[str, str]:
    return {Path(k).name: r["state"] for k, r in read_manifest(out).items()}


def report_jobs(out: Path) -> dict[str, dict]:
    report = json.loads((out / "report.json").read_text())
    return {Path(r["input"]).name: r for r in report["jobs"]}


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial-" in p.name or ".old-" in p.name]


def test_a_folder_converts_every_good_file_records_the_bad_and_resumes(tmp_path):
    pixels = make_collection(tmp_path / "in")
    out = tmp_path / "out"

    first = lightmic("convert", tmp_path / "in", "--output-dir", out, "--workers", "2")
    assert first.returncode == 1, first.stderr
    assert states(out) == {"a.ome.tif": "done", "b.ome.tif": "done", "c.png": "done",
                           "d.czi": "done", "truncated.ome.tif": "failed", "text.czi": "failed"}
    jobs = report_jobs(out)
    assert "truncated" in jobs["truncated.ome.tif"]["error"]
    assert "not a CZI file" in jobs["text.czi"]["error"]
    assert jobs["a.ome.tif"]["worker"]["address"].startswith("tcp://")
    # outputs mirror the input tree and hold the pixels
    assert np.array_equal(pixels_of(out / "a.ome.zarr")[0], pixels["a.ome.tif"])
    assert np.array_equal(pixels_of(out / "sub" / "b.ome.zarr")[0], pixels["sub/b.ome.tif"])
    assert np.array_equal(pixels_of(out / "c.ome.zarr")[0], pixels["c.png"])
    assert np.array_equal(pixels_of(out / "sub" / "d.ome.zarr")[0],
                          pixels_of(tmp_path / "in" / "sub" / "d.czi")[0])
    assert "failed:" in first.stderr and "text.czi" in first.stderr.split("failed:")[-1]
    assert "notes.txt" not in json.dumps(jobs)
    with open(out / "report.csv", newline="") as stream:
        rows = {Path(row["input"]).name: row for row in csv.DictReader(stream)}
    assert rows.keys() == jobs.keys() and rows["text.czi"]["state"] == "failed"
    page = (out / "report.html").read_text()
    assert "text.czi" in page and "not a CZI file" in page
    assert sum(line.startswith("lightmic: done ") for line in first.stderr.splitlines()) == 4
    assert re.search(r"^lightmic: 6 jobs, [\d.]+ MB; dashboard: http://\S+/status$",
                     first.stderr, re.M)
    written = {p: p.stat().st_mtime_ns for p in out.rglob("zarr.json")}

    again = lightmic("convert", tmp_path / "in", "--output-dir", out, "--workers", "2")
    assert again.returncode == 1
    jobs = report_jobs(out)
    assert {k: r["state"] for k, r in jobs.items()} == {
        "a.ome.tif": "skipped", "b.ome.tif": "skipped", "c.png": "skipped", "d.czi": "skipped",
        "truncated.ome.tif": "failed", "text.czi": "failed"}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("zarr.json")} == written

    (tmp_path / "in" / "text.czi").unlink()
    shutil.copy(real_file("czi/DAPI_GFP.czi"), tmp_path / "in" / "text.czi")
    fixed = lightmic("convert", tmp_path / "in", "--output-dir", out, "--workers", "2")
    assert fixed.returncode == 1
    assert [k for k, r in report_jobs(out).items() if r["state"] == "done"] == ["text.czi"]
    assert len(pixels_of(out / "text.ome.zarr")) == 1


def test_a_killed_batch_resumes_to_complete_outputs_and_untouched_sources(tmp_path):
    import tifffile

    source = tmp_path / "in"
    source.mkdir()
    ramp = np.arange(2048 * 2048, dtype=np.uint16).reshape(2048, 2048) % 4096
    for n in range(4):  # 64 MB each
        tifffile.imwrite(source / f"big{n}.ome.tif", np.stack([ramp + n + z for z in range(8)]),
                         ome=True, metadata={"axes": "ZYX"})
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.iterdir()}
    out = tmp_path / "out"
    batch = subprocess.Popen([sys.executable, "-m", "napari_lightmic", "convert", str(source),
                              "--output-dir", str(out), "--workers", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        while not partials(out) and batch.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    assert batch.returncode == -signal.SIGKILL  # killed midway, a write under way
    assert "running" in states(out).values()

    rerun = lightmic("convert", source, "--output-dir", out, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert set(states(out).values()) <= {"done"}
    assert partials(out) == [] and partials(source) == []
    for n in range(4):
        (written,) = pixels_of(out / f"big{n}.ome.zarr")
        assert np.array_equal(written[3], ramp + n + 3)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in source.iterdir()} == before


def test_a_job_list_with_options_per_row(tmp_path, client):
    from napari_lightmic.batch import convert

    make_collection(tmp_path / "in")
    jobs = tmp_path / "in" / "jobs.csv"
    with open(jobs, "w", newline="") as stream:
        table = csv.writer(stream)
        table.writerow(["input", "output", "scene", "ngff_version", "pyramid_levels",
                        "compression"])
        table.writerow(["a.ome.tif", "v04/a.ome.zarr", "", "0.4", "1", ""])
        table.writerow(["sub/b.ome.tif", "b.ome.tif", "", "", "", "lzw"])
        table.writerow([str(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")), "p1.ome.zarr",
                        "P1", "", "", ""])
        table.writerow([str(real_file("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi")), "tr2.ome.zarr",
                        "2", "", "", ""])
    out = tmp_path / "out"
    report = convert([], out, client, jobs=jobs)
    assert report.exit_status == 0, report.failed
    assert (out / "v04" / "a.ome.zarr" / ".zattrs").is_file()
    multiscales = json.loads((out / "v04/a.ome.zarr/.zattrs").read_text())["multiscales"]
    assert len(multiscales[0]["datasets"]) == 1
    import tifffile

    with tifffile.TiffFile(out / "b.ome.tif") as tif:
        assert tif.pages.first.compression == tifffile.COMPRESSION.LZW
    scenes = pixels_of(out / "p1.ome.zarr")
    assert len(scenes) == 1 and scenes[0].shape[-2:] == (64, 64)
    scenes = pixels_of(out / "tr2.ome.zarr")
    assert len(scenes) == 1 and scenes[0].shape[-2:] == (237, 352)
    assert [r["options"].get("scene") for r in report.records] == [None, None, "P1", 2]
    again = convert([], out, client, jobs=jobs)  # one input, two outputs: each job resumed
    assert [r["state"] for r in again.records] == ["skipped"] * 4


def test_an_output_the_manifest_does_not_know_is_refused_per_job(tmp_path, client):
    from napari_lightmic.batch import convert

    make_collection(tmp_path / "in")
    for name in ("truncated.ome.tif", "text.czi"):
        (tmp_path / "in" / name).unlink()
    out = tmp_path / "out"
    out.mkdir()
    (out / "c.ome.zarr").mkdir()
    report = convert([tmp_path / "in"], out, client)
    assert report.exit_status == 1
    (refused,) = report.failed
    assert refused["output"] == str(out / "c.ome.zarr") and "--overwrite" in refused["error"]
    assert len(report.done) == 3
    assert convert([tmp_path / "in"], out, client, overwrite=True).exit_status == 0


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    make_collection(tmp_path / "in")
    out = tmp_path / "out"
    done = lightmic("convert", tmp_path / "in", "--output-dir", out, "--to", "ome-tiff",
                    "--dry-run")
    assert done.returncode == 0, done.stderr
    assert not out.exists()
    lines = done.stdout.splitlines()
    (czi,) = [line for line in lines if "d.czi" in line]
    assert f"-> {out / 'sub' / 'd.ome.tif'}: 1 scene, about" in czi and "MB at most" in czi
    assert any("text.czi" in line and "will fail" in line for line in lines)
    assert any("notes.txt: not converted" in line for line in lines)
    assert "6 to convert" in lines[-1] and "nothing written" in lines[-1]


def test_a_second_batch_into_a_locked_folder_is_refused(tmp_path):
    make_collection(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    with locked(out):
        refused = lightmic("convert", tmp_path / "in", "--output-dir", out)
    assert refused.returncode == 1
    assert f"another batch (pid {os.getpid()})" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST]  # the lock: no file of its own
    assert (out / MANIFEST).read_text() == ""


def test_a_worker_that_does_not_see_the_input_or_output_fails_the_job(tmp_path, client):
    from napari_lightmic.batch.engine import run_job

    job = {"input": str(tmp_path / "elsewhere" / "a.czi"),
           "output": str(tmp_path / "a.ome.zarr"), "options": {}, "worker": None}
    record = client.submit(run_job, job, str(tmp_path), pure=False).result()
    assert record["state"] == "failed"
    assert record["worker"]["address"] in client.scheduler_info()["workers"]
    assert f"worker {record['worker']['name']} ({record['worker']['address']}) does not see " \
        "the input" in record["error"]
    (tmp_path / "a.czi").write_bytes(b"")
    job["input"] = str(tmp_path / "a.czi")
    record = client.submit(run_job, job, str(tmp_path / "gone"), pure=False).result()
    assert "does not see the output folder" in record["error"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_batch_on_an_external_cluster_names_its_worker(tmp_path):
    from distributed import Client

    make_collection(tmp_path / "in")
    dask = Path(sys.executable).with_name("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    started = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port",
                                 address.rsplit(":", 1)[1], "--no-dashboard"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        started.append(subprocess.Popen(
            [str(dask), "worker", address, "--nworkers", "1", "--nthreads", "1",
             "--name", "far-worker", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        with Client(address, timeout="120s") as client:
            client.wait_for_workers(1, timeout=120)
            (worker,) = client.scheduler_info()["workers"]
        done = lightmic("convert", tmp_path / "in" / "sub", "--output-dir", tmp_path / "out",
                        "--scheduler", address)
        assert done.returncode == 0, done.stderr
        jobs = report_jobs(tmp_path / "out")
        assert {r["worker"]["address"] for r in jobs.values()} == {worker}
        assert {r["worker"]["name"] for r in jobs.values()} == {"far-worker"}
        manifest = (tmp_path / "out" / MANIFEST).read_text()
        assert f'"address": "{worker}"' in manifest
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


@pytest.mark.parametrize("torn", [b'{"input": "/x", "sta', b""])
def test_the_manifest_reads_the_last_record_of_each_input_past_a_torn_line(tmp_path, torn):
    from napari_lightmic.batch.manifest import Manifest

    (tmp_path / MANIFEST).write_bytes(b'{"input": "/a", "state": "running"}\n'
                                      b'{"input": "/a", "state": "done"}\n' + torn)
    manifest = Manifest(tmp_path)
    manifest.append({"input": "/b", "state": "failed"})
    manifest.close()
    assert {k: r["state"] for k, r in read_manifest(tmp_path).items()} == {
        "/a": "done", "/b": "failed"}


def test_batch_options_without_an_output_folder_are_usage_errors(tmp_path, capsys):
    from napari_lightmic.cli import main

    czi = str(real_file("czi/DAPI_GFP.czi"))
    assert main(["convert", czi]) == 2
    assert "give an input and an output" in capsys.readouterr().err
    assert main(["convert", czi, str(tmp_path / "a.ome.zarr"), "--dry-run"]) == 2
    assert "--dry-run: needs --output-dir" in capsys.readouterr().err
    assert main(["convert", czi, str(tmp_path / "a.ome.zarr"), "--split-size", "1"]) == 2
    assert "--split-size: needs --output-dir" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing"), "--output-dir", str(tmp_path)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["convert", "--output-dir", str(tmp_path / "out")]) == 2
    assert "give inputs (files, folders, globs) or --jobs" in capsys.readouterr().err
    for refused, said in (
            (["--memory-limit", "lots"], "lots: a memory limit is a size such as 4GB"),
            (["--workers", "0"], "workers: must be at least 1, not 0"),
            (["--retries", "-1"], "retries: must be at least 0, not -1"),
            (["--scheduler-file", str(tmp_path / "scheduler.json")],
             f"{tmp_path / 'scheduler.json'}: no such scheduler file"),
            (["--split-size", "lots"], "lots: a split size is a size such as 1GiB, or none")):
        assert main(["convert", czi, "--output-dir", str(tmp_path / "out"), *refused]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("lightmic: ") == 1, (refused, err)
    assert not (tmp_path / "out").exists()


def test_on_a_terminal_progress_is_one_line_redrawn(tmp_path):
    import pty

    make_collection(tmp_path / "in")
    main, terminal = pty.openpty()
    batch = subprocess.Popen([sys.executable, "-m", "napari_lightmic", "convert",
                              str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"),
                              "--workers", "1"], stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert batch.wait(timeout=300) == 1
    text = shown.decode()
    bars = re.findall(r"\rjobs \[[# ]{20}\] (\d)/6, (\d) failed  bytes \[[# ]{20}\] "
                      r"\d+/\d+ MB, [\d.]+ MB/s", text)
    assert bars[-1] == ("6", "2") and len(bars) == 6
    assert "lightmic: done" not in text  # on a terminal, jobs done show in the bar only
    assert text.count("lightmic: failed: ") == 2  # each as it fails, above the bar
    listed = text.split("lightmic: failed:\r\n")[1]  # at the end
    assert listed.count("the file is truncated") == 1


def big_files(folder: Path, count: int = 4) -> np.ndarray:
    """`count` OME-TIFFs of 64 MB (8 × 2048² uint16), file n holding ramp + n + z; the ramp."""
    import tifffile

    folder.mkdir(parents=True)
    ramp = np.arange(2048 * 2048, dtype=np.uint16).reshape(2048, 2048) % 4096
    for n in range(count):
        tifffile.imwrite(folder / f"big{n}.ome.tif", np.stack([ramp + n + z for z in range(8)]),
                         ome=True, metadata={"axes": "ZYX"})
    return ramp


def test_a_cancelled_batch_leaves_no_partial_output_and_a_rerun_resumes(tmp_path):
    import threading

    from napari_lightmic.batch import convert
    from napari_lightmic.batch.engine import CANCELLED

    source, out = tmp_path / "in", tmp_path / "out"
    ramp = big_files(source)
    cancel = threading.Event()
    reports = []
    batch = threading.Thread(target=lambda: reports.append(
        convert([source], out, workers=1, cancel=cancel)))
    batch.start()
    try:
        while not partials(out) and batch.is_alive():
            time.sleep(0.05)
        assert partials(out), "the batch ended before a write was under way"
    finally:
        cancel.set()
        batch.join(timeout=300)
    assert not batch.is_alive()
    [report] = reports
    assert partials(out) == [] and partials(source) == []
    cancelled = [r for r in report.failed if r["error"].endswith(CANCELLED)]
    assert cancelled and len(report.failed) == len(cancelled)
    assert len(report.done) + len(cancelled) == 4
    assert set(states(out).values()) <= {"done", "failed"}
    assert (out / "report.html").is_file()
    for record in cancelled:  # nothing, or a whole output the task ended as the batch closed
        if Path(record["output"]).exists():
            n = int(Path(record["output"]).name.removeprefix("big").split(".")[0])
            (written,) = pixels_of(record["output"])
            assert np.array_equal(written[3], ramp + n + 3)

    again = convert([source], out, workers=1)
    assert again.exit_status == 0
    assert set(states(out).values()) <= {"done", "skipped"}
    assert len(again.done) == len(cancelled)
    assert partials(out) == []
    for n in range(4):
        (written,) = pixels_of(out / f"big{n}.ome.zarr")
        assert np.array_equal(written[3], ramp + n + 3)


def test_a_cluster_starts_quietly_when_another_takes_the_dashboard_port():
    # was: two batches started at once both found 8787 free; the later one's cluster got
    # distributed's "Port 8787 is already in use" warning (an error under this suite's
    # warning filter: "Cluster failed to start")
    from napari_lightmic.batch import engine

    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # else something else holds 8787 already
            taken.bind(("", 8787))
            taken.listen()
        with engine.cluster_client(workers=1) as client:
            assert client.dashboard_link and ":8787/" not in client.dashboard_link


def test_the_batch_cluster_workers_keep_glibc_buffers(tmp_path):
    # dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers: every chunk buffer is then
    # mapped and unmapped, and a conversion on a worker runs 1.5-2x slower than alone
    script = ("import os\n"
              "from napari_lightmic.batch.engine import cluster_client\n"
              "if __name__ == '__main__':\n"
              "    with cluster_client(workers=1) as client:\n"
              "        print(list(client.run(lambda: os.environ.get("
              "'MALLOC_TRIM_THRESHOLD_')).values()))\n")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[None]"


def test_a_job_failing_every_attempt_is_tried_one_and_retries_times_and_again_on_a_rerun(
        tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    (source / "text.czi").write_text("a note, not a CZI file\n")
    job = str(source / "text.czi")

    def lines(state: str) -> list[dict]:
        records = map(json.loads, (out / MANIFEST).read_text().splitlines())
        return [r for r in records if r["input"] == job and r["state"] == state]

    first = lightmic("convert", source, "--output-dir", out, "--workers", "1")
    assert first.returncode == 1, first.stderr
    assert [r["attempts"] for r in lines("running")] == [1, 2]  # default: one retry
    assert read_manifest(out)[job]["attempts"] == 2
    assert "not a CZI file" in read_manifest(out)[job]["error"]
    assert first.stderr.count("lightmic: failed: ") == 1  # the job's end, once

    again = lightmic("convert", source, "--output-dir", out, "--workers", "1",
                     "--retries", "2")
    assert again.returncode == 1, again.stderr
    assert [r["attempts"] for r in lines("running")] == [1, 2, 3, 4, 5]  # counted on
    assert read_manifest(out)[job]["attempts"] == 5
    assert [r["attempts"] for r in lines("failed")] == [1, 2, 3, 4, 5]
    assert report_jobs(out)["text.czi"]["attempts"] == 5
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST, "report.csv", "report.html", "report.json"]  # no lock file left
