"""`lightmic validate`: an OME-Zarr against NGFF 0.4 / 0.5, an OME-TIFF against the OME schema.

An OME-Zarr group is judged in three layers, each reporting what breaks the specification:

1. **The specification's own JSON schemas** (`ngff_schemas/0.4`, `ngff_schemas/0.5`, copied
   unchanged from github.com/ome/ngff-spec; see `ngff_schemas/NOTICE.md`). The schema follows
   the group's metadata: `multiscales` is an image, `image-label` a label image,
   `plate`, `well`, `bioformats2raw.layout` and `series` (the `OME` group) their own schemas.
   `strict=True` (`lightmic validate --strict`) uses the spec's *strict* schemas, which also
   demand what the spec says a writer SHOULD give (a version, a plate's name, the
   multiscale's name/type/metadata, a label's colours). A zarr v2 group is read as NGFF 0.4
   (attributes at the top level), a zarr v3 group as NGFF 0.5 (attributes under `"ome"`).
2. **ome-zarr-models' attribute models** for the same metadata, where the schema found nothing
   (so one mistake is said once). They check the rules of the spec's text that JSON schema
   cannot express: as many `scale`/`translation` values as axes, axes ordered time, channel,
   space, unique axis names, levels ordered from the largest, a well's `path` being its row
   name, "/", its column name. Not for `image-label`: ome-zarr-models demands an `rgba` for
   every colour, which the spec leaves optional; here the spec's text is checked directly
   (integer label values, none twice).
3. **The hierarchy**, where it exists: each level's array (dimensions = axes, one dtype for
   every level, integers in a label image, NGFF 0.4's `/` chunk keys), the `labels` group and
   its label images, a bioformats2raw layout's images, a plate's wells and a well's fields.
   A group whose metadata names arrays or groups that are all absent is metadata only (as in
   the spec's test suites) and is judged on its metadata; a partly present hierarchy is not.

Why the schemas first: over the spec's own test suites (tests/data/ngff-spec, 92 cases for
0.4, 86 for 0.5) the schemas agree with every expected verdict but one (0.5
`well_path_has_column_before_row`, which the spec's CI also marks as beyond JSON schema);
ome-zarr-models' attribute models alone disagree with 23 (12 of 0.4, 11 of 0.5: they accept
bad `omero` windows and colours, negative plate timestamps, a well without images, refuse a
label group without `multiscales`, and have no strict mode). Together they agree
with every case except six 0.4 cases that break the spec's own text (a 3-axis image with
2 scale values, plates whose well paths are column/row); the 0.5 suite corrected the same cases
(ngff-spec pull request 124). tests/writing/test_ngff_conformance.py marks them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zarr
    from jsonschema import Draft202012Validator
    from pydantic import BaseModel
    from pydantic_core import ErrorDetails
    from referencing import Registry

SCHEMAS = Path(__file__).with_name("ngff_schemas")

# The metadata key that makes a group each kind, and the spec schema for the kind.
KINDS = {"multiscales": "image", "image-label": "label", "plate": "plate", "well": "well",
         "bioformats2raw.layout": "bf2raw", "series": "ome", "labels": "labels"}
SCHEMA_FILES = {"image": "image", "label": "label", "plate": "plate", "well": "well",
                "bf2raw": "bf2raw", "ome": "ome"}
STRICT = {"image", "label", "plate", "well"}
SEPARATOR_NOTE = 'NGFF 0.4 requires "/" (zarr-2 clients read every chunk as missing)'


def validate(path: str | os.PathLike[str], *, strict: bool = False) -> list[str]:
    """Problems that make a file break its specification; an empty list means valid.

    ``strict`` also demands what the NGFF spec says an OME-Zarr SHOULD carry (its strict
    schemas); it does not change how an OME-TIFF is judged.

    Raises
    ------
    WriteError
        The path names neither an OME-Zarr folder nor an OME-TIFF file.
    """
    found = Path(path)
    if not found.exists():
        return [f"{found}: no such file or folder"]
    kind = checked_format(found)
    return _validate_zarr(found, strict) if kind == "OME-Zarr" else _validate_tiff(found)


def checked_format(path: str | os.PathLike[str]) -> str:
    """What `validate` checks the path as: "OME-Zarr" or "OME-TIFF".

    By its name, or, for a folder of another name, by its NGFF metadata (`formats.format_of`).

    Raises
    ------
    WriteError
        The path is neither.
    """
    from ..errors import WriteError
    from ..formats import format_of
    from .options import target_format

    try:
        return target_format(path)
    except WriteError:
        fmt = format_of(path)
        if fmt is not None and fmt.name == "OME-Zarr":
            return fmt.name
        raise WriteError(path, "validate checks an OME-Zarr folder (*.ome.zarr, *.zarr, or "
                         "any folder with NGFF metadata) or an OME-TIFF file (*.ome.tif, "
                         "*.ome.tiff), not this file") from None


def _validate_zarr(path: Path, strict: bool = False) -> list[str]:
    import zarr

    try:
        root = zarr.open_group(str(path), mode="r")
    except Exception as exc:  # noqa: BLE001 whatever zarr fails on, the finding is the same
        return [f"not a Zarr group: {exc}"]
    checker = _ZarrChecker(path, strict)
    checker.group(root, "", expect=None)
    return checker.problems


class _ZarrChecker:
    def __init__(self, root: Path, strict: bool) -> None:
        self.root = root
        self.strict = strict
        self.problems: list[str] = []

    def say(self, where: str, text: str) -> None:
        self.problems.append(f"{where.rstrip('/')}: {text}" if where else text)

    # -- one group ---------------------------------------------------------------------------
    def group(self, group: zarr.Group, where: str, expect: str | None) -> None:
        """Check one group; ``expect`` is the kind its parent says it is (None at the root)."""
        version = "0.5" if group.metadata.zarr_format == 3 else "0.4"
        attrs = dict(group.attrs)
        meta = self._ngff_metadata(attrs, version, where)
        if meta is None:
            return
        kinds = [kind for key, kind in KINDS.items() if key in meta]
        if not kinds:
            what = f"a {expect} group" if expect else "OME-Zarr metadata"
            self.say(where, f"no {what} here (none of "
                     + ", ".join(repr(k) for k in KINDS) + " in the attributes)")
            return
        if expect and expect not in kinds:
            self.say(where, f"should be {_article(expect)} group but has "
                     + ", ".join(sorted(set(kinds))) + " metadata")
        for kind in kinds:
            before = len(self.problems)
            if kind in SCHEMA_FILES:
                self._schema(kind, attrs, version, where)
            if len(self.problems) == before:
                self._model(kind, meta, version, where)
            if kind == "label" and len(self.problems) == before:
                self._label_values(meta, version, where)
        self._hierarchy(group, meta, kinds, version, where)

    def _hierarchy(self, group: zarr.Group, meta: dict[str, Any], kinds: list[str],
                   version: str, where: str) -> None:
        """The arrays and child groups the metadata names, where they are present."""
        if "image" in kinds:
            self._levels(group, meta, version, where, label="label" in kinds)
            self._labels(group, where)
        if "bf2raw" in kinds:
            self._bioformats2raw(group, where, plate="plate" in kinds)
        if "plate" in kinds:
            self._children(group, where, _paths(meta.get("plate", {}).get("wells")), "well")
        if "well" in kinds:
            self._children(group, where, _paths(meta.get("well", {}).get("images")), "image")
        if "labels" in kinds and isinstance(meta.get("labels"), list):
            self._children(group, where, [n for n in meta["labels"] if isinstance(n, str)],
                           "label")

    def _ngff_metadata(self, attrs: dict[str, Any], version: str,
                       where: str) -> dict[str, Any] | None:
        ome = attrs.get("ome")
        if version == "0.5":
            if isinstance(ome, dict):
                return ome
            if any(key in attrs for key in KINDS):
                self.say(where, "NGFF metadata at the top level of a zarr v3 group's attributes;"
                         ' NGFF 0.5 keeps it under "ome" (NGFF 0.4 needs a zarr v2 group)')
            else:
                self.say(where, 'no OME-Zarr metadata here (no "ome" in the attributes)')
            return None
        if isinstance(ome, dict):
            self.say(where, 'an "ome" attribute in a zarr v2 group: NGFF 0.5 needs zarr v3 '
                     "(zarr.json), NGFF 0.4 keeps its metadata at the top level")
            return None
        return attrs

    def _schema(self, kind: str, attrs: dict[str, Any], version: str, where: str) -> None:
        name = SCHEMA_FILES[kind]
        if self.strict and kind in STRICT:
            name = "strict_" + name
        validator = _validator(version, name)
        errors = sorted(validator.iter_errors(attrs), key=lambda e: list(map(str, e.path)))
        for error in errors:
            self.say(where, f"{_json_path(error.absolute_path)}: {_short(error.message)} "
                     f"(NGFF {version} {name} schema)")

    def _model(self, kind: str, meta: dict[str, Any], version: str, where: str) -> None:
        model = _model(version, kind)
        if model is None:
            return
        import warnings

        from pydantic import ValidationError

        try:
            with warnings.catch_warnings():  # its notes on absent versions: the schema's say
                warnings.simplefilter("ignore")
                model.model_validate(meta)
        except ValidationError as exc:
            prefix = ["ome"] if version == "0.5" else []
            for error in exc.errors():
                loc = _json_path(prefix + list(error["loc"]))
                self.say(where, f"{loc}: {_short(_pydantic_message(error))}")

    def _label_values(self, meta: dict[str, Any], version: str, where: str) -> None:
        """The spec's text on `image-label` colours that its schema leaves out.

        Each `label-value` is an integer, and none is given twice.
        """
        colors = meta["image-label"].get("colors") if isinstance(meta["image-label"], dict) \
            else None
        seen = set()
        for i, color in enumerate(colors if isinstance(colors, list) else []):
            value = color.get("label-value") if isinstance(color, dict) else None
            loc = _json_path((["ome"] if version == "0.5" else [])
                             + ["image-label", "colors", i, "label-value"])
            if not isinstance(value, int) or isinstance(value, bool):
                if not (isinstance(value, float) and value.is_integer()):
                    self.say(where, f"{loc}: {value!r} is not an integer")
                    continue
            if value in seen:
                self.say(where, f"{loc}: {value!r} is given twice; label values are unique")
            seen.add(value)

    # -- arrays ------------------------------------------------------------------------------
    def _levels(self, group: zarr.Group, meta: dict[str, Any], version: str, where: str,
                label: bool) -> None:
        import zarr

        multiscales = meta.get("multiscales")
        for m, multiscale in enumerate(multiscales if isinstance(multiscales, list) else []):
            if not isinstance(multiscale, dict):
                continue
            axes = multiscale.get("axes") if isinstance(multiscale.get("axes"), list) else None
            datasets: list[str] = [d["path"] for d in multiscale.get("datasets") or []
                                   if isinstance(d, dict) and isinstance(d.get("path"), str)]
            nodes = {path: _child(group, path) for path in datasets}
            if all(node is None for node in nodes.values()):
                continue  # metadata only: nothing to compare the metadata with
            first = None
            for path, node in nodes.items():
                here = f"{where}{path}"
                if node is None:
                    self.say(here, f"no array here, but multiscales[{m}].datasets names it")
                    continue
                if not isinstance(node, zarr.Array):
                    self.say(here, "a group, but multiscales datasets must be arrays")
                    continue
                if axes is not None and node.ndim != len(axes):
                    self.say(here, f"{node.ndim} dimensions, but multiscales[{m}] has "
                             f"{len(axes)} axes")
                dtype = str(node.dtype)
                if first is None:
                    first = (path, dtype)
                elif dtype != first[1]:
                    self.say(here, f"dtype {dtype}, but level {first[0]!r} is {first[1]}; "
                             "every level of a multiscale has one data type")
                if label and node.dtype.kind not in "iu":
                    self.say(here, f"dtype {dtype}: label images must hold integers")
                if version == "0.4":
                    self._dimension_separator(here)

    def _dimension_separator(self, here: str) -> None:
        zarray = self.root / here / ".zarray"
        try:
            meta = json.loads(zarray.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # not a local v2 array: nothing to read
        separator = meta.get("dimension_separator")
        if separator == "/":
            return
        if separator is None:
            self.say(f"{here}/.zarray", 'no dimension_separator, which means "." in zarr v2 '
                     f"— {SEPARATOR_NOTE}")
        else:
            self.say(f"{here}/.zarray", f"dimension_separator {json.dumps(separator)} — "
                     f"{SEPARATOR_NOTE}")

    # -- child groups ------------------------------------------------------------------------
    def _labels(self, group: zarr.Group, where: str) -> None:
        if "labels" in _group_keys(group):
            self.group(_as_group(group["labels"]), f"{where}labels/", expect="labels")

    def _bioformats2raw(self, group: zarr.Group, where: str, plate: bool = False) -> None:
        """The numbered image groups, or, with a plate, the plate's fields (checked as its)."""
        keys = _group_keys(group)
        images = [] if plate else sorted((k for k in keys if k.isdigit()), key=int)
        if not images and not plate:
            self.say(where, "bioformats2raw layout without any image group (0, 1, …)")
        for key in images:
            self.group(_as_group(group[key]), f"{where}{key}/", expect="image")
        if "OME" in keys and "series" in _ngff_keys(_as_group(group["OME"])):
            self.group(_as_group(group["OME"]), f"{where}OME/", expect="ome")

    def _children(self, group: zarr.Group, where: str, paths: list[str], kind: str) -> None:
        """A plate's wells, a well's fields, a labels group's images: each checked if present.

        None present is metadata only; some present, the others are missing.
        """
        import zarr

        nodes = {path: _child(group, path) for path in paths}
        if all(node is None for node in nodes.values()):
            return
        for path, node in nodes.items():
            here = f"{where}{path}/"
            if node is None:
                self.say(here, f"no {kind} group here, but the metadata names it")
            elif not isinstance(node, zarr.Group):
                self.say(here, f"an array, but the metadata names it as {_article(kind)} group")
            else:
                self.group(node, here, expect="image" if kind == "label" else kind)


def _validate_tiff(path: Path) -> list[str]:
    import ome_types
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            xml = tif.ome_metadata
    except Exception as exc:  # noqa: BLE001 whatever tifffile fails on, the finding is the same
        return [f"not a readable TIFF: {exc}"]
    if not xml:
        return ["no OME-XML in the first page's ImageDescription"]
    try:
        ome_types.validate_xml(xml)
    except Exception as exc:  # noqa: BLE001 the XML schema's verdict, of whichever parser
        return [_first_lines(exc)]
    return []


# -- helpers ---------------------------------------------------------------------------------
@cache
def _registry(version: str) -> Registry:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for file in sorted((SCHEMAS / version).glob("*.schema")):
        schema = json.loads(file.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(
            schema, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def _validator(version: str, name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / version / f"{name}.schema").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=_registry(version))


# ome-zarr-models' attributes model of each kind: (module, class) in v04 and v05 alike. No
# model for `image-label`: ome-zarr-models requires an `rgba` for every colour, which the spec
# makes optional; the schema and _label_values judge it.
MODELS = {"image": ("image", "ImageAttrs"), "plate": ("hcs", "HCSAttrs"),
          "well": ("well", "WellAttrs"), "bf2raw": ("bioformats2raw", "BioFormats2RawAttrs"),
          "labels": ("labels", "LabelsAttrs")}


def _model(version: str, kind: str) -> type[BaseModel] | None:
    """The ome-zarr-models attributes model for a kind of group (None where it has none)."""
    from importlib import import_module

    if kind not in MODELS:
        return None
    module, name = MODELS[kind]
    package = "ome_zarr_models.v04" if version == "0.4" else "ome_zarr_models.v05"
    model: type[BaseModel] = getattr(import_module(f"{package}.{module}"), name)
    return model


def _pydantic_message(error: ErrorDetails) -> str:
    message = error.get("msg", "")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    text = ""
    for line in (line.strip() for line in message.splitlines()):
        if line:
            text += (" " if not text or text.endswith(":") else "; ") + line
    return text.strip()


def _child(group: zarr.Group, path: str) -> zarr.Array[Any] | zarr.Group | None:
    try:
        return group[path]
    except Exception:  # noqa: BLE001 absent, or a node zarr cannot open: no level here either way
        return None


def _as_group(node: zarr.Array[Any] | zarr.Group) -> zarr.Group:
    """A node listed among a group's child groups, as the group it is."""
    import zarr

    if not isinstance(node, zarr.Group):
        raise TypeError(f"{node} is not a group")
    return node


def _group_keys(group: zarr.Group) -> list[str]:
    try:
        return list(group.group_keys())
    except Exception:  # noqa: BLE001 children zarr cannot list are children not found
        return []


def _ngff_keys(group: zarr.Group) -> set[str]:
    attrs = dict(group.attrs)
    ome = attrs.get("ome")
    return set(ome) if isinstance(ome, dict) else set(attrs)


def _paths(items: object) -> list[str]:
    return [item["path"] for item in items or [] if isinstance(item, dict)
            and isinstance(item.get("path"), str)] if isinstance(items, list) else []


def _json_path(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "attributes"


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_lines(exc: Exception, n: int = 6) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " / ".join(lines[:n])
