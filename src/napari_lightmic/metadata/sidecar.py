"""The user's edits, kept beside the source as `<file>.lightmic.json`; the source is never written.

The sidecar holds only what differs from what the file itself says, so a record is always
"the file's metadata, then the sidecar on top". A sidecar that cannot be read is reported
and left as it is: it is never overwritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import SidecarError
from ..paths import fitted_name, name_max
from .record import SCHEMA_ID, SCHEMA_VERSION, MetadataRecord, explain

SUFFIX = ".lightmic.json"
MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # edits of a few scenes take kilobytes


def sidecar_path(source_path: str | os.PathLike[str]) -> Path | None:
    """Where the sidecar of a local source lives; None for remote sources."""
    from ..reading.remote import is_remote

    if is_remote(source_path):
        return None
    path = Path(str(source_path).rstrip("/\\") + SUFFIX)
    return path.with_name(fitted_name(path.name, name_max(path.parent), SUFFIX))


def read_edits(source_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The edits stored beside `source_path` ({} when there is no sidecar).

    SidecarError naming the file and the problem when it is not a valid sidecar.
    """
    from ..reading.files import read_regular

    path = sidecar_path(source_path)
    if path is None or not path.exists():
        return {}
    try:
        raw = read_regular(path, MAX_SIDECAR_BYTES)  # never a FIFO or device, never unbounded
    except FileNotFoundError:
        return {}  # removed since it was seen
    except ValueError as exc:
        raise SidecarError(path, str(exc).removeprefix(f"{path} ")) from None
    except OSError as exc:
        raise SidecarError(path, f"cannot be read ({exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SidecarError(path, f"cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise SidecarError(path, f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # numbers of thousands of digits, deep nesting
        raise SidecarError(path, f"cannot be read as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise SidecarError(path, "is not a JSON object")
    version = data.pop("lightmic_metadata", None)
    data.pop("$schema", None)
    if version != SCHEMA_VERSION:
        raise SidecarError(path, f"has schema version {version!r}; this plugin reads "
                                 f"version {SCHEMA_VERSION!r}")
    try:
        MetadataRecord.model_validate(data)
    except ValidationError as exc:
        raise SidecarError(path, "does not match the schema: " + "; ".join(explain(exc))) \
            from None
    except (ValueError, RecursionError, TypeError) as exc:
        raise SidecarError(path, f"does not match the schema ({type(exc).__name__})") from None
    return data


def merged(base: MetadataRecord, edits: dict[str, Any]) -> MetadataRecord:
    """`base` with `edits` laid over it."""
    return MetadataRecord.model_validate(_merge(base.model_dump(mode="json"), edits))


def difference(base: MetadataRecord, record: MetadataRecord) -> dict[str, Any]:
    """What `record` changes of `base`, as a sidecar stores it."""
    changed = _diff(base.model_dump(mode="json"), record.model_dump(mode="json"))
    return changed if isinstance(changed, dict) else {}


def write_edits(source_path: str | os.PathLike[str], base: MetadataRecord,
                record: MetadataRecord) -> Path:
    """Save what `record` changes of `base` beside `source_path` (atomically).

    An existing sidecar that is not valid is not replaced: SidecarError says so.
    """
    path = sidecar_path(source_path)
    if path is None:
        raise SidecarError(source_path, "is not a local file: edits cannot be saved beside it")
    if path.exists():
        try:
            read_edits(source_path)
        except SidecarError as exc:
            raise SidecarError(path, f"{exc.problem}; it was left untouched — fix or move it "
                                     "to save edits") from None
    data = {"$schema": SCHEMA_ID, "lightmic_metadata": SCHEMA_VERSION,
            **difference(base, record)}
    from ..errors import WriteError
    from ..writing.common import write_text_atomic

    try:
        return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except WriteError as err:
        raise SidecarError(path, err.cause) from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        key = str(key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


_SAME = object()


def _prune(value: object) -> object:
    """`value` without its empty parts (_SAME if nothing is left)."""
    if isinstance(value, dict):
        kept = {k: v for k, v in ((k, _prune(v)) for k, v in value.items()) if v is not _SAME}
        return kept or _SAME
    return _SAME if value in (None, [], "") else value


def _diff(base: object, new: object) -> object:
    """What changed from `base` to `new` (dicts compared key by key), or _SAME."""
    if isinstance(base, dict) and isinstance(new, dict):
        out: dict[str, object] = {}
        for key, value in new.items():
            if key not in base:
                value = _prune(value)
                if value is not _SAME:
                    out[key] = value
                continue
            changed = _diff(base[key], value)
            if changed is not _SAME:
                out[key] = changed
        return out or _SAME
    return _SAME if base == new else new
