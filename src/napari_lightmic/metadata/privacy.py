r"""Personal data in metadata, and its removal from what is exported.

Values that can identify a person, found in the OME model and in the vendor's own metadata
(XML, JSON). Found: experimenter and user names, e-mail addresses, user folders in recorded paths
(C:\\Users\\NAME, /home/NAME), patient- or donor-like identifiers, and free-text notes (which
may hold anything, so a person should read them).

Not personal, so not found: a short label (a channel, filter or dye name such as "DAPI" or
"FITC BP" is a description of fewer than three words), the channel names of the file, lists of
numbers (key=number, …), placeholders ("Custom") and what a reader writes about its own
annotations (the MapAnnotation description nd2 writes in its OME of an ND2).

Each finding has a stable id (its kind and a hash of its value), so the record can say which
findings an export removes (`Privacy.removed`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape as _html_escape
from html import unescape
from typing import TYPE_CHECKING

from ome_types import model as ome

if TYPE_CHECKING:
    from .record import Privacy

REMOVED = "[removed]"


def _escaped_forms(value: str) -> list[str]:
    """`value` as it is, and as XML writes it in element text and in attributes.

    Also once more escaped (XML kept inside XML).
    """
    text = _html_escape(value, quote=False)
    attribute = text.replace('"', "&quot;")
    forms = [value, text, attribute, _html_escape(text, quote=False),
             _html_escape(attribute, quote=False)]
    return list(dict.fromkeys(forms))
PERSON_KEYS = {
    "user", "username", "userlogin", "login", "owner", "operator", "experimenter",
    "experimentername", "author", "authors", "firstname", "lastname", "fullname", "middlename",
    "displayname", "email", "e-mail", "emailaddress", "investigator", "scientist",
}
MACHINE_KEYS = {"computername", "hostname", "machinename", "computer"}  # often a person's
IDENTIFIER_KEYS = re.compile(r"^(patient|subject|donor|participant)\w*$|^(dateofbirth|birthdate"
                             r"|dob|mrn|medicalrecordnumber)$", re.I)
FREE_TEXT_KEYS = {"comment", "comments", "description", "notes", "note", "remarks"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A user folder: Windows (also JSON-escaped backslashes) and Unix home folders.
USER_FOLDER = re.compile(r"(?:\b[A-Za-z]:(?:\\\\|\\|/)(?:Users|Documents and Settings)(?:\\\\|\\|/)"
                         r"|/home/|/Users/)([^\\/\"'<>\s]+)")
KEY_VALUE = (
    re.compile(r"<([\w:-]+)(?:\s[^>]*)?>([^<]{1,2000})</\1>"),  # <Key>value</Key>
    re.compile(r"\b([\w:-]+)=\"([^\"]{1,2000})\""),  # Key="value"
    re.compile(r"\"([\w -]+)\"\s*:\s*\"((?:[^\"\\]|\\.){1,2000})\""),  # "Key": "value"
)
NOT_PERSONAL = {"", "0", "1", "true", "false", "none", "null", "unknown", "n/a", "default",
                "custom", "user", "guest", "admin", "administrator"}
# annotations a reader writes about itself (their description is the reader's, not a person's)
READER_NAMESPACES = {"https://github.com/tlambert03/nd2"}
# key=number lists (Bio-Formats' tile descriptions: "{B=0, B size=1, X=39856, …}")
NUMBER_LIST = re.compile(r"^\{?\s*[\w .-]+=\s*-?[\d.]+(?:\s*,\s*[\w .-]+=\s*-?[\d.]+)*\s*\}?$")
REASONS = {
    "name": "a person's name or login",
    "e-mail": "an e-mail address",
    "user folder": "a user's folder in a recorded path names the user",
    "computer name": "a computer's name (often its owner's)",
    "identifier": "a patient-, donor- or subject-like identifier",
    "free text": "a free-text note, which may name anyone: read it",
}


@dataclass
class Finding:
    """One value that may identify a person, and every place it was found."""

    kind: str  # name, e-mail, user folder, identifier, free text
    value: str
    where: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """'kind: value (first three places …)'."""
        places = ", ".join(self.where[:3]) + (" …" if len(self.where) > 3 else "")
        return f"{self.kind}: {self.value!r} ({places})"

    @property
    def id(self) -> str:
        """A stable id: the kind and a hash of the value (the value itself is not repeated)."""
        digest = hashlib.sha1(f"{self.kind}\0{self.value}".encode()).hexdigest()[:10]
        return f"{self.kind.replace(' ', '-')}-{digest}"

    @property
    def field(self) -> str:
        """Where it was found first."""
        return self.where[0] if self.where else ""

    @property
    def reason(self) -> str:
        """Why it may identify a person."""
        return REASONS.get(self.kind, self.kind)


class Findings(list[Finding]):
    """The findings of a scan, each value of a kind once.

    `ignored` holds values known not to be personal (the file's channel names, a reader's
    own descriptions).
    """

    def __init__(self, ignored: Iterable[str] = ()) -> None:
        super().__init__()
        self.ignored = {v.strip().lower() for v in ignored if v}

    def add(self, kind: str, value: str, where: str) -> None:
        """Record `value` found at `where` (skipped when it cannot be personal)."""
        value = value.strip()
        if value.lower() in NOT_PERSONAL or value == REMOVED or _is_number(value) \
                or value.lower() in self.ignored:
            return
        for found in self:
            if found.value == value and found.kind == kind:
                if where not in found.where:
                    found.where.append(where)
                return
        self.append(Finding(kind, value, [where]))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def scan(model: ome.OME | None, vendor_text: str | None, vendor_name: str = "vendor") \
        -> list[Finding]:
    """Everything in the metadata that may identify a person, each value once."""
    found = Findings(_not_personal(model) if model is not None else ())
    if model is not None:
        _scan_ome(model, found)
        try:  # what the model holds as XML (XML and map annotations, original metadata)
            scan_text(model.to_xml(), "OME-XML", found)
        except (ValueError, TypeError, AttributeError, LookupError):
            pass  # a model that cannot be written out: its fields were scanned
    if vendor_text:
        scan_text(vendor_text, f"{vendor_name} metadata", found)
    return list(found)


def _not_personal(model: ome.OME) -> set[str]:
    """The file's channel and fluorophore names, and the readers' own descriptions."""
    known: set[str] = set()
    for image in model.images:
        for channel in image.pixels.channels:
            known.update(v for v in (channel.name, channel.fluor) if v)
    for annotation in model.structured_annotations or []:
        if annotation.namespace in READER_NAMESPACES and annotation.description:
            known.add(annotation.description)
    return known


def _scan_ome(model: ome.OME, found: Findings) -> None:
    for i, person in enumerate(model.experimenters):
        where = f"OME Experimenter {i + 1}"
        for attr in ("first_name", "middle_name", "last_name", "user_name"):
            value = getattr(person, attr)
            if value:
                found.add("name", value, f"{where} {attr.replace('_', ' ')}")
        if person.email:
            found.add("e-mail", person.email, f"{where} e-mail")
    for image in model.images:
        if image.description:
            scan_text(image.description, f"OME Image {image.name!r} description", found)
            found.add("free text", image.description, f"OME Image {image.name!r} description")
    for annotation in model.structured_annotations or []:
        value = getattr(annotation, "value", None)
        if isinstance(value, str):
            scan_text(value, f"OME annotation {annotation.id}", found)
        for pair in getattr(value, "ms", None) or []:  # a MapAnnotation's key-value pairs
            if pair.k and isinstance(pair.value, str):
                judge(pair.k, pair.value.strip(), f"OME map annotation {annotation.id} "
                      f"{pair.k}", found)


def scan_text(text: str, where: str, found: Findings) -> Findings:
    """Add to `found` what `text` (XML, JSON, key=value) holds that may identify a person."""
    for pattern in KEY_VALUE:
        for match in pattern.finditer(text):
            judge(match.group(1), unescape(match.group(2)).strip(), f"{where} {match.group(1)}",
                  found)
    for match in EMAIL.finditer(text):
        found.add("e-mail", match.group(0), where)
    for match in USER_FOLDER.finditer(text):
        found.add("user folder", match.group(1), f"{where} path {match.group(0)}…")
    return found


def judge(key: str, value: str, where: str, found: Findings) -> None:
    """Record `value` if its key says it names a person, a computer or a patient.

    Also when it is a note in free text.
    """
    bare = key.rsplit(":", 1)[-1].replace(" ", "").lower()
    if bare in PERSON_KEYS:
        found.add("e-mail" if "mail" in bare else "name", value, where)
    elif bare in MACHINE_KEYS:
        found.add("computer name", value, where)
    elif IDENTIFIER_KEYS.match(bare):
        found.add("identifier", value, where)
    elif bare in FREE_TEXT_KEYS and is_free_text(value):
        found.add("free text", value, where)


def is_free_text(value: str) -> bool:
    """Whether a description is a note a person wrote, not a label or a list of numbers.

    A label (a channel, filter or dye name: "DAPI", "FITC BP", "GFP 488 nm") has fewer than
    three words of letters.
    """
    words = re.findall(r"[A-Za-z][A-Za-z'.-]*", value)
    return len(words) >= 3 and not NUMBER_LIST.match(value.strip())


def removed(findings: list[Finding], privacy: Privacy | bool) -> list[Finding]:
    """The findings an export removes under the record's privacy decision.

    Nothing unless removal is on; then those of `privacy.removed` (every one when unset).
    `True` removes every finding.
    """
    if isinstance(privacy, bool):
        return list(findings) if privacy else []
    if not privacy.remove_on_export:
        return []
    if privacy.removed is None:
        return list(findings)
    chosen = set(privacy.removed)
    return [f for f in findings if f.id in chosen]


def as_json(findings: list[Finding], privacy: Privacy | bool) -> list[dict[str, object]]:
    """The findings as JSON objects: id, kind, field, places, text, reason, removed."""
    gone = {f.id for f in removed(findings, privacy)}
    return [{"id": f.id, "kind": f.kind, "field": f.field, "places": list(f.where),
             "text": f.value, "reason": f.reason, "removed": f.id in gone}
            for f in findings]


def redact_text(text: str, findings: list[Finding]) -> str:
    """`text` with every found value replaced by [removed] where it stands as a whole value.

    A whole value is an element's text, an attribute, a JSON string (also XML-escaped, as
    vendor metadata is inside OME-XML), so markup around it is never touched. E-mail addresses
    and the user part of user folders are replaced wherever they are.
    """
    for finding in sorted(findings, key=lambda f: -len(f.value)):
        if finding.kind == "user folder":
            text = re.sub(r"((?:\\\\|\\|/)(?:Users|home|Documents and Settings)(?:\\\\|\\|/))"
                          + re.escape(finding.value) + r"(?=[\\/\"'<>&\s]|$)",
                          lambda m: m.group(1) + REMOVED, text, flags=re.I)
        elif finding.kind == "e-mail":
            text = text.replace(finding.value, REMOVED)
        else:
            for value in _escaped_forms(finding.value):
                text = re.sub(_WHOLE_VALUE.format(v=re.escape(value)),
                              lambda m: m.group(1) + REMOVED + m.group(2), text)
    return text


# A value standing whole: >v<, ="v", ='v', : "v", and the same XML-escaped.
_WHOLE_VALUE = ("(>\\s*|&gt;\\s*|=\\s*\"|=\\s*'|=&quot;|:\\s*\"|:\\s*&quot;)"
                "{v}(\\s*<|\\s*&lt;|\"|'|&quot;)")
