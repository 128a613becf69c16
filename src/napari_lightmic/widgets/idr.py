"""Open from IDR: an image id (or any OME-Zarr URL) opened lazily, off the main thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magicgui.widgets import Container, Label, LineEdit, PushButton

from ..reading import remote

if TYPE_CHECKING:
    from napari.qt.threading import FunctionWorker
    from napari.viewer import Viewer

    from ..session import Session


class OpenFromIDR(Container):
    """The dock: an IDR image id or OME-Zarr URL, opened lazily off the main thread."""

    def __init__(self, napari_viewer: Viewer) -> None:
        self.viewer = napari_viewer
        self.image_id = LineEdit(label="IDR image or URL")
        self.image_id.tooltip = ("An IDR image id (6001240), a path in the IDR's OME-Zarr tree "
                                 "(v0.5/idr0062A/6001240_labels), or any OME-Zarr URL")
        self.template = LineEdit(label="IDR URL", value=remote.IDR_URL_TEMPLATE.replace(
            "{host}", remote.IDR_HOST))
        self.template.tooltip = ("Where the IDR serves an image by its id alone; {image_id} "
                                 "is replaced")
        self.button = PushButton(text="Open")
        self.status = Label(value="")
        super().__init__(widgets=[self.image_id, self.template, self.button, self.status])
        self.button.changed.connect(self.open)
        self._worker: FunctionWorker[tuple[Session, list[tuple[Any, ...]]]] | None = None

    def target(self) -> str:
        """The URL to open: the text when it is a URL, else the IDR's URL of that image id."""
        text = self.image_id.value.strip()
        if remote.is_remote(text):
            return text
        return remote.idr_url(text, self.template.value.strip() or None)

    def open(self, *_: object) -> None:
        """Open the target's first scene in the viewer (the button's callback)."""
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        from .._napari.layers import scene_layer_data
        from ..errors import LightmicReadError
        from ..session import Session

        try:
            url = self.target()
        except ValueError as err:
            show_error(str(err))
            return
        self.status.value = f"Opening {url} …"
        self.button.enabled = False

        @thread_worker
        def load() -> tuple[Session, list[tuple[Any, ...]]]:
            session = Session.open(url)
            return session, scene_layer_data(session, session.effective_scene(0))

        def done(result: tuple[Session, list[tuple[Any, ...]]]) -> None:
            from .._napari.layer_group import follow_session
            from .._napari.view import add_layer_data

            session, layer_data = result
            add_layer_data(self.viewer, layer_data)
            follow_session(self.viewer, session)
            self.status.value = f"{len(session.source.scenes)} scene(s) from {url}"

        def failed(err: BaseException) -> None:
            message = str(err) if isinstance(err, LightmicReadError) else f"{url}: {err}"
            self.status.value = "Failed"
            show_error(message)

        def finished() -> None:
            self.button.enabled = True

        self._worker = load()
        self._worker.returned.connect(done)
        self._worker.errored.connect(failed)
        self._worker.finished.connect(finished)
        self._worker.start()
