"""Derive the IDR submission-template layout shipped in the package.

    python scripts/derive_idr_templates.py ../shared/idr-templates

Keeps the study file's rows (keys, fixed values such as `NCBITaxon`, and the section lines) and
the assays file's column names, without the hints; tests/metadata/test_deposit.py checks the
shipped layout against the templates when they are present.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/napari_lightmic/metadata/data/idr_templates.json"


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [[cell.strip() for cell in row] for row in csv.reader(fh, delimiter="\t")]


def derive(folder: Path) -> dict:
    study = []
    for row in _rows(folder / "idr0000-study_nonHCS.txt"):
        cells = [c for c in row if c]
        if not cells:
            study.append([])
        elif cells[0].startswith("#"):
            study.append([cells[0]])
        else:
            study.append([cells[0], *[c for c in cells[1:] if not c.startswith("#")]])
    assays = _rows(folder / "idr0000-experimentB-assays.txt")[0]
    return {"source": "IDR/idr0000-lastname-example (via ../shared/idr-templates)",
            "study_rows": study, "assay_columns": assays}


if __name__ == "__main__":
    OUT.write_text(json.dumps(derive(Path(sys.argv[1])), indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    print(OUT)
