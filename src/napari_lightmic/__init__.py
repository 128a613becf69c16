"""napari-lightmic: format-aware viewing, annotation and saving of light-microscopy data."""

from ._napari.view import view
from .errors import LightmicError, LightmicReadError, SidecarError, WriteError
from .reading import open_image

__version__ = "0.1.0"
__all__ = ["open_image", "view", "LightmicError", "LightmicReadError", "WriteError",
           "SidecarError", "__version__"]
