"""How complete a record is against REMBI: the fields a deposition needs, filled or missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .record import MetadataRecord

# (dotted key, what a person calls it): the REMBI fields IDR and the BioImage Archive ask for.
REQUIRED = (
    ("rembi.study.title", "Study title"),
    ("rembi.study.description", "Study description"),
    ("rembi.study.authors", "Study authors"),
    ("rembi.study.licence", "Licence"),
    ("rembi.biosample.organism", "Organism"),
    ("rembi.biosample.ncbi_taxon", "NCBI taxon"),
    ("rembi.biosample.biological_entity", "Biological entity"),
    ("rembi.specimen.preparation_protocol", "Specimen preparation protocol"),
    ("rembi.specimen.signal_contrast_mechanism", "Signal/contrast mechanism"),
    ("rembi.image_acquisition.imaging_method", "Imaging method (EDAM)"),
    ("rembi.image_acquisition.instrument", "Instrument"),
    ("rembi.image_data.image_type", "Image type"),
)


@dataclass(frozen=True)
class Completeness:
    """How many of the required REMBI fields a record fills, and which are missing."""

    filled: int
    total: int
    missing: tuple[str, ...]  # labels of the empty required fields

    def __str__(self) -> str:
        """'n of m required REMBI fields filled'."""
        return f"{self.filled} of {self.total} required REMBI fields filled"


def value_at(record: MetadataRecord, key: str) -> Any:  # noqa: ANN401 any field's value
    """The value at a dotted key of a record (None where any part of the path is unset)."""
    node: Any = record
    for part in key.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node


def completeness(record: MetadataRecord) -> Completeness:
    """How complete `record` is against the REMBI fields a deposition needs."""
    missing = tuple(label for key, label in REQUIRED if value_at(record, key) in (None, "", []))
    return Completeness(len(REQUIRED) - len(missing), len(REQUIRED), missing)
