"""The Metadata panel: the selected file's metadata, editable.

Completed to REMBI with EDAM terms, checked for personal data (each finding removed from
exports or kept on its own, with a preview), saved beside the file and exported for
deposition.

It follows the selected layer; the channel layers of one scene are edited together. In the
dock, the status line, Save and Export stay below the scrolling sections, and the dock's
title marks unsaved edits.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.types import FileDialogMode
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, LineEdit, PushButton
from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QHideEvent, QShowEvent
from qtpy.QtWidgets import QColorDialog, QDockWidget, QScrollArea, QVBoxLayout, QWidget

from .._napari.layer_group import follow_session, ref_of
from ..errors import SidecarError
from ..metadata.completeness import completeness, value_at
from ..metadata.edam import search
from ..metadata.prefill import acquisition_facts
from ..metadata.privacy import REMOVED, redact_text
from ..metadata.record import LENGTH_UNITS, LICENCES, TIME_UNITS, MetadataRecord
from ..session import Session

if TYPE_CHECKING:
    from magicgui.widgets.bases import ValueWidget
    from napari.layers import Layer
    from napari.utils.events import EventEmitter
    from napari.viewer import Viewer

    from ..model import ImageSource, Scene

# REMBI fields shown as text boxes: (dotted key, label, tooltip)
REMBI_FIELDS = (
    ("rembi.study.title", "Study title", "REMBI Study: the title of the study"),
    ("rembi.study.description", "Study description", "what the study is about"),
    ("rembi.study.authors", "Authors", "names separated by ';'"),
    ("rembi.study.keywords", "Keywords", "separated by ',' or ';'"),
    ("rembi.biosample.organism", "Organism", "scientific name, e.g. Homo sapiens"),
    ("rembi.biosample.ncbi_taxon", "NCBI taxon",
     "NCBI taxonomy id, e.g. 9606, or a model organism's name (human, mouse, zebrafish…), "
     "looked up when you press Enter"),
    ("rembi.biosample.biological_entity", "Biological entity", "e.g. HeLa cells"),
    ("rembi.specimen.preparation_protocol", "Preparation", "REMBI Specimen: how it was prepared"),
    ("rembi.specimen.signal_contrast_mechanism", "Signal/contrast", "e.g. fluorescence"),
    ("rembi.image_acquisition.instrument", "Instrument", "microscope make and model"),
    ("rembi.image_data.image_type", "Image type", "e.g. raw, processed"),
)
EMPTY = "—"
UNSAVED = " • unsaved edits"
LOOKED_UP = {"rembi.biosample.ncbi_taxon"}  # fields whose names are looked up on Enter


def _header(text: str) -> Label:
    label = Label(value=f"<b>{text}</b>")
    label.native.setStyleSheet("margin-top: 8px;")
    return label


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(getattr(v, "name", str(v)) for v in value)
    return str(value)


class MetadataPanel(Container):
    """Shows the session behind the selected layer and edits it; follows its events."""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__(labels=False)
        self.viewer = napari_viewer
        self.session: Session | None = None
        self.scene_index: int | None = None
        self._updating = False
        self.channel_fields: list[dict[str, LineEdit]] = []
        self.swatches: list[PushButton] = []
        self.status = Label(value="Select a layer opened with napari-lightmic.")
        self.status.native.setWordWrap(True)
        self.status.native.setMinimumWidth(340)
        self.fix_button = PushButton(text="")  # the value a refusal offers instead
        self.fix_button.visible = False
        self._fix: tuple[str, str] | None = None
        self.fix_button.changed.connect(self._apply_fix)
        self.file_info = Label(value="")
        self.file_info.native.setWordWrap(True)
        self.advice = Label(value="")
        self.advice.native.setWordWrap(True)
        self.advice.native.setStyleSheet("color: #e8a33d;")
        self.image_info = Label(value="")
        self.image_section: Container[Any] = Container(labels=True)
        self.channel_section: Container[Any] = Container(labels=True)
        self.acquisition = Label(value="")
        self.acquisition.native.setWordWrap(True)
        self.rembi_fields: dict[str, LineEdit | ComboBox] = {}
        rembi: Container[Any] = Container(labels=True)
        for key, label, tip in REMBI_FIELDS:
            widget = LineEdit(label=label, tooltip=tip)
            if key in LOOKED_UP:  # a name is looked up when typed, not at each letter
                widget.changed.connect(lambda value, key=key: _is_number(value)
                                       and self.edit(key, value))
                widget.native.editingFinished.connect(
                    lambda key=key, widget=widget: self._finish(key, widget.value))
            else:
                widget.changed.connect(lambda value, key=key: self.edit(key, value))
            self.rembi_fields[key] = widget
            rembi.append(widget)
        self.licence = ComboBox(label="Licence", choices=("", *LICENCES))
        self.licence.changed.connect(lambda value: self.edit("rembi.study.licence", value))
        rembi.insert(4, self.licence)
        self.edam_search = LineEdit(label="Search EDAM", tooltip="type-ahead: label or synonym")
        # napari resets magicgui choices on layer events: the list lives here
        self._edam_options: list[tuple[str, str | None]] = [("", None)]
        self.edam_choice = ComboBox(label="Imaging method",
                                    choices=lambda _widget: self._edam_options)
        self.edam_iri = Label(value="")
        self.edam_search.changed.connect(self._search_edam)
        self.edam_choice.changed.connect(self._choose_edam)
        edam = Container(labels=True, widgets=[self.edam_search, self.edam_choice, self.edam_iri])
        self.complete = Label(value="")
        self.missing = Label(value="")
        self.missing.native.setWordWrap(True)
        self.findings = Label(value="")
        self.findings.native.setWordWrap(True)
        self.finding_boxes: dict[str, CheckBox] = {}
        self.finding_section: Container[Any] = Container(labels=False)
        self.remove_personal = PushButton(text="Remove the ticked findings from every export")
        self.remove_personal.changed.connect(self._toggle_privacy)
        self.preview = Label(value="")
        self.preview.native.setWordWrap(True)
        self.save_button = PushButton(text="Save edits")
        self.save_button.changed.connect(self.save)
        self.export_folder = FileEdit(mode=FileDialogMode.EXISTING_DIRECTORY, label="IDR folder")
        self.export_button = PushButton(
            text="Export IDR submission",
            tooltip="an IDR submission folder and a BioImage Archive file list, in the IDR folder")
        self.export_button.changed.connect(lambda: self.export_idr())
        self.save_button.enabled = self.export_button.enabled = False  # until a file is shown
        # kept below the scrolling sections by the dock: always in reach
        self.button_bar: Container[Any] = Container(widgets=[
            self.status, self.fix_button,
            Container(labels=True, widgets=[self.export_folder]),
            Container(layout="horizontal", labels=False,
                      widgets=[self.save_button, self.export_button])])
        self.extend([
            _header("File"), self.file_info, self.advice,
            _header("Image"), self.image_info, self.image_section,
            _header("Channels"), self.channel_section,
            _header("Acquisition"), self.acquisition,
            _header("REMBI"), rembi,
            _header("EDAM-bioimaging imaging method"), edam,
            _header("Completeness"), self.complete, self.missing,
            _header("Privacy"), self.findings, self.finding_section, self.remove_personal,
            self.preview,
        ])
        napari_viewer.layers.selection.events.active.connect(
            lambda event: self.follow(event.value))
        self.follow(napari_viewer.layers.selection.active)

    # -- which file -----------------------------------------------------------------------
    @property
    def source(self) -> ImageSource | None:
        """The file shown, as read (None before a layer is selected)."""
        return self.session.source if self.session is not None else None

    @property
    def scene(self) -> Scene | None:
        """The scene shown, as edited."""
        if self.session is None or self.scene_index is None:
            return None
        return self.session.effective_scene(self.scene_index)

    @property
    def record(self) -> MetadataRecord | None:
        """The metadata record shown: the file's with the edits."""
        return self.session.record if self.session is not None else None

    def follow(self, layer: Layer | None) -> None:
        """Show the metadata of the file behind `layer` (nothing changes for other layers)."""
        ref = ref_of(layer) if layer is not None else None
        if ref is None:
            if layer is not None:
                self.status.value = (f"{layer.name!r} was not opened by napari-lightmic: "
                                     "no file metadata to show.")
            return
        if ref.session is self.session and ref.scene == self.scene_index:
            return
        if self.session is not None and ref.session is not self.session:
            self.session.edited.disconnect(self._edited)
            self.session.saved.disconnect(self._saved)
        another_file = ref.session is not self.session
        if another_file:
            ref.session.edited.connect(self._edited)
            ref.session.saved.connect(self._saved)
            follow_session(self.viewer, ref.session)
        self.session, self.scene_index = ref.session, ref.scene
        self._updating = True
        try:
            if another_file:  # what was typed for the last file is not this one's
                self.edam_search.value = ""
                self._hide_fix()
            self._fill()
        finally:
            self._updating = False
        session, scene = ref.session, ref.effective_scene
        self.status.value = session.sidecar_problem or (
            f"{session.source.file_name}: scene {scene.index} {scene.name!r}"
            + (" — edits loaded from the sidecar" if session.loaded_edits else ""))

    def _fill(self) -> None:
        session, scene = self.session, self.scene
        if session is None or scene is None:  # nothing shown yet
            return
        source, record = session.source, session.record
        fmt = source.format
        size = _human_size(source.disk_bytes)
        self.file_info.value = (
            f"{source.file_name}<br>{fmt.name}"
            + (f" ({fmt.vendor})" if fmt.vendor else "") + f", {size}<br>"
            + ("open format" if fmt.open_format else "proprietary format") + ", "
            + ("lossy" if fmt.lossy else "lossless") + f"; read with {source.reader}")
        self.advice.value = fmt.advice or ""
        self.advice.visible = bool(fmt.advice)
        self.image_info.value = f"{scene.shape_text}, {scene.dtype}"
        self._fill_image()
        self._fill_channels()
        self.acquisition.value = _acquisition_text(source, scene)
        for key, widget in self.rembi_fields.items():
            widget.value = _text(value_at(record, key))
        self.licence.value = record.rembi.study.licence if record.rembi.study.licence in \
            LICENCES else ""
        method = record.rembi.image_acquisition.imaging_method
        self._set_edam_options([(method.label, method.iri)] if method else [])
        self.edam_choice.value = method.iri if method else None
        self.edam_iri.value = method.iri if method else ""
        self._fill_findings()
        self._show_state()

    def _fill_image(self) -> None:
        self.image_section.clear()
        scene = self.scene
        if scene is None:
            return
        for axis in [a for a in ("T", "Z", "Y", "X") if a in scene.dims and scene.size(a) > 1
                     or a in "YX"]:
            size = scene.physical_pixel_sizes.get(axis)
            value = LineEdit(value=f"{size:g}" if size else "",
                             tooltip=f"{axis} pixel size; empty: unknown (the layers use pixels)")
            units = TIME_UNITS if axis == "T" else LENGTH_UNITS
            recorded = scene.units.get(axis)
            if recorded and recorded not in units:  # the file's own unit is always offered
                units = (recorded, *units)
            unit = ComboBox(choices=units, value=recorded or units[1])
            unit.native.setMaximumWidth(80)
            value.changed.connect(lambda text, axis=axis: self.edit(
                f"scenes.{scene.index}.physical_pixel_sizes.{axis}", text))
            unit.changed.connect(lambda text, axis=axis: self.edit(
                f"scenes.{scene.index}.units.{axis}", text))
            self.image_section.append(_row(f"{axis} size", [value, unit]))

    def _fill_channels(self) -> None:
        self.channel_section.clear()
        scene = self.scene
        self.channel_fields = []
        self.swatches = []
        if scene is None:
            return
        self.channel_section.append(Label(
            value="<small>name · colour · excitation · emission (nm) · fluorophore</small>"))
        for c, channel in enumerate(scene.channels):
            fields: dict[str, LineEdit] = {}
            for field, value, width in (
                    ("name", channel.name, None), ("color", channel.color, 84),
                    ("excitation_nm", channel.excitation_nm, 48),
                    ("emission_nm", channel.emission_nm, 48), ("fluor", channel.fluor, None)):
                text = _field_text(value)
                widget = LineEdit(value=text, tooltip=field.replace("_nm", " wavelength (nm)"))
                if width:
                    widget.native.setMaximumWidth(width)
                widget.changed.connect(lambda text, c=c, field=field: self.edit(
                    f"scenes.{scene.index}.channels.{c}.{field}", text))
                fields[field] = widget
            self.channel_fields.append(fields)
            swatch = PushButton(text="", tooltip="the channel's colour: click to pick another")
            swatch.native.setFixedWidth(26)
            _paint(swatch, channel.color)
            swatch.changed.connect(lambda _=None, c=c: self.pick_colour(c))
            self.swatches.append(swatch)
            widgets = list(fields.values())
            self.channel_section.append(_row(str(c), [*widgets[:2], swatch, *widgets[2:]]))

    def pick_colour(self, c: int) -> bool:
        """Choose channel `c`'s colour in Qt's colour dialog; whether it was applied."""
        scene = self.scene
        if scene is None or c >= len(scene.channels):
            return False
        colour = QColorDialog.getColor(QColor(scene.channels[c].color or "#FFFFFF"),
                                       self.native, f"Colour of {scene.channels[c].name}")
        if not colour.isValid():  # cancelled
            return False
        return self.edit(f"scenes.{scene.index}.channels.{c}.color", colour.name().upper())

    def _fill_findings(self) -> None:
        """One tick box a finding (ticked: removed from exports), and the export's preview."""
        session = self.session
        self.finding_section.clear()
        self.finding_boxes = {}
        if session is None:
            return
        found = session.privacy_findings
        self.findings.value = (
            f"{len(found)} value(s) may identify a person. Ticked ones are "
            "removed from exports once removal is on:" if found
            else "No personal data found in the metadata.")
        for finding in found:
            box = CheckBox(value=session.chosen_for_removal(finding),
                           text=f"{finding.kind}: {finding.value}"[:80],
                           tooltip=f"{finding.reason}; found in " + ", ".join(finding.where))
            box.changed.connect(lambda value, fid=finding.id: self._choose(fid, value))
            self.finding_boxes[finding.id] = box
            self.finding_section.append(box)

    def _choose(self, finding_id: str, remove: bool) -> None:
        if self._updating or self.session is None:
            return
        try:
            self.session.choose_removal(finding_id, remove)
        except ValueError as exc:
            self.status.value = f"<span style='color:#e05050'>Not applied: {exc}</span>"

    # -- edits ----------------------------------------------------------------------------
    def edit(self, key: str, value: object) -> bool:
        """Set one field through the session; whether it was applied.

        Refused values leave the record as it was and say why. The panel and the layers
        follow the session's `edited` event.
        """
        if self._updating or self.session is None:
            return False
        try:
            self.session.edit(key, value)
        except (ValueError, IndexError, KeyError) as exc:
            self.status.value = (f"<span style='color:#e05050'>Not applied: "
                                 f"{escape(str(exc))}</span>")
            fix = getattr(exc, "fix", None)
            if fix:  # the value meant, offered as a click
                self._fix = (key, fix)
                self.fix_button.text = f"Use {fix}"
                self.fix_button.visible = True
            else:
                self._hide_fix()
            return False
        self._hide_fix()
        return True

    def _finish(self, key: str, text: str) -> None:
        """A looked-up field's typing finished: a name is looked up (or refused) now."""
        record = self.record
        if record is not None and not _is_number(text) and text != _text(value_at(record, key)):
            self.edit(key, text)

    def _hide_fix(self) -> None:
        self._fix = None
        self.fix_button.visible = False

    def _apply_fix(self) -> None:
        if self._fix is not None:
            key, fix = self._fix
            if self.edit(key, fix):
                self._show_value(key)

    def _edited(self, key: str) -> None:
        """The session changed (here, or from elsewhere: the console, another dock)."""
        before, self._updating = self._updating, True
        try:
            self._show_value(key)
        finally:
            self._updating = before
        self.status.value = "Edited (not yet saved beside the file)."
        self._show_state()

    def _show_value(self, key: str) -> None:
        """Show an edited field's value where the panel shows something else."""
        record, scene = self.record, self.scene
        if record is None or scene is None:  # nothing shown
            return
        if key in self.rembi_fields:
            _set_text(self.rembi_fields[key], _text(value_at(record, key)))
            return
        if key == "rembi.study.licence":
            licence = record.rembi.study.licence
            self.licence.value = licence if licence in LICENCES else ""
            return
        parts = key.split(".")
        if parts[0] != "scenes" or len(parts) < 4 or parts[1] != str(self.scene_index):
            return
        if parts[2] == "channels" and len(parts) == 5 and parts[3].isdecimal():
            c, field = int(parts[3]), parts[4]
            if c < len(self.channel_fields) and field in self.channel_fields[c]:
                _set_text(self.channel_fields[c][field],
                          _field_text(getattr(scene.channels[c], field)))
            if field == "color" and c < len(self.swatches):
                _paint(self.swatches[c], scene.channels[c].color)
        elif parts[2] in ("physical_pixel_sizes", "units"):
            for row in self.image_section:
                if row.label == f"{parts[3]} size":
                    size = scene.physical_pixel_sizes.get(parts[3])
                    _set_text(row[0], f"{size:g}" if size else "")
                    unit = scene.units.get(parts[3])
                    if unit and unit in row[1].choices and row[1].value != unit:
                        row[1].value = unit

    def _saved(self, path: Path) -> None:
        self.status.value = f"Saved beside the file: {path.name}"
        self._show_state()

    def _search_edam(self, text: str) -> None:
        hits = search(text, limit=15, branch="topic") if text else []
        current = self.record.rembi.image_acquisition.imaging_method if self.record else None
        choices: list[tuple[str, str | None]] = [(t.label, t.iri) for t in hits]
        if current and current.iri not in [c[1] for c in choices]:
            choices.insert(0, (current.label, current.iri))
        self._updating, before = True, self._updating
        try:
            self._set_edam_options(choices)
        finally:
            self._updating = before
        if hits and not (current and current.iri == hits[0].iri):
            self.edam_choice.value = hits[0].iri

    def _set_edam_options(self, options: list[tuple[str, str | None]]) -> None:
        self._edam_options = options or [("", None)]
        self.edam_choice.reset_choices()

    def _choose_edam(self, iri: str | None) -> None:
        if iri and self.edit("rembi.image_acquisition.imaging_method", iri):
            self.edam_iri.value = iri

    def _toggle_privacy(self) -> None:
        if self.record is not None:
            self.edit("privacy.remove_on_export", str(not self.record.privacy.remove_on_export))

    def _show_state(self) -> None:
        session = self.session
        if session is None:  # nothing shown
            return
        done = completeness(session.record)
        self.complete.value = f"<b>{done.filled} of {done.total}</b> required REMBI fields filled"
        self.missing.value = ("Missing: " + ", ".join(done.missing)) if done.missing else \
            "Complete."
        remove = session.record.privacy.remove_on_export
        self.remove_personal.text = ("Marked: ticked findings removed from every export "
                                     "(click to keep all)" if remove
                                     else "Remove the ticked findings from every export")
        self.remove_personal.enabled = bool(session.privacy_findings) or remove
        before, self._updating = self._updating, True
        try:
            for finding in session.privacy_findings:
                box = self.finding_boxes.get(finding.id)
                if box is not None and box.value != session.chosen_for_removal(finding):
                    box.value = session.chosen_for_removal(finding)
        finally:
            self._updating = before
        self.preview.value = _preview(session)
        self._mark_title(session.unsaved)
        target = session.sidecar_path
        self.export_button.enabled = True
        self.save_button.enabled = target is not None
        self.save_button.tooltip = str(target) if target else "remote file: nothing to save beside"

    def _mark_title(self, unsaved: bool) -> None:
        """Mark the dock's title while edits are not saved beside the file."""
        widget = self.native.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        if widget is None:
            return
        base = widget.windowTitle().removesuffix(UNSAVED)
        title = base + (UNSAVED if unsaved else "")
        if widget.windowTitle() != title:
            widget.setWindowTitle(title)
            bar = getattr(widget, "title", None)  # napari's own title bar shows a label
            label = getattr(bar, "title", None)
            if label is not None and hasattr(label, "setText"):
                label.setText(title)

    # -- keep and deposit -----------------------------------------------------------------
    def save(self) -> str | None:
        """Save the edits beside the file; the sidecar's path (None when not saved: why)."""
        if self.session is None:
            self.status.value = "Select a layer opened with napari-lightmic first."
            return None
        try:
            path = self.session.save()
        except SidecarError as exc:
            self.status.value = f"<span style='color:#e05050'>Not saved: {exc}</span>"
            return None
        return str(path)

    def export_idr(self, folder: str | None = None) -> list[str]:
        """Write the IDR submission and BioImage Archive list into `folder`; the files."""
        if self.session is None:
            self.status.value = "Select a layer opened with napari-lightmic first."
            return []
        folder = folder or str(self.export_folder.value)
        if not folder or folder == ".":
            self.status.value = "Choose a folder to export the IDR submission into."
            return []
        try:
            written = self.session.export_idr(folder)
        except OSError as exc:
            self.status.value = f"<span style='color:#e05050'>Not exported: {exc}</span>"
            return []
        self.status.value = f"Exported {len(written)} files to {folder}"
        return [str(p) for p in written]


class MetadataDock(QWidget):
    """The panel as docked in napari (Plugins > Metadata, Layers > Metadata).

    Its sections scroll; the status line, Save and Export stay below them. When the dock
    opens, the canvas is fitted again to the narrower space left to it.
    """

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.panel = MetadataPanel(napari_viewer)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.panel.native)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area, stretch=1)
        layout.addWidget(self.panel.button_bar.native)
        self.setMinimumWidth(400)
        self._refit_pending = False

    def showEvent(self, event: QShowEvent | None) -> None:  # noqa: N802 (Qt's name)
        """Fit the canvas again when the dock opens (now, and once the canvas has shrunk)."""
        super().showEvent(event)
        self.viewer.reset_view()
        if not self._refit_pending:
            self._refit_pending = True
            self._size_event().connect(self._refit)
        self.panel._show_state()  # the title's unsaved mark, now that the dock is known

    def hideEvent(self, event: QHideEvent | None) -> None:  # noqa: N802 (Qt's name)
        """No refit is waited for while hidden."""
        super().hideEvent(event)
        self._stop_refit()

    def _refit(self, _event: object = None) -> None:
        self._stop_refit()
        self.viewer.reset_view()

    def _stop_refit(self) -> None:
        if self._refit_pending:
            self._refit_pending = False
            self._size_event().disconnect(self._refit)

    def _size_event(self) -> EventEmitter:
        """The canvas size's event (napari 0.9 keeps it on viewer.canvas)."""
        canvas = getattr(self.viewer, "canvas", None)
        return canvas.events.size if canvas is not None else self.viewer.events._canvas_size


def _is_number(text: str) -> bool:
    """Whether an id field holds a number (or nothing): applied at once."""
    return re.fullmatch(r"\s*(NCBITaxon_)?\d*\s*", text or "") is not None


def _paint(swatch: PushButton, colour: str | None) -> None:
    """Show a colour on a swatch button (a neutral grey when the file gives none)."""
    swatch.native.setStyleSheet(f"background-color: {colour or '#808080'};"
                                "border: 1px solid #999; min-height: 18px;")


def _preview(session: Session) -> str:
    """What an export will hold in place of each finding."""
    findings = session.privacy_findings
    if not findings:
        return ""
    if not session.record.privacy.remove_on_export:
        return ("<small>Exports keep the metadata as the file has it (removal is off).</small>")
    gone = {f.id for f in session.removed_findings}
    lines = []
    for finding in findings:
        where, removed = finding.field, finding.id in gone
        if finding.kind == "user folder":  # the path itself, as the export holds it
            shown = redact_text(where.removesuffix("…"), [finding]) + "…" if removed else where
            lines.append(escape(shown).replace(REMOVED, f"<b>{REMOVED}</b>")
                         + ("" if removed else " (kept)"))
        else:
            lines.append(f"{escape(where)}: " + (
                f"<b>{REMOVED}</b>" if removed
                else f"{escape(repr(finding.value), quote=False)} (kept)"))
    return "<small>An export will contain:<br>" + "<br>".join(lines) + "</small>"


def _field_text(value: str | float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else (value or "")


def _same(shown: str, text: str) -> bool:
    """Whether a field already shows this value (numbers by value, colours in any case)."""
    try:
        return float(shown) == float(text)
    except ValueError:
        return shown.strip().lower() == text.strip().lower()


def _set_text(widget: ValueWidget[Any], text: str) -> None:
    """Show `text` unless the widget shows it already (typing is not disturbed)."""
    if not _same(str(widget.value or ""), text):
        widget.value = text


def _row(label: str, widgets: list[Any]) -> Container:
    row = Container(layout="horizontal", labels=False, label=label, widgets=widgets)
    row.margins = (0, 0, 0, 0)
    return row


def _human_size(disk_bytes: int | None) -> str:
    if disk_bytes is None:
        return "remote"
    size = float(disk_bytes)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def _acquisition_text(source: ImageSource, scene: Scene) -> str:
    ome = source.ome
    facts = acquisition_facts(ome, ome.images[scene.ome_image]
                              if scene.index < len(ome.images) else None)
    lines = [f"Instrument: {facts.instrument}" if facts.instrument else None,
             *(f"Objective: {text}" for text in facts.objectives[:2]),
             f"Detector: {facts.detector}" if facts.detector else None,
             f"Acquired: {facts.date.isoformat(sep=' ')[:19]}" if facts.date else None,
             "Imaging mode: " + ", ".join(facts.modes) if facts.modes else None]
    return "<br>".join(line for line in lines if line) or EMPTY
