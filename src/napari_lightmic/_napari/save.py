"""File > Save as OME-Zarr…: the selected layer's source, every channel, off the main thread."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LightmicError, LightmicReadError
from ..formats import file_stem
from ..model import ImageSource
from ..writing import write
from .layer_group import ref_of, scene_layers

if TYPE_CHECKING:  # napari resolves the name itself when it injects the viewer
    import napari
    from napari.qt.threading import GeneratorWorker

    from ..metadata.record import MetadataRecord
    from ..rois import Roi
    from ..session import Session


def source_of_selection(
        viewer: napari.viewer.Viewer) -> tuple[ImageSource, int, MetadataRecord | None]:
    """The file behind the selected layer as the user sees it, its scene and its record.

    The session's edits, with the layers' current channel names, colours and contrast; layers
    made in napari are saved as they are. Also the scene's index and the metadata record to
    write.
    """
    from .layer_source import channel_name, colormap_color, source_from_layers

    layer = viewer.layers.selection.active or (viewer.layers[-1] if viewer.layers else None)
    if layer is None:
        raise LightmicReadError("viewer", "no layer to save")
    # a layer made here (a Shapes layer drawn) selected with a file's layers: the file's
    ref = ref_of(layer) or next((r for r in map(ref_of, viewer.layers.selection)
                                 if r is not None), None)
    if ref is None:
        selected = list(viewer.layers.selection) or [layer]
        source, _, record = source_from_layers([lyr.as_layer_data_tuple() for lyr in selected])
        return source, 0, record
    session = ref.session
    scene = session.effective_scene(ref.scene)
    channels = list(scene.channels)
    shown_layers = scene_layers(viewer, session, scene.index)
    for other in shown_layers:
        other_ref = ref_of(other)  # never None: scene_layers found it by its reference
        c = other_ref.channel if other_ref is not None else None
        if c is not None and c < len(channels):
            channels[c] = replace(channels[c].renamed(channel_name(other.name, scene.name)),
                                  contrast_limits=(float(other.contrast_limits[0]),
                                                   float(other.contrast_limits[1])),
                                  color=colormap_color(other.colormap))
    shown = replace(scene, channels=channels, rois=_shown_rois(viewer, session, scene.index,
                                                               shown_layers))
    return session.effective_source({scene.index: shown}), scene.index, session.record


def roi_layers(viewer: napari.viewer.Viewer, session: Session, scene: int) -> list[Any]:
    """The Shapes and Points layers saved with a scene.

    Those showing its ROIs (opened with it), and those made in napari that are selected.
    """
    selected = set(map(id, viewer.layers.selection))
    found = []
    for layer in viewer.layers:
        if layer._type_string not in ("shapes", "points"):
            continue
        ref = ref_of(layer)
        if (ref is not None and ref.session is session and ref.scene == scene) \
                or (ref is None and id(layer) in selected):
            found.append(layer)
    return found


def _shown_rois(viewer: napari.viewer.Viewer, session: Session, scene: int,
                images: list[Any]) -> list[Roi]:
    """The ROIs the viewer shows on a scene, in its pixels (`roi_layers`)."""
    from .rois import Frame, rois_of_layer

    if not images:
        return list(session.rois(scene))
    image = images[0]
    axes = "".join(session.source.scenes[scene].axis_letter(str(label))
                   for label in image.axis_labels)
    frame = Frame.of(axes, image.scale, image.translate)
    return [roi for layer in roi_layers(viewer, session, scene)
            for roi in rois_of_layer(*_data_tuple(layer), frame)]


def _data_tuple(layer: Any) -> tuple[Any, dict[str, Any], str]:  # noqa: ANN401 a layer
    data, meta, kind = layer.as_layer_data_tuple()
    return data, meta, kind


def default_target(source: ImageSource) -> str:
    """'<name>.ome.zarr' beside the source (in the home folder when that is no local folder)."""
    name = file_stem(source.path) or "image"
    folder = os.path.dirname(source.path) if os.path.isdir(os.path.dirname(source.path)) \
        else os.path.expanduser("~")
    return os.path.join(folder, f"{name}.ome.zarr")


def save_as_ome_zarr(viewer: napari.viewer.Viewer, path: str | None = None,
                     confirm: Callable[[str], bool] | None = None) -> GeneratorWorker | None:
    """Ask where (unless `path`), confirm replacing, then write with a progress bar.

    Run from the menu, napari passes the current viewer: it injects arguments by their
    annotation, which it resolves (as a string, without importing napari here) in its own
    namespace, where `napari` names the package.
    """
    from napari.utils.notifications import show_error

    try:
        source, scene, record = source_of_selection(viewer)
    except LightmicReadError as err:
        show_error(str(err))
        return None
    if path is None:
        from qtpy.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            None, "Save as OME-Zarr", default_target(source), "OME-Zarr (*.ome.zarr)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return None
    if not str(path).endswith((".ome.zarr", ".zarr")):
        path = f"{path}.ome.zarr"
    overwrite = False
    if Path(path).exists():
        ask = confirm or _confirm_replace
        if not ask(path):
            return None
        overwrite = True
    return start_write(source, scene, path, overwrite, record)


def _confirm_replace(path: str) -> bool:
    from qtpy.QtWidgets import QMessageBox

    answer = QMessageBox.question(None, "Replace?", f"{path} exists. Replace it?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def start_write(source: ImageSource, scene: int, path: str, overwrite: bool,
                record: MetadataRecord | None = None) -> GeneratorWorker:
    """Write in a thread; the main thread only moves napari's progress bar.

    A failed write is an error notification naming the target and the cause, never an
    exception in Qt's event loop (which napari would show with a traceback, or which ends the
    process).
    """
    from napari.qt.threading import thread_worker
    from napari.utils import progress
    from napari.utils.notifications import show_error, show_info

    from ..writing import WriteOptions

    options = WriteOptions(overwrite=overwrite)

    @thread_worker
    def run() -> Generator[tuple[int, int], None, dict[str, Any]]:
        updates: queue.Queue[tuple[int, int]] = queue.Queue()
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["path"] = write(source, path, scene, options,
                                        progress=lambda d, t: updates.put((d, t)),
                                        record=record)
            except Exception as exc:  # noqa: BLE001 thread's end: reported on the main thread
                outcome["error"] = exc

        writer = threading.Thread(target=target, daemon=True)
        writer.start()
        while writer.is_alive() or not updates.empty():
            try:
                yield updates.get(timeout=0.1)
            except queue.Empty:
                continue
        # returned, not raised: napari reports an exception raised in a worker itself,
        # with its traceback
        return outcome

    bar = progress(total=100, desc=f"Saving {Path(path).name}")

    def moved(update: tuple[int, int]) -> None:
        done, total = update
        value = int(100 * done / total) if total else 0
        if value > bar.n:
            bar.update(value - bar.n)  # update() is what moves napari's Qt progress bar

    def failed(err: BaseException) -> None:
        bar.close()
        text = str(err) if isinstance(err, LightmicError) else f"{path}: {err}"
        show_error(text)

    def finished(outcome: dict[str, Any]) -> None:
        if "error" in outcome:
            failed(outcome["error"])
            return
        bar.close()
        show_info(f"Saved {outcome['path']}")

    # Connected as the worker is made (and then started): an "errored" handler given later
    # would leave superqt's default one, which raises the error again in the event loop.
    return run(_connect={"yielded": moved, "returned": finished, "errored": failed})
