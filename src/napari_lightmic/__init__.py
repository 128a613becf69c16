"""napari-lightmic: format-aware viewing, annotation and saving of light-microscopy data."""

from .errors import LightmicReadError
from .reading import open_image

__version__ = "0.1.0"
__all__ = ["open_image", "LightmicReadError", "__version__"]
