"""Whole collections: audit and convert folders of microscopy files (Qt-free).

`convert` converts a collection on dask.distributed, resumably (`engine.convert`);
`audit.audit` describes every dataset of a collection (format, metadata, privacy, advice);
`find_datasets` says which datasets files, folders and globs hold (a multi-file dataset
once); `report.write_reports` writes a batch's job records as JSON, CSV and a self-contained
HTML page. dask.distributed is imported only by the functions that use a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .discover import Dataset, find_datasets
    from .engine import Report, convert

# `audit` is the module: its function is `audit.audit` (a package attribute named as a
# submodule is replaced by the submodule once that is imported)
__all__ = ["Dataset", "Report", "convert", "find_datasets"]

_HOMES = {"Dataset": "discover", "find_datasets": "discover",
          "convert": "engine", "Report": "engine"}


def __getattr__(name: str) -> object:
    """The public names, each imported from its module when first used."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
