"""napari-lightmic: format-aware viewing, annotation and saving of light-microscopy data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import LightmicError, LightmicReadError, SidecarError, WriteError

if TYPE_CHECKING:
    from ._napari.view import view
    from .reading import open_image

__version__ = "0.1.0"
__all__ = ["open_image", "view", "LightmicError", "LightmicReadError", "WriteError",
           "SidecarError", "__version__"]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the attribute asked for, of any type
    """`open_image` and `view`, imported when first used.

    The readers pull in dask and the napari side pulls in napari: the command line and
    `import napari_lightmic.errors` need neither.
    """
    if name == "open_image":
        from .reading import open_image

        return open_image
    if name == "view":
        from ._napari.view import view

        return view
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
