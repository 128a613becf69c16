"""A Session: one opened file and what the user does with it.

The file (`ImageSource`) is what the reader found and is frozen. The session holds the
user's side: the edits kept in the sidecar (or why the sidecar could not be used), the
metadata record they make, the privacy mark, and the scenes as edited
(`effective_scene`). The Metadata dock, the layers, Save as and the CLI's `metadata` and
`convert` all go through it, and the dock and the layers follow its events, as a widget
follows its model.

Qt-free: events are psygnal signals (napari ships psygnal).
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from .errors import SidecarError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .metadata.privacy import Finding
    from .metadata.record import MetadataRecord, SceneEdit
    from .model import Channel, ImageSource, Scene
    from .rois import Roi


class Session:
    """One opened file, with the user's edits laid over what it says.

    Parameters
    ----------
    source
        The opened file, as `open_image` returns it.
    edits
        The edits to start from (as a sidecar stores them: only what differs from the file).
    sidecar_problem
        Why the sidecar could not be used, when it could not (it is then left untouched).

    Events
    ------
    edited(key)
        A field changed (its dotted key, e.g. ``scenes.0.channels.1.name``).
    saved(path)
        The edits were saved beside the file, at `path`.
    """

    edited = Signal(str)
    saved = Signal(object)

    def __init__(self, source: ImageSource, edits: dict[str, Any] | None = None,
                 sidecar_problem: str | None = None) -> None:
        self.source = source
        self.sidecar_problem = sidecar_problem
        self._edits: dict[str, Any] = dict(edits or {})
        self._file_record: MetadataRecord | None = None
        self._record: MetadataRecord | None = None
        self._scene_edits: dict[int, SceneEdit] | None = None
        self._scenes: dict[int, Scene] = {}
        self._findings: list[Finding] | None = None
        self.loaded_edits = bool(self._edits)  # whether the sidecar's edits were applied
        self._saved_edits: dict[str, Any] = dict(self._edits)  # as the sidecar holds them
        self.file_version = file_version(source.path)  # which version of the file was opened

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Session:
        """Open a file read-only, with the edits saved beside it.

        A sidecar that cannot be read is reported in `sidecar_problem` and not used.
        Raises LightmicReadError when the file cannot be read.
        """
        from .metadata.sidecar import read_edits
        from .reading import open_image

        source = open_image(path)
        try:
            return cls(source, read_edits(source.path))
        except SidecarError as exc:
            return cls(source, sidecar_problem=f"{exc}. It was ignored and will not be "
                                               "overwritten.")

    def close(self) -> None:
        """Close the file's open handles."""
        self.source.close()

    def __enter__(self) -> Session:
        """Use the session in a `with` block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the file at the end of the `with` block."""
        self.close()

    # -- what the file says, and the record -----------------------------------------------
    @property
    def path(self) -> str:
        """The file's path (or URL)."""
        return self.source.path

    @property
    def edits(self) -> dict[str, Any]:
        """What the user changed of the file's record, as the sidecar stores it."""
        return dict(self._edits)

    @property
    def file_record(self) -> MetadataRecord:
        """The metadata record as the file describes it: what the edits are kept against.

        Its channels are described as the user corrected them.
        """
        if self._file_record is None:
            from .metadata.prefill import record_from_source

            self._file_record = record_from_source(self.effective_source())
        return self._file_record

    @property
    def record(self) -> MetadataRecord:
        """The metadata record: the file's, with the user's edits laid over it."""
        if self._record is None:
            from .metadata.sidecar import merged

            self._record = merged(self.file_record, self._edits)
        return self._record

    @property
    def privacy_findings(self) -> list[Finding]:
        """Personal data found in the file's metadata."""
        if self._findings is None:
            from .metadata.privacy import scan

            self._findings = scan(self.source.ome, self.source.original_metadata,
                                  self.source.format.name)
        return self._findings

    def privacy_report(self) -> list[dict[str, object]]:
        """The findings as JSON objects, as `lightmic metadata --privacy --json` prints them.

        Each has its id, kind, field, places, text, reason, and whether exports remove it.
        """
        from .metadata.privacy import as_json

        return as_json(self.privacy_findings, self.record.privacy)

    def chosen_for_removal(self, finding: Finding) -> bool:
        """Whether a finding is ticked for removal (every one is, until the user unticks it).

        Exports remove the ticked findings once `privacy.remove_on_export` is on.
        """
        chosen = self.record.privacy.removed
        return chosen is None or finding.id in chosen

    @property
    def removed_findings(self) -> list[Finding]:
        """The findings exports remove (none unless removal is on)."""
        from .metadata.privacy import removed

        return removed(self.privacy_findings, self.record.privacy)

    def choose_removal(self, finding_id: str, remove: bool) -> MetadataRecord:
        """Tick (remove) or untick (keep) one finding for exports, through `edit`."""
        ids = [f.id for f in self.privacy_findings
               if (f.id == finding_id and remove)
               or (f.id != finding_id and self.chosen_for_removal(f))]
        return self.edit("privacy.removed", ids)

    @property
    def unsaved(self) -> bool:
        """Whether there are edits not yet saved beside the file."""
        return self._edits != self._saved_edits

    # -- edits ----------------------------------------------------------------------------
    def edit(self, key: str, value: object) -> MetadataRecord:
        """Set one field of the record by its dotted key; strings are converted.

        Raises ValueError (or IndexError, KeyError) naming the key and the reason when the
        value is refused; the record is then as it was.
        """
        from .metadata.record import set_path
        from .metadata.sidecar import difference

        record = set_path(self.record, key, "" if value is None else value)
        self._edits = difference(self.file_record, record)
        self._record = None
        if key.startswith("scenes."):  # the scenes, and the record describing them, change
            self._scene_edits, self._file_record = None, None
            self._scenes.clear()
        self.edited.emit(key)
        return self.record

    def effective_scene(self, key: int | str) -> Scene:
        """A scene (by index or name) with the user's pixel sizes, units and channels."""
        scene = self.source.scene(key)
        if scene.index not in self._scenes:
            if self._scene_edits is None:
                from .metadata.record import MetadataRecord

                self._scene_edits = MetadataRecord.model_validate(
                    {"scenes": self._edits.get("scenes", {})}).scenes
            edit = self._scene_edits.get(scene.index)
            edited = _edited(scene, edit) if edit else scene
            if edit and edit.rois:  # the file's ROIs and the user's, written together
                from .rois import Roi
                from .rois.ome import file_rois

                added = [Roi.from_dict(r.model_dump()) for r in edit.rois]
                edited = replace(edited, rois=(*file_rois(self.source, scene).rois, *added))
            self._scenes[scene.index] = edited
        return self._scenes[scene.index]

    def rois(self, key: int | str) -> tuple[Roi, ...]:
        """A scene's regions of interest: the file's own, then those the user added."""
        from .rois.ome import file_rois

        scene = self.effective_scene(key)
        return tuple(scene.rois) if scene.rois is not None \
            else file_rois(self.source, scene).rois

    def added_rois(self, key: int | str) -> tuple[Roi, ...]:
        """The ROIs the user added to a scene (kept in the sidecar's edits)."""
        from .rois import Roi

        index = self.source.scene(key).index
        edit = self.record.scenes.get(index)
        return tuple(Roi.from_dict(r.model_dump()) for r in edit.rois) if edit else ()

    def set_added_rois(self, key: int | str, rois: Sequence[Roi]) -> MetadataRecord:
        """Replace the ROIs the user added to a scene; an empty list removes them.

        An edit: `save` keeps it beside the file, and exports write them with the file's own.
        """
        index = self.source.scene(key).index
        return self.edit(f"scenes.{index}.rois", [roi.as_dict() for roi in rois])

    @property
    def scenes(self) -> tuple[Scene, ...]:
        """Every scene, as edited."""
        return tuple(self.effective_scene(scene.index) for scene in self.source.scenes)

    def effective_source(self, scenes: dict[int, Scene] | None = None) -> ImageSource:
        """The file as the user edited it, for the writers.

        `scenes` replaces scenes by index (e.g. with the channel names and colours shown in
        napari).
        """
        chosen = tuple((scenes or {}).get(s.index, s) for s in self.scenes)
        return replace(self.source, scenes=chosen,
                       ome_factory=partial(getattr, self.source, "ome"))

    # -- keep and deposit -----------------------------------------------------------------
    @property
    def sidecar_path(self) -> Path | None:
        """Where the edits are saved (None for a remote file)."""
        from .metadata.sidecar import sidecar_path

        return sidecar_path(self.source.path)

    def save(self) -> Path:
        """Save the edits beside the file (atomically); the file itself is never written.

        Raises SidecarError when they cannot be saved (a remote file, an invalid sidecar
        already there, a write that fails).
        """
        from .metadata.sidecar import write_edits

        path = write_edits(self.source.path, self.file_record, self.record)
        self._saved_edits = dict(self._edits)
        self.saved.emit(path)
        return path

    def export_idr(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write an IDR submission folder and a BioImage Archive file list into `folder`."""
        from .metadata.deposit import export_idr

        return export_idr([self.effective_source()], folder, self.record,
                          self.removed_findings)


def file_version(path: str) -> tuple[str, ...] | tuple[str, int, int] | tuple[str, None]:
    """Which file, and which version of it: a file changed on disk is another file.

    (the URL) for remote sources, an ``idr:`` id as the URL it opens, (absolute path, mtime in
    ns, size) for local ones.
    """
    from .reading.remote import idr_url, is_remote

    if path.startswith("idr:"):
        try:
            return (idr_url(path[4:]),)
        except ValueError:
            return (path,)
    if is_remote(path):
        return (path,)
    try:
        info = os.stat(path)
    except OSError:
        return (os.path.abspath(path), None)
    return (os.path.abspath(path), info.st_mtime_ns, info.st_size)


def _edited(scene: Scene, edit: SceneEdit) -> Scene:
    """`scene` with the user's corrections laid over what the file says."""
    physical = dict(scene.physical_pixel_sizes)
    units = dict(scene.units)
    for axis, size in edit.physical_pixel_sizes.items():
        if axis in scene.dims:
            physical[axis] = size
    for axis, unit in edit.units.items():
        if axis in scene.dims:
            units[axis] = unit
    channels = list(scene.channels)
    for c, change in edit.channels.items():
        if 0 <= c < len(channels):
            channels[c] = _edited_channel(channels[c], change.model_dump(exclude_none=True))
    return replace(scene, physical_pixel_sizes=physical, units=units, channels=channels)


def _edited_channel(channel: Channel, change: dict[str, Any]) -> Channel:
    name = change.pop("name", None)
    if "color" in change:
        change["color"] = change["color"].upper()
    channel = replace(channel, **change) if change else channel
    return channel.renamed(name) if name is not None else channel
