"""The reader's toasts: stacked in the canvas corner as it shrinks, gone at the next file.

napari places each toast at the canvas's bottom-right corner when it is made, on top of the
toasts already there (they show through it), and moves it only if the canvas has a `resized`
signal, which vispy's Qt canvas has not. A file opened through the reader shrinks the canvas
just after its toast is made (dims sliders for the new layers, the Scenes dock), which would
leave the toast half outside the canvas, cut off. And napari starts a toast's dismiss timer
only if the window is active (it is not while a file is being dropped from a file manager):
such toasts stay until closed, under those of the next file.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from qtpy.QtCore import QAbstractAnimation, QEvent, QObject, QPoint, QRect
from qtpy.QtWidgets import QWidget

if TYPE_CHECKING:
    from napari.utils.notifications import Notification
    from napari.viewer import Viewer


class ToastAnchor(QObject):
    """An event filter on the canvas: at each resize, its toasts go back to its corner.

    It also remembers the toasts this plugin showed on the canvas.
    """

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self.ours: weakref.WeakSet[QWidget] = weakref.WeakSet()

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
        """Move the canvas's toasts to its corner after a resize; let every event through."""
        if isinstance(watched, QWidget) and event is not None \
                and event.type() == QEvent.Type.Resize:
            stack(watched)
        return False


def say(notifications: list[Notification], viewer: Viewer | None) -> None:
    """Dispatch the notifications, closing this plugin's earlier toasts on the canvas.

    Their toasts stay in the canvas corner as the canvas shrinks.
    """
    from napari.utils.notifications import notification_manager

    anchor = _anchor(viewer) if viewer is not None else None
    before: set[QWidget] = set()
    if anchor is not None:
        for toast in list(anchor.ours):
            try:
                toast.close()
            except RuntimeError:  # closed by the user already, and deleted
                continue
        before = set(_toasts(anchor.parent()))
    for notification in notifications:
        notification_manager.dispatch(notification)
    if anchor is not None:
        canvas = anchor.parent()
        anchor.ours.update(set(_toasts(canvas)) - before)
        if isinstance(canvas, QWidget):
            stack(canvas)


def _toasts(canvas: QObject | None) -> list[QWidget]:
    """The napari toasts on a canvas."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    return list(canvas.findChildren(NapariQtNotification)) if canvas is not None else []


def _anchor(viewer: Viewer) -> ToastAnchor | None:
    """The anchor of this viewer's canvas (installed on first use); None without a window."""
    qt_viewer = getattr(viewer.window, "_qt_viewer", None)  # napari has no public way
    canvas = getattr(getattr(qt_viewer, "canvas", None), "native", None)
    if not isinstance(canvas, QWidget):
        return None
    anchor = canvas.findChild(ToastAnchor)
    if anchor is None:
        anchor = ToastAnchor(canvas)
        canvas.installEventFilter(anchor)
    return anchor


def stack(canvas: QWidget) -> None:
    """Stack the canvas's visible toasts in its bottom-right corner.

    The newest lowest, each older one above it; also where each is sliding in to.
    """
    margin, gap = 8, 4  # napari's offset from the corner
    bottom = canvas.height() - margin
    for toast in reversed([t for t in _toasts(canvas) if t.isVisible()]):
        target = QRect(QPoint(canvas.width() - toast.width() - margin,
                              bottom - toast.height()), toast.size())
        slide = getattr(toast, "geom_anim", None)
        if slide is not None and slide.state() == QAbstractAnimation.State.Running:
            slide.setEndValue(target)
        else:
            toast.setGeometry(target)
        bottom = target.top() - gap
