"""OME-Zarr over HTTP(S), with bounded waits, and IDR image ids mapped to their OME-Zarr URL."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from aiohttp import ClientTimeout

HTTP_PREFIXES = ("http://", "https://")
# Seconds before a silent server counts as failed (each request, and the whole request).
HTTP_TIMEOUT = float(os.environ.get("LIGHTMIC_HTTP_TIMEOUT", "30"))
# Where the IDR publishes OME-Zarr (it moved from uk1s3.embassy.ebi.ac.uk, same layout below
# /idr/zarr/). A setting, for a mirror or a test server.
IDR_HOST = os.environ.get("LIGHTMIC_IDR_HOST", "https://livingobjects.ebi.ac.uk/idr/zarr")
# The IDR's hosts before the move: a URL on one of them gets the new host as a hint.
IDR_OLD_HOSTS = ("https://uk1s3.embassy.ebi.ac.uk/idr/zarr", "https://s3.embassy.ebi.ac.uk/idr/zarr")
# Where an image id alone is found; {host} and {image_id} are replaced. A setting, since
# the IDR files most images under their study (see `idr_url`).
IDR_URL_TEMPLATE = os.environ.get("LIGHTMIC_IDR_URL", "{host}/v0.4/{image_id}.zarr")


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


def idr_url(spec: str, template: str | None = None) -> str:
    """The OME-Zarr URL of an IDR image, given as what follows ``idr:``.

    - an image id, ``6001240``: `IDR_URL_TEMPLATE` (or `template`) with the id;
    - a path in the IDR's tree, ``v0.4/idr0062A/6001240`` or
      ``v0.5/idr0062A/6001240_labels.zarr``: that path on `IDR_HOST` (``.zarr`` added when
      missing), for the many images the IDR files under their study and NGFF version.

    Raises
    ------
    ValueError
        If `spec` is neither.
    """
    spec = spec.strip().strip("/")
    if _IDR_PATH.fullmatch(spec) and ".." not in spec.split("/"):
        return f"{IDR_HOST}/{quote(spec)}" + ("" if spec.endswith(".zarr") else ".zarr")
    if not spec.isdigit():
        raise ValueError(
            f"an IDR image is a number or a path such as v0.5/idr0062A/6001240, not {spec!r}")
    return (template or IDR_URL_TEMPLATE).format(host=IDR_HOST, image_id=spec)


def moved_hint(url: str) -> str | None:
    """Where a URL on the IDR's old host is now, for an error message; None for other URLs."""
    for old in IDR_OLD_HOSTS:
        if url.startswith(old + "/"):
            return f"the IDR's OME-Zarr moved: try {IDR_HOST}{url[len(old):]}"
    return None


# A path below the IDR's /idr/zarr/: an NGFF version folder, then names (no '..', no query)
_IDR_PATH = re.compile(r"v0\.\d+(/[\w.\- ()]+)+")


def fs_kwargs() -> dict[str, dict[str, ClientTimeout]]:
    """The fsspec HTTP options: a time limit on every request, so a silent server cannot hang us."""
    import aiohttp

    seconds = HTTP_TIMEOUT
    return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=seconds,
                                                               sock_connect=seconds,
                                                               sock_read=seconds)}}
