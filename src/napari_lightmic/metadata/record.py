"""The metadata record, one pydantic model with a versioned JSON Schema in the package.

It holds the REMBI modules, the user's corrections of image and channel metadata, and the
privacy decision. A record is built from the file (prefill.py), merged with the user's
edits (sidecar.py) and validated here, with messages a person can act on.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from ..errors import RefusedEdit as Refused

if TYPE_CHECKING:
    from .edam import Term

SCHEMA_VERSION: Final = "1"
SCHEMA_ID = f"https://napari-lightmic.github.io/schema/metadata-record/{SCHEMA_VERSION}.json"
# the units offered first; any length or time unit of `units.UNITS` is accepted
LENGTH_UNITS = ("nm", "µm", "mm", "cm", "m", "Å", "pixel")
TIME_UNITS = ("ms", "s", "min", "h")
LICENCES = ("CC0 1.0", "CC BY 4.0", "CC BY-SA 4.0", "CC BY-NC 4.0", "CC BY-NC-SA 4.0",
            "CC BY-ND 4.0", "CC BY-NC-ND 4.0")


class Section(BaseModel):
    """The base of every section: no unknown fields, assignments validated, text stripped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              str_strip_whitespace=True)


class EdamTerm(Section):
    """An EDAM-bioimaging term: label and IRI; the IRI must be in the shipped vocabulary."""

    label: str
    iri: str

    @field_validator("iri")
    @classmethod
    def _known(cls, value: str) -> str:
        from .edam import term

        return term(value).iri  # ValueError naming the id when EDAM has no such term


class Person(Section):
    """An author: name, and optionally e-mail, ORCID and affiliation."""

    name: str = Field(min_length=1)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    orcid: str | None = Field(default=None, pattern=r"^(https://orcid.org/)?\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
    affiliation: str | None = None


class Study(Section):
    """REMBI Study: what the data set is, who made it, and under which licence."""

    title: str | None = None
    description: str | None = None
    keywords: list[str] = []
    authors: list[Person] = []
    licence: str | None = Field(default=None, description="e.g. " + ", ".join(LICENCES))
    public_release_date: date | None = None
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")


class StudyComponent(Section):
    """REMBI Study Component: one part of a study."""

    name: str | None = None
    description: str | None = None


class Biosample(Section):
    """REMBI Biosample: the organism and biological entity imaged, and the variables."""

    organism: str | None = Field(default=None, description="scientific name, e.g. Homo sapiens")
    ncbi_taxon: str | None = Field(default=None, pattern=r"^(NCBITaxon_)?\d+$",
                                   description="NCBI taxonomy id, e.g. 9606")
    biological_entity: str | None = Field(default=None, description="e.g. HeLa cells, mouse brain")
    intrinsic_variables: str | None = None
    extrinsic_variables: str | None = None
    experimental_variables: str | None = None


class Specimen(Section):
    """REMBI Specimen: how the sample was prepared and what gives the signal."""

    preparation_protocol: str | None = None
    signal_contrast_mechanism: str | None = Field(default=None, description="e.g. fluorescence")
    channel_content: str | None = Field(default=None, description="what each channel shows")


class ImageAcquisition(Section):
    """REMBI Image Acquisition: method, instrument, objective, detector, date, mode."""

    imaging_method: EdamTerm | None = None
    instrument: str | None = None
    objective: str | None = None
    detector: str | None = None
    acquisition_date: str | None = None
    imaging_mode: str | None = None


class ImageData(Section):
    """REMBI Image Data: image type, file format, dimensions, sizes and channels."""

    image_type: str | None = Field(default=None, description="e.g. raw, processed")
    file_format: str | None = None
    dimensions: str | None = None
    physical_pixel_sizes: str | None = None
    channels: str | None = None


class Rembi(Section):
    """The REMBI modules of a record."""

    study: Study = Study()
    study_component: StudyComponent = StudyComponent()
    biosample: Biosample = Biosample()
    specimen: Specimen = Specimen()
    image_acquisition: ImageAcquisition = ImageAcquisition()
    image_data: ImageData = ImageData()


Wavelength = Annotated[float, Field(gt=100, lt=3000, description="nm, 100–3000")]


class ChannelEdit(Section):
    """The user's corrections of one channel (unset fields keep the file's)."""

    name: str | None = Field(default=None, min_length=1)
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
    excitation_nm: Wavelength | None = None
    emission_nm: Wavelength | None = None
    fluor: str | None = None


class RoiEdit(Section):
    """A region of interest the user added to a scene (`napari_lightmic.rois.Roi`'s JSON)."""

    kind: Literal["rectangle", "ellipse", "polygon", "polyline", "line", "point"]
    points: list[tuple[float, float]] = Field(
        min_length=1, description="(x, y) vertices in full-resolution pixels")
    z: int | None = Field(default=None, ge=0)
    t: int | None = Field(default=None, ge=0)
    c: int | None = Field(default=None, ge=0)
    name: str | None = None
    stroke: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{8}$")
    fill: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{8}$")

    @model_serializer(mode="wrap")
    def _set_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only the fields set: a sidecar says `"z": 3`, not `"t": null` beside it."""
        return {k: v for k, v in handler(self).items() if v is not None}

    @model_validator(mode="after")
    def _a_roi(self) -> RoiEdit:
        """The ROI model's own rules (vertices per kind, finite numbers): one home for them."""
        from ..rois.model import Roi

        Roi.from_dict(self.model_dump())  # its ValueError is this edit's validation error
        return self


class SceneEdit(Section):
    """The user's corrections of one scene: pixel sizes, units, channels, added ROIs."""

    physical_pixel_sizes: dict[Literal["X", "Y", "Z", "T"],
                               Annotated[float, Field(gt=0, lt=1e9)]] = {}
    units: dict[Literal["X", "Y", "Z", "T"], str] = {}
    channels: dict[int, ChannelEdit] = {}
    rois: list[RoiEdit] = Field(
        default=[], description="regions of interest added to the file's own (imported "
        "from GeoJSON); exports write both")

    @field_validator("units")
    @classmethod
    def _units(cls, value: dict[str, str]) -> dict[str, str]:
        from ..units import is_length, is_time, symbol

        out: dict[str, str] = {}
        for axis, unit in value.items():
            fits = is_time(unit) if axis == "T" else is_length(unit)
            if not fits:
                common = TIME_UNITS if axis == "T" else LENGTH_UNITS
                raise ValueError(f"{unit!r} is not a unit for {axis} (e.g. "
                                 + ", ".join(common) + ")")
            out[axis] = symbol(unit) or unit  # a unit that fits has a symbol
        return out


class Privacy(Section):
    """The privacy decision: whether exports drop the personal data found, and which."""

    remove_on_export: bool = Field(
        default=False,
        description="remove the personal data found in the metadata from every export")
    removed: list[str] | None = Field(
        default=None,
        description="the ids of the findings removed (privacy.finding_id); unset: every one")


class MetadataRecord(Section):
    """The whole record: REMBI, corrections per scene, privacy decision."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              json_schema_extra={"$id": SCHEMA_ID,
                                                 "$schema": "https://json-schema.org/draft/2020-12/schema"})

    lightmic_metadata: Literal["1"] = SCHEMA_VERSION
    rembi: Rembi = Rembi()
    scenes: dict[int, SceneEdit] = {}
    privacy: Privacy = Privacy()


def json_schema() -> dict[str, Any]:
    """The record's JSON Schema (draft 2020-12), as shipped in the package."""
    return MetadataRecord.model_json_schema()


COLOUR_FORM = "#RRGGBB (hex red, green, blue, e.g. #FF00FF for magenta)"
TAXON_FORM = "a number such as 9606 (Homo sapiens)"


def explain(error: ValidationError) -> list[str]:
    """One line per problem, naming the field in dotted form and what to do."""
    lines = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "string_pattern_mismatch":
            message = f"{item['input']!r} is not in the expected form"
            if item["loc"] and item["loc"][-1] == "color":
                message = f"{item['input']!r} is not a colour in the form {COLOUR_FORM}"
            elif item["loc"] and item["loc"][-1] == "ncbi_taxon":
                message = f"{item['input']!r} is not an NCBI taxon id: give {TAXON_FORM}"
        elif item["type"] == "extra_forbidden":
            message = "no such field"
        elif item["loc"] and item["loc"][-1] in ("excitation_nm", "emission_nm"):
            message += " (wavelengths are in nm; light microscopy uses 100–3000 nm)"
        lines.append(f"{where}: {message}")
    return lines


def set_path(record: MetadataRecord, key: str, value: object) -> MetadataRecord:
    """A copy of `record` with the dotted `key` set to `value` (strings are converted).

    The copy is validated; ValueError naming the key and the reason otherwise.
    """
    data = record.model_dump(mode="json")
    parts = key.split(".")
    if not key or "" in parts:
        raise ValueError(f"{key!r}: not a field (give a dotted key such as rembi.study.title)")
    if "imaging_method" in parts[:-1]:
        raise ValueError(f"{key}: give the whole term, its label or IRI, to "
                         f"{'.'.join(parts[:parts.index('imaging_method') + 1])}")
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdecimal() or int(part) >= len(node):
                raise ValueError(f"{key}: {part!r} is not one of the {len(node)} entries")
            part = int(part)
        elif not isinstance(node, dict):
            raise ValueError(f"{key}: {'.'.join(parts[:depth])} has no fields")
        elif not last and node.get(part) is None:
            node[part] = {}
        if last:
            value = _convert(parts, value) if isinstance(value, str) else value
            if value is None and parts[0] == "scenes" and len(parts) == 4:
                node.pop(part, None)  # a cleared size or unit: the file's own again
            else:
                node[part] = value
        else:
            node = node[part]
    try:
        return MetadataRecord.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(explain(exc))) from None


def _names(term: Term) -> set[str]:
    """A term's label and synonyms, each also without and as its acronym.

    'Spinning disk confocal microscopy (SDCM)' gives the whole, 'spinning disk confocal
    microscopy', 'sdcm'.
    """
    from .edam import _norm

    names = set()
    for name in (term.label, *term.synonyms):
        names.add(_norm(name))
        names.add(_norm(re.sub(r"\s*\(.*?\)", "", name)))
        names.update(_norm(a) for a in re.findall(r"\(([^)]+)\)", name))
    return names


def _convert(parts: list[str], text: str) -> object:
    """A value typed on a command line or into a field, as the record stores it."""
    text = text.strip()
    if text == "":
        return [] if parts[-1] in ("keywords", "authors") else None
    key = ".".join(parts)
    if parts[-1] == "imaging_method":
        return _edam_term(key, text)
    if parts[-1] == "color":
        return _colour(key, text)
    if parts[-1] == "ncbi_taxon":
        return _taxon(key, text)
    if parts[-1] == "removed" and parts[0] == "privacy":
        return [w.strip() for w in re.split(r"[;,\s]+", text) if w.strip()]
    if parts[-1] == "keywords":
        return [w.strip() for w in re.split(r"[;,]", text) if w.strip()]
    if parts[-1] == "authors":
        return [{"name": n.strip()} for n in text.split(";") if n.strip()]
    if parts[-1] == "remove_on_export":
        answers = {"1": True, "true": True, "yes": True, "on": True,
                   "0": False, "false": False, "no": False, "off": False}
        if text.lower() not in answers:
            raise ValueError(f"{'.'.join(parts)}: {text!r} is not true or false")
        return answers[text.lower()]
    return text


def _edam_term(key: str, text: str) -> dict[str, str]:
    """An imaging method by IRI, label, synonym or acronym, or the one term a word names.

    'confocal' is 'Confocal microscopy' (the label without 'microscopy'); a word naming
    several terms is refused with the candidates.
    """
    from .edam import _norm, search, term

    try:
        found = term(text)
    except ValueError:
        query = _norm(text)
        hits = search(text, limit=10, branch="topic")
        exact = [t for t in hits if query in _names(t)]
        if not exact:
            exact = [t for t in hits if query in {n.removesuffix(" microscopy")
                                                  for n in _names(t)}]
        if len(exact) == 1 or (not exact and len(hits) == 1):
            found = (exact or hits)[0]
        elif hits:
            candidates = "; ".join(repr(t.label) for t in (exact or hits)[:6])
            raise Refused(key, f"{text!r} names several EDAM-bioimaging terms: "
                          f"{candidates} (give one of them)") from None
        else:
            raise Refused(key, f"{text!r} is not an EDAM-bioimaging term (give its label, "
                          "a synonym or its IRI, e.g. 'Confocal microscopy')") from None
    return {"label": found.label, "iri": found.iri}


def _colour(key: str, text: str) -> str:
    """A colour as #RRGGBB; a name or short form is refused with the #RRGGBB it means."""
    from .lookup import colour_hex

    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        return text
    fix = colour_hex(text)
    if fix:
        raise Refused(key, f"{text!r} is not a colour in the form #RRGGBB; "
                      f"{text} is {fix}: give {fix}", fix=fix)
    raise Refused(key, f"{text!r} is not a colour in the form {COLOUR_FORM}")


def _taxon(key: str, text: str) -> str:
    """An NCBI taxon id; an organism's name is looked up in the shipped table."""
    from .lookup import taxon

    if re.fullmatch(r"(NCBITaxon_)?\d+", text):
        return text
    found = taxon(text)
    if found is None:
        raise Refused(key, f"{text!r} is not an NCBI taxon id: give {TAXON_FORM} "
                      "(common model organisms are known by name, e.g. human, mouse, "
                      "zebrafish, Drosophila melanogaster)")
    return str(found[0])
