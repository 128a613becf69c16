"""The Convert folder dock as a user meets it: opened from the Plugins menu, folders typed in,
Dry run / Start / Cancel clicked, the job table read; the real batch engine on a dask
LocalCluster of one worker process, in a real viewer."""

from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QDesktopServices

from napari_lightmic.batch.manifest import read_manifest
from napari_lightmic.widgets.batch import COLUMNS, ConvertFolder
from tests._napari.test_menus import click as click_menu
from tests._napari.test_menus import no_exceptions
from tests._napari.test_reader import _keep
from tests.batch.conftest import pixels_of
from tests.batch.test_convert_batch import big_files, partials

COMMAND = "napari-lightmic.convert_folder"
TIMEOUT = 300_000  # ms: a cluster starting and converting on a loaded 2-core machine


def opened_dock(viewer) -> ConvertFolder:
    """Plugins > Convert folder, as a user opens it; the dock's widget."""
    click_menu(viewer.window.plugins_menu, COMMAND)
    [widget] = [w for name, w in viewer.window.dock_widgets.items() if "Convert folder" in name]
    assert isinstance(widget, ConvertFolder)
    return widget


def small_folder(folder: Path) -> None:
    """Three small OME-TIFFs (synthetic cells, 3 channels × 4 z × 96²) and a text file named
    like a CZI."""
    from napari_lightmic.synthetic import cells, write_ome_tiff

    (folder / "sub").mkdir(parents=True)
    for seed, name in enumerate(("a.ome.tif", "b.ome.tif", "sub/c.ome.tif")):
        write_ome_tiff(folder / name, cells((4, 96, 96), n_cells=6, seed=seed))
    (folder / "bad.czi").write_text("a note, not a CZI file\n")


def set_folders(dock, source, target, workers=1):
    dock.input_edit.setText(str(source))
    dock.output_edit.setText(str(target))
    dock.workers_box.setValue(workers)


def press(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def table(dock) -> dict[str, dict[str, str]]:
    """The job table: input -> {column: text}."""
    rows = {}
    for row in range(dock.table.rowCount()):
        cells = {c: (dock.table.item(row, i).text() if dock.table.item(row, i) else "")
                 for i, c in enumerate(COLUMNS)}
        rows[cells["input"]] = cells
    return rows


def test_a_folder_converts_and_the_table_shows_each_job(make_napari_viewer, qtbot, tmp_path,
                                                       monkeypatch, notifications):
    small_folder(tmp_path / "in")
    out = tmp_path / "out"
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 900)
    dock = opened_dock(viewer)
    set_folders(dock, tmp_path / "in", out)
    assert dock.format_box.currentText() == "OME-Zarr"
    press(qtbot, dock.start_button)
    assert dock.is_running() and not dock.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dock.is_running(), timeout=TIMEOUT)

    rows = table(dock)
    assert sorted(rows) == ["a.ome.tif", "b.ome.tif", "bad.czi", "sub/c.ome.tif"]
    assert [r["state"] for r in rows.values()].count("done") == 3
    assert rows["bad.czi"]["state"] == "failed"
    assert "not a CZI file" in rows["bad.czi"]["reason"]
    assert rows["a.ome.tif"]["size in"].endswith(" kB") and rows["a.ome.tif"]["size out"]
    assert rows["bad.czi"]["reason"] == "named as CZI but its content is not a CZI file"
    assert (out / "sub" / "c.ome.zarr" / "zarr.json").is_file()
    assert dock.progress_bar.value() == dock.progress_bar.maximum() == 4
    status = dock.status.text()
    assert "3 done, 1 failed, 0 skipped of 4" in status and "MB/s" in status
    # the report: a link in the dock that opens it
    page = out / "report.html"
    assert page.is_file() and f'href="{page.as_uri()}"' in dock.report_link.text()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dock.report_link.linkActivated.emit(page.as_uri())
    assert [u.toLocalFile() for u in opened] == [str(page)]

    viewer.open(out / "a.ome.zarr", plugin="napari-lightmic")  # a copy, seen in the viewer
    qtbot.wait(100)  # the dock drawn before the screenshot
    shot = viewer.screenshot(canvas_only=False, flash=False)
    _keep(shot, "napari-convert-folder.png")

    # Start again: every good job is skipped, the bad one tried again
    press(qtbot, dock.start_button)
    qtbot.waitUntil(lambda: not dock.is_running(), timeout=TIMEOUT)
    assert [r["state"] for r in table(dock).values()].count("skipped") == 3
    assert "0 done, 1 failed, 3 skipped of 4" in dock.status.text()
    no_exceptions(notifications)


def test_dry_run_fills_the_table_and_writes_nothing(make_napari_viewer, qtbot, tmp_path):
    small_folder(tmp_path / "in")
    out = tmp_path / "out"
    dock = opened_dock(make_napari_viewer())
    set_folders(dock, tmp_path / "in", out)
    dock.format_box.setCurrentText("OME-TIFF")
    assert not dock.ngff_box.isEnabled()
    box = dock.compression_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "default (zlib)", "zlib", "zstd", "lzw", "none"]
    assert dock.options()["compression"] is None  # the writer's default
    box.setCurrentText("none")
    assert dock.options()["compression"] == "none"
    box.setCurrentIndex(0)
    press(qtbot, dock.dry_run_button)
    assert not dock.cancel_button.isEnabled()  # a dry run only reads
    qtbot.waitUntil(lambda: not dock.is_running(), timeout=TIMEOUT)
    rows = table(dock)
    assert sorted(rows) == ["a.ome.tif", "b.ome.tif", "bad.czi", "sub/c.ome.tif"]
    assert rows["a.ome.tif"]["state"] == "planned"
    assert rows["a.ome.tif"]["size out"].startswith("≈ ")
    assert "not a CZI file" in rows["bad.czi"]["reason"]
    item = dock.table.item(0, 0)
    assert "→ " + str(out) in item.toolTip() and item.toolTip().endswith(".ome.tif")
    assert "Dry run" in dock.status.text() and "nothing written" in dock.status.text()
    assert not out.exists()


def test_cancel_leaves_no_partial_output_and_start_resumes(make_napari_viewer, qtbot,
                                                           tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    ramp = big_files(source)
    dock = opened_dock(make_napari_viewer())
    set_folders(dock, source, out)
    press(qtbot, dock.start_button)
    qtbot.waitUntil(lambda: bool(partials(out)), timeout=TIMEOUT)  # a write under way
    press(qtbot, dock.cancel_button)
    qtbot.waitUntil(lambda: not dock.is_running(), timeout=TIMEOUT)
    assert partials(out) == [] and partials(source) == []
    rows = table(dock)
    cancelled = [name for name, r in rows.items() if "cancelled" in r["reason"]]
    assert cancelled and all(rows[name]["state"] == "failed" for name in cancelled)
    assert dock.status.text().startswith("Cancelled")
    assert dock.start_button.isEnabled() and not dock.cancel_button.isEnabled()

    press(qtbot, dock.start_button)
    qtbot.waitUntil(lambda: not dock.is_running(), timeout=TIMEOUT)
    assert {r["state"] for r in read_manifest(out).values()} <= {"done", "skipped"}
    assert sorted(r["state"] for r in table(dock).values() if r["state"] == "done") == \
        ["done"] * len(cancelled)
    assert partials(out) == []
    for n in range(4):
        (written,) = pixels_of(out / f"big{n}.ome.zarr")
        assert np.array_equal(written[3], ramp + n + 3)
