"""The Convert folder dock: a folder of microscopy files converted on the batch engine.

The batch (`napari_lightmic.batch.engine.convert`, on a dask `LocalCluster`) runs in a
napari thread worker; the engine's progress callbacks reach the dock as Qt signals, queued
to the main thread, where the job table fills in. Cancel stops the batch cleanly (no partial
output left; a later Start resumes). Dry run lists the plan and writes nothing.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Qt, QUrl, Signal
from qtpy.QtGui import QDesktopServices
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..batch._html import human_bytes
from ..writing.options import COMPRESSIONS, DEFAULT_COMPRESSION, NGFF_VERSIONS

if TYPE_CHECKING:
    from napari.viewer import Viewer

    from ..batch.engine import Report
    from ..batch.manifest import Record

MB = 1e6
COLUMNS = ("input", "state", "size in", "size out", "seconds", "reason")
TARGETS = {"OME-Zarr": "ome-zarr", "OME-TIFF": "ome-tiff"}
DEFAULT = "default"
LINK_COLOUR = "#6cb6ff"  # readable on napari's dark and light themes


def _size(size: object) -> str:
    return human_bytes(size) if isinstance(size, (int, float)) else ""


def _reason(record: Record) -> str:
    """The job's error, without the input's path it starts with (the row names the input)."""
    error = str(record.get("error") or "")
    lead = f"{record['input']}: "
    return error[len(lead):] if error.startswith(lead) else error


class _Signals(QObject):
    """The engine's progress callbacks as signals.

    Emitted on the batch's thread, received (queued) on the main thread.
    """

    started = Signal(object, object)
    finished = Signal(object)


class _Progress:
    """The engine's `Progress`: each call re-emitted as a signal; no Qt widget touched."""

    def __init__(self, signals: _Signals) -> None:
        self.signals = signals

    def started(self, jobs: list[Record], dashboard: str | None) -> None:
        """Pass the jobs on."""
        try:
            self.signals.started.emit([dict(r) for r in jobs], dashboard)
        except RuntimeError:  # the dock was closed meanwhile: the batch goes on
            return

    def finished(self, record: Record) -> None:
        """Pass a job's end on."""
        try:
            self.signals.finished.emit(dict(record))
        except RuntimeError:  # the dock was closed meanwhile: the batch goes on
            return


class ConvertFolder(QWidget):
    """Convert every dataset of a folder to OME-Zarr or OME-TIFF, resumably, on dask."""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self._cancel: threading.Event | None = None
        self._running = False
        self._rows: dict[str, int] = {}  # job output -> table row
        self._root = ""
        self._start_time = time.monotonic()
        self._counts = {"done": 0, "failed": 0, "skipped": 0}
        self._bytes_done = 0
        self._total = 0
        self.report: Report | None = None
        self.signals = _Signals(self)
        self.signals.started.connect(self._started)
        self.signals.finished.connect(self._finished)

        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("folder of microscopy files")
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("folder for the copies, the manifest and report")
        self.format_box = QComboBox()
        self.format_box.addItems(list(TARGETS))
        self.format_box.currentTextChanged.connect(self._format_changed)
        self.compression_box = QComboBox()
        self.ngff_box = QComboBox()
        self.ngff_box.addItems(list(NGFF_VERSIONS))
        self.ngff_box.setCurrentText("0.5")
        self.levels_box = QSpinBox()
        self.levels_box.setRange(0, 20)
        self.levels_box.setSpecialValueText("auto")
        self.levels_box.setToolTip("pyramid levels, the full resolution included; auto: down "
                                   "to about 256 px")
        self.overwrite_box = QCheckBox("Replace outputs the manifest does not know")
        self.workers_box = QSpinBox()
        self.workers_box.setRange(1, max(64, os.cpu_count() or 1))
        self.workers_box.setValue(os.cpu_count() or 1)
        self.workers_box.setToolTip("dask worker processes of the local cluster")
        self._format_changed(self.format_box.currentText())

        form = QFormLayout()
        form.addRow("Input folder", self._with_chooser(self.input_edit, "Choose the input folder"))
        form.addRow("Output folder",
                    self._with_chooser(self.output_edit, "Choose the output folder"))
        form.addRow("Format", self.format_box)
        form.addRow("Compression", self.compression_box)
        form.addRow("NGFF version", self.ngff_box)
        form.addRow("Pyramid levels", self.levels_box)
        form.addRow("", self.overwrite_box)
        form.addRow("Workers", self.workers_box)

        self.dry_run_button = QPushButton("Dry run")
        self.dry_run_button.setToolTip("List the jobs, with sizes and estimates; write nothing")
        self.dry_run_button.clicked.connect(lambda: self.run(dry_run=True))
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Convert; a folder converted before resumes where it was")
        self.start_button.clicked.connect(lambda: self.run(dry_run=False))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop: jobs not ended are cancelled, no partial output "
                                      "is left; Start resumes")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (self.dry_run_button, self.start_button, self.cancel_button):
            buttons.addWidget(button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v of %m jobs")
        self.progress_bar.setValue(0)
        self.status = QLabel("Choose an input and an output folder.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
        self.report_link = QLabel("")
        self.report_link.setTextFormat(Qt.TextFormat.RichText)
        self.report_link.setOpenExternalLinks(False)
        self.report_link.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.report_link)

    def _with_chooser(self, edit: QLineEdit, title: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        choose = QPushButton("Choose…")

        def chosen() -> None:
            folder = QFileDialog.getExistingDirectory(self, title, edit.text())
            if folder:
                edit.setText(folder)

        choose.clicked.connect(chosen)
        row.addWidget(choose)
        return box

    def _format_changed(self, name: str) -> None:
        self.compression_box.clear()
        kind = "OME-Zarr" if name == "OME-Zarr" else "OME-TIFF"
        self.compression_box.addItem(f"{DEFAULT} ({DEFAULT_COMPRESSION[kind]})", None)
        for codec in COMPRESSIONS[kind]:
            self.compression_box.addItem(codec, codec)
        self.ngff_box.setEnabled(kind == "OME-Zarr")

    def options(self) -> dict[str, Any]:
        """The engine's options the fields give."""
        kind = self.format_box.currentText()
        options: dict[str, Any] = {
            "to": TARGETS[kind], "overwrite": self.overwrite_box.isChecked(),
            "workers": self.workers_box.value(),
            "compression": self.compression_box.currentData(),
            "pyramid_levels": self.levels_box.value() or None}
        if kind == "OME-Zarr":
            options["ngff_version"] = self.ngff_box.currentText()
        return options

    def is_running(self) -> bool:
        """Whether a batch or a dry run is under way."""
        return self._running

    def run(self, dry_run: bool = False) -> None:
        """Start the batch (or its dry run) off the main thread."""
        from napari.qt.threading import thread_worker

        from ..batch.engine import convert

        source, target = self.input_edit.text().strip(), self.output_edit.text().strip()
        if self._running:
            return
        if not source or not target:
            self.status.setText("Choose an input and an output folder.")
            return
        options = self.options()
        cancel = self._cancel = threading.Event()
        progress = None if dry_run else _Progress(self.signals)
        self._reset(source)
        self.status.setText("Planning…" if dry_run else "Starting the cluster…")

        @thread_worker
        def work() -> Report:
            return convert([source], target, progress=progress, dry_run=dry_run,
                           cancel=cancel, **options)

        def returned(report: Report) -> None:
            self.report = report
            if dry_run:
                self._show_plan(report)
            else:
                self._show_end(report, cancel.is_set())

        def errored(exc: BaseException) -> None:
            # once the jobs are in the table the batch had started: say it stopped
            self.status.setText(f"{'Stopped' if self._rows else 'Not started'}: {exc}")

        def finished() -> None:
            try:
                self._set_running(False)
            except RuntimeError:  # the dock was closed and deleted meanwhile
                return

        self._set_running(True, cancellable=not dry_run)
        # connected as the worker is made: an "errored" handler given later would leave
        # superqt's default one
        work(_connect={"returned": returned, "errored": errored, "finished": finished})

    def cancel(self) -> None:
        """Stop the batch: jobs not ended are cancelled and their partial outputs removed."""
        if self._cancel is not None and self._running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: stopping the workers, removing partial outputs…")

    def _set_running(self, running: bool, cancellable: bool = True) -> None:
        self._running = running
        self.dry_run_button.setEnabled(not running)
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and cancellable)

    def _reset(self, source: str) -> None:
        self.report = None
        self._root = source
        self._rows.clear()
        self.table.setRowCount(0)
        self.report_link.setText("")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._counts = {"done": 0, "failed": 0, "skipped": 0}
        self._bytes_done = 0
        self._total = 0
        self._start_time = time.monotonic()

    def _name(self, path: str) -> str:
        try:
            return str(Path(path).relative_to(Path(self._root).absolute()))
        except ValueError:
            return path

    def _set_row(self, row: int, record: Record, size_out: str = "") -> None:
        state = record["state"]
        seconds = record.get("seconds")
        cells = (self._name(record["input"]), state, _size(record.get("size")),
                 size_out or _size(record.get("output_size")),
                 f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "",
                 _reason(record))
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(f"{record['input']}\n→ {record['output']}" if column == 0
                            else str(record.get("error") or "") if column == 5 else text)
            self.table.setItem(row, column, item)

    def _started(self, jobs: list[Record], dashboard: str | None) -> None:
        self.table.setRowCount(len(jobs))
        for row, record in enumerate(jobs):
            self._rows[record["output"]] = row
            self._set_row(row, dict(record, state="waiting") if record["state"] == "planned"
                          else record)
        self._total = len(jobs)
        self.progress_bar.setRange(0, max(1, self._total))
        self.progress_bar.setValue(0)
        self._start_time = time.monotonic()
        self._show_status("Running" + (f"; dask dashboard: {dashboard}" if dashboard else ""))

    def _finished(self, record: Record) -> None:
        row = self._rows.get(record["output"])
        if row is None:
            return
        self._set_row(row, record)
        state = record["state"]
        if state in self._counts:
            self._counts[state] += 1
        if state == "done":
            self._bytes_done += int(record["size"])
        self.progress_bar.setValue(sum(self._counts.values()))
        self._show_status("Running")

    def _show_status(self, lead: str) -> None:
        seconds = max(time.monotonic() - self._start_time, 1e-6)
        counts = self._counts
        self.status.setText(
            f"{lead}: {counts['done']} done, {counts['failed']} failed, {counts['skipped']} "
            f"skipped of {self._total}; {self._bytes_done / MB / seconds:.1f} MB/s")

    def _show_plan(self, report: Report) -> None:
        records = report.records
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            estimate = report.estimates.get(record["output"])
            self._set_row(row, record, f"≈ {_size(estimate)}" if estimate else "")
        planned = sum(r["state"] == "planned" for r in records)
        total = sum(report.estimates.values())
        ignored = f"; {len(report.ignored)} files left out" if report.ignored else ""
        self.status.setText(
            f"Dry run: {planned} of {len(records)} jobs to convert, about {human_bytes(total)} "
            f"to write{ignored}; nothing written")

    def _show_end(self, report: Report, cancelled: bool) -> None:
        for record in report.records:  # every job as the batch ended it
            row = self._rows.get(record["output"])
            if row is not None:
                self._set_row(row, record)
        self._counts = {state: sum(r["state"] == state for r in report.records)
                        for state in ("done", "failed", "skipped")}
        self.progress_bar.setValue(sum(self._counts.values()))
        self._show_status("Cancelled" if cancelled else "Finished")
        page = report.output_dir / "report.html"
        if page.is_file():
            self.report_link.setText(f'<a href="{page.as_uri()}"><span style="color: '
                                     f'{LINK_COLOUR};">Open the report ({page.name})</span></a>')
            self.report_link.setToolTip(str(page))
