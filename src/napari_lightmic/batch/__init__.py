"""Whole collections: audit and convert folders of microscopy files (Qt-free).

`audit` describes every dataset of a collection (format, metadata, privacy, advice);
`report.write_reports` writes a batch's job records as JSON, CSV and a self-contained HTML
page. dask.distributed is imported only by the functions that use a cluster.
"""

from __future__ import annotations

from typing import Any

__all__ = ["audit"]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the attribute asked for, of any type
    """`audit`, imported when first used."""
    if name == "audit":
        from .audit import audit

        return audit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
