"""Which session, scene and channel a layer shows.

Every layer this plugin makes carries one typed reference, `LayerRef`, under
``layer.metadata["lightmic"]``; the Metadata dock, the Scenes dock and Save as find layers
through it, by identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from napari.layers import Layer

    from ..model import Scene
    from ..session import Session

KEY = "lightmic"


@dataclass(frozen=True, eq=False)
class LayerRef:
    """The session, scene index and channel index (None: not one channel) a layer shows.

    Copies of a layer (napari duplicates layers by deep copy) refer to the same session.
    """

    session: Session
    scene: int
    channel: int | None = None
    # The contrast the layer opened with: the file's display range where it records one,
    # else the estimate from its pixels (what "Reset to the file's display range" restores)
    display_range: tuple[float, float] | None = None

    def __copy__(self) -> LayerRef:
        """The same reference: a copied layer shows the same session."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LayerRef:
        """The same reference: a duplicated layer shows the same session."""
        return self

    @property
    def effective_scene(self) -> Scene:
        """The scene as the user edited it."""
        return self.session.effective_scene(self.scene)


def ref_of(layer: Layer) -> LayerRef | None:
    """The reference of a layer this plugin opened (None for other layers)."""
    meta = getattr(layer, "metadata", None) or {}
    ref = meta.get(KEY) if isinstance(meta, dict) else None
    return ref if isinstance(ref, LayerRef) else None
