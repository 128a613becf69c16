"""Deposition exports from a metadata record.

An IDR submission folder (study file and assays file in the IDR templates' layout) and a
BioImage Archive file list.

Only file names go into the exports, never the folders they were found in (which often name a
person).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import WriteError
from .record import MetadataRecord

if TYPE_CHECKING:
    from ..model import ImageSource, Scene
    from .privacy import Finding

EXPERIMENT = "experimentA"
LICENCE_URLS = {
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC BY-NC 4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "CC BY-NC-SA 4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "CC BY-ND 4.0": "https://creativecommons.org/licenses/by-nd/4.0/",
    "CC BY-NC-ND 4.0": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
}
EDAM_SOURCE = ("EDAM-BIOIMAGING", "http://edamontology.org/")


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    """The IDR study and assays templates, as shipped in the package."""
    return cast(dict[str, Any], json.loads(files("napari_lightmic.metadata").joinpath(
        "data/idr_templates.json").read_text(encoding="utf-8")))


def export_idr(sources: list[ImageSource], folder: str | os.PathLike[str],
               record: MetadataRecord | None = None,
               removed: Sequence[Finding] = ()) -> list[Path]:
    """Write the IDR study and assays files and a BioImage Archive file list into `folder`.

    The files: idr0000-study.txt, experimentA/idr0000-experimentA-assays.txt and
    file_list.tsv; returns the files written. The personal data `removed` (the findings the
    record's privacy decision removes) is replaced by [removed] wherever a cell holds it.
    Each file is written whole or not at all.

    Raises
    ------
    WriteError
        When a file cannot be written (a full disk, no permission): one line, no partial file.
    """
    if record is None:
        from .prefill import record_from_source

        record = record_from_source(sources[0])
    folder = Path(folder)
    try:
        (folder / EXPERIMENT).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(folder, f"cannot be written: {exc.strerror or exc}") from None
    assays_name = f"idr0000-{EXPERIMENT}-assays.txt"
    written = [
        _write(folder / "idr0000-study.txt", _study_rows(record, sources, assays_name),
               removed),
        _write(folder / EXPERIMENT / assays_name, _assay_rows(record, sources), removed),
        _write(folder / "file_list.tsv", _file_list(record, sources), removed),
    ]
    return written


def _write(path: Path, rows: list[list[str]], removed: Sequence[Finding] = ()) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        cells = [" ".join(str(c).split()) for c in row]  # no tabs or newlines in cells
        writer.writerow([_redacted(c, removed) for c in cells] if removed else cells)
    from ..writing.common import write_text_atomic

    return write_text_atomic(path, buffer.getvalue())


def _redacted(cell: str, removed: Sequence[Finding]) -> str:
    """A cell without the personal data removed: user folders, and values standing as words.

    A cell is plain text (no markup), so a value is replaced wherever it stands as a whole
    word or more ("M1SRH, Doe J" in an author list).
    """
    from .privacy import REMOVED, redact_text

    cell = redact_text(cell, [f for f in removed if f.kind == "user folder"])
    for finding in sorted(removed, key=lambda f: -len(f.value)):
        if finding.kind != "user folder":
            cell = re.sub(rf"(?<!\w){re.escape(finding.value)}(?!\w)", REMOVED, cell)
    return cell


def _split_name(name: str) -> tuple[str, str]:
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name, "")


def _taxon(record: MetadataRecord) -> str:
    taxon = record.rembi.biosample.ncbi_taxon or ""
    return f"NCBITaxon_{taxon.removeprefix('NCBITaxon_')}" if taxon else ""


def _acquisition_text(record: MetadataRecord) -> str:
    acq = record.rembi.image_acquisition
    parts = [acq.imaging_method.label if acq.imaging_method else None,
             acq.instrument and f"instrument: {acq.instrument}",
             acq.objective and f"objective: {acq.objective}",
             acq.detector and f"detector: {acq.detector}",
             record.rembi.specimen.signal_contrast_mechanism
             and f"contrast: {record.rembi.specimen.signal_contrast_mechanism}"]
    return "; ".join(p for p in parts if p)


def _study_rows(record: MetadataRecord, sources: list[ImageSource],
                assays_name: str) -> list[list[str]]:
    rembi = record.rembi
    study, bio = rembi.study, rembi.biosample
    authors = study.authors
    method = rembi.image_acquisition.imaging_method
    images = [(source, scene) for source in sources for scene in source.scenes]
    average = _average_size(images)
    values: dict[str, list[str]] = {
        "Study Title": [study.title or ""],
        "Study Description": [study.description or ""],
        "Study Key Words": list(study.keywords),
        "Study Organism": [bio.organism or ""],
        "Study Organism Term Accession": [_taxon(record)],
        "Study Experiments Number": ["1"],
        "Study Public Release Date": [study.public_release_date.isoformat()
                                      if study.public_release_date else ""],
        "Study Author List": [", ".join(_author_short(a.name) for a in authors)],
        "Study DOI": [study.doi or ""],
        "Study Person Last Name": [_split_name(a.name)[0] for a in authors],
        "Study Person First Name": [_split_name(a.name)[1] for a in authors],
        "Study Person Email": [a.email or "" for a in authors],
        "Study Person Address": [a.affiliation or "" for a in authors],
        "Study Person ORCID": [(a.orcid or "").removeprefix("https://orcid.org/")
                               for a in authors],
        "Study Person Roles": ["submitter"] + ["author"] * (len(authors) - 1)
        if authors else ["submitter"],
        "Study License": [study.licence or ""],
        "Study License URL": [LICENCE_URLS.get(study.licence or "", "")],
        "Experiment Number": ["1"],
        "Experiment Description": [rembi.study_component.description or study.description or ""],
        "Experiment Size": [f"5D Images: {len(images)}",
                            f"Average Image Dimension (XYZCT): {average}",
                            f"Total Tb: {_total_tb(sources):.6f}"],
        "Experiment Imaging Method": [method.label if method else ""],
        "Experiment Imaging Method Term Source REF": [EDAM_SOURCE[0] if method else ""],
        "Experiment Imaging Method Term Accession": [method.iri if method else ""],
        "Experiment Assay File": [assays_name],
        "Assay Experimental Conditions": [bio.experimental_variables or ""],
        "Protocol Description": [bio.extrinsic_variables or "",
                                 rembi.specimen.preparation_protocol or "",
                                 _acquisition_text(record), ""],
    }
    rows = []
    for template_row in templates()["study_rows"]:
        if len(template_row) <= 1 or template_row[0].startswith("#"):
            key = template_row[0] if template_row else None
            if key and not key.startswith("#") and key in values:
                rows.append([key, *values[key]])
            elif key and key.startswith("#") and "FILL IN AS MUCH" in key:
                continue
            else:
                rows.append(list(template_row))
            continue
        key, *fixed = template_row
        if key in ("Term Source Name", "Term Source URI"):
            rows.append([key, *fixed, EDAM_SOURCE[0] if key == "Term Source Name"
                         else EDAM_SOURCE[1]])
        elif key in values:
            rows.append([key, *values[key]])
        else:
            rows.append(list(template_row))
    return rows


def _author_short(name: str) -> str:
    last, first = _split_name(name)
    initials = "".join(p[0] for p in first.replace("-", " ").split() if p)
    return f"{last} {initials}".strip()


def _average_size(images: list[tuple[ImageSource, Scene]]) -> str:
    if not images:
        return ""
    axes = "XYZCT"
    means = [sum(scene.size(a) for _, scene in images) / len(images) for a in axes]
    return ", ".join(f"{m:g}" for m in means)


def _total_tb(sources: list[ImageSource]) -> float:
    return sum(source.disk_bytes or 0 for source in sources) / 1e12


def _channels_text(scene: Scene) -> str:
    """'DAPI:Hoechst;GFP', the channels the file or the user named (none are made up)."""
    return ";".join(f"{ch.name}:{ch.fluor}" if ch.fluor else ch.name
                    for ch in scene.channels if ch.named)


def _assay_rows(record: MetadataRecord, sources: list[ImageSource]) -> list[list[str]]:
    columns = templates()["assay_columns"]
    rembi = record.rembi
    bio = rembi.biosample
    protocols = [r for r in templates()["study_rows"] if r and r[0] == "Protocol Name"][0][1:]
    header = list(columns)
    if bio.experimental_variables:
        header[columns.index("Experimental Condition [ # fill in]")] = \
            f"Experimental Condition [{bio.experimental_variables}]"
    rows = [header]
    for source in sources:
        name = source.file_name
        for scene in source.scenes:
            protocol_refs = iter([protocols[0], protocols[1], protocols[2], protocols[3]])
            row = []
            for column in columns:
                if column == "Protocol REF":
                    row.append(next(protocol_refs))
                    continue
                row.append({
                    "Source Name": bio.biological_entity or scene.name,
                    "Characteristics [Organism]": bio.organism or "",
                    "Term Source 1 REF": "NCBITaxon",
                    "Term Source 1 Accession": _taxon(record),
                    "Characteristics [Cell Line]": bio.biological_entity or "",
                    "Term Source 2 REF": "EFO",
                    "Assay Name": scene.name,
                    "Dataset Name": rembi.study_component.name or rembi.study.title or "",
                    "Image File": name,
                    "Comment [Image File Path]": name,
                    "Comment [Image File Comments]":
                        f"scene {scene.index} of {len(source.scenes)}: {scene.name}"
                        if len(source.scenes) > 1 else "",
                    "Comment [Image File Type]": rembi.image_data.image_type or "raw",
                    "Channels": _channels_text(scene),
                }.get(column, ""))
            rows.append(row)
    return rows


def _file_list(record: MetadataRecord, sources: list[ImageSource]) -> list[list[str]]:
    """BioImage Archive file list: `Files` first, then attributes of each file."""
    rembi = record.rembi
    method = rembi.image_acquisition.imaging_method
    rows = [["Files", "Format", "Scenes", "Channels", "Imaging method", "Organism",
             "Description"]]
    for source in sources:
        rows.append([
            source.file_name, source.format.name,
            str(len(source.scenes)), _channels_text(source.scenes[0]),
            method.label if method else "", rembi.biosample.organism or "",
            rembi.study_component.description or rembi.study.title or "",
        ])
    return rows
