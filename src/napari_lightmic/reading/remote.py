"""OME-Zarr over HTTP(S), with bounded waits, and IDR image ids mapped to their OME-Zarr URL."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import ClientTimeout

HTTP_PREFIXES = ("http://", "https://")
# Seconds before a silent server counts as failed (each request, and the whole request).
HTTP_TIMEOUT = float(os.environ.get("LIGHTMIC_HTTP_TIMEOUT", "30"))
# Where the IDR publishes an image as OME-Zarr; {image_id} is replaced. A setting, since
# the IDR's layout has changed between releases (e.g. .../zarr/v0.4/idr0062A/{image_id}.zarr).
IDR_URL_TEMPLATE = os.environ.get(
    "LIGHTMIC_IDR_URL", "https://uk1s3.embassy.ebi.ac.uk/idr/zarr/v0.4/{image_id}.zarr"
)


def is_remote(path: str | os.PathLike[str]) -> bool:
    """Not a local path: a URL of any scheme but file, or an IDR image id.

    Any scheme: http, https, s3, gs, ... The one definition the reader, the sidecar and
    Save as use.
    """
    text = str(path)
    return text.startswith("idr:") or ("://" in text and not text.lower().startswith("file://"))


def is_http(path: str | os.PathLike[str]) -> bool:
    """An HTTP(S) URL, read with bounded waits."""
    return str(path).lower().startswith(HTTP_PREFIXES)


def idr_url(image_id: str, template: str | None = None) -> str:
    """The OME-Zarr URL of an IDR image id (`IDR_URL_TEMPLATE` unless `template` is given).

    Raises
    ------
    ValueError
        If `image_id` is not a number.
    """
    image_id = image_id.strip()
    if not image_id.isdigit():
        raise ValueError(f"an IDR image id is a number, not {image_id!r}")
    return (template or IDR_URL_TEMPLATE).format(image_id=image_id)


def fs_kwargs() -> dict[str, dict[str, ClientTimeout]]:
    """The fsspec HTTP options: a time limit on every request, so a silent server cannot hang us."""
    import aiohttp

    seconds = HTTP_TIMEOUT
    return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=seconds,
                                                               sock_connect=seconds,
                                                               sock_read=seconds)}}
