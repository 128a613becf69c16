"""What every format reader provides, and how a registry row finds its reader.

A reader is one module with a module-level ``READER`` implementing `FormatReader`; a row
of `napari_lightmic.formats.FORMATS` names that module (imported only when a file of the
format is claimed or opened, so the registry stays cheap to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..formats import FileFormat
    from ..model import ImageSource


@runtime_checkable
class FormatReader(Protocol):
    """One reader module's side of the contract.

    Attributes
    ----------
    library : str
        The library that reads the pixels (``ImageSource.reader``).

    Notes
    -----
    The leading bytes of each format are on its registry row (`FileFormat.magic`);
    `open_image` checks them before `open` is called. `open` reads no pixels: every level
    of every scene is lazy, a `ChunkedArray` of the file's chunks (`axes.chunked_array`) or,
    where the reader goes on with dask's operations (a plate's mosaic of fields), its
    `to_dask()`; the acquisition facts the reader parses from the vendor's metadata come as
    ``ImageSource.acquisition_factory``, built when called.
    """

    library: str

    def claims(self, path: str, fmt: FileFormat) -> bool:
        """Whether a local path whose extension names `fmt` is one this reader opens.

        Parameters
        ----------
        path : str
            A local file or folder.
        fmt : FileFormat
            The registry row the path's extension names.

        Returns
        -------
        bool
            False for files that share the extension but are not the format (an XML
            file that is not a BigDataViewer dataset).
        """
        ...

    def open(self, path: str, fmt: FileFormat) -> ImageSource:
        """Open `path` read-only and describe every scene, reading no pixels.

        Parameters
        ----------
        path : str
            A local path, or a URL for readers of remote data.
        fmt : FileFormat
            The registry row of the format.

        Returns
        -------
        ImageSource
            Complete scenes; the source's handles are closed by ``ImageSource.close``.
        """
        ...


class ReaderBase:
    """A reader that claims every path its extension names to it."""

    library = ""

    def claims(self, path: str, fmt: FileFormat) -> bool:
        """Every path with the format's extension (see `FormatReader.claims`)."""
        return True


def reader_for(fmt: FileFormat) -> FormatReader:
    """The reader a registry row names, imported on first use.

    Parameters
    ----------
    fmt : FileFormat
        A row of `napari_lightmic.formats.FORMATS`.

    Returns
    -------
    FormatReader
        The ``READER`` of the module ``fmt.reader``.

    Raises
    ------
    TypeError
        If the module's ``READER`` does not implement `FormatReader`.
    """
    module = importlib.import_module(fmt.reader)
    reader = getattr(module, "READER", None)
    if not isinstance(reader, FormatReader):
        raise TypeError(f"{fmt.reader} has no READER implementing FormatReader")
    return reader
