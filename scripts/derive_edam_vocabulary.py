"""Derive the compact EDAM-bioimaging vocabulary shipped in the package.

    python scripts/derive_edam_vocabulary.py ../shared/ontology/EDAM-bioimaging_alpha06.tsv

Source: EDAM-bioimaging alpha06 (DOI 10.5281/zenodo.3695725), licensed CC BY-SA 4.0; the
derived file keeps that licence and names its source in its header.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/napari_lightmic/metadata/data/edam_bioimaging.json"
BRANCHES = ("topic", "operation", "data", "format")


def derive(tsv: Path) -> dict:
    terms = []
    with open(tsv, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            iri = row["Class ID"].strip()
            label = row["Preferred Label"].strip()
            if not iri or not label or row.get("Obsolete", "").strip().upper() == "TRUE":
                continue
            local = iri.rsplit("/", 1)[-1]
            branch = local.split("_", 1)[0]
            if branch not in BRANCHES:
                continue
            terms.append({
                "iri": iri,
                "label": label,
                "synonyms": [s.strip() for s in row.get("Synonyms", "").split("|") if s.strip()],
                "definition": row.get("Definitions", "").split("|")[0].strip(),
                "branch": branch,
                "parents": [p.strip() for p in row.get("Parents", "").split("|") if p.strip()],
            })
    terms.sort(key=lambda t: (t["branch"], t["label"].lower()))
    return {
        "source": "EDAM-bioimaging alpha06, https://github.com/edamontology/edam-bioimaging, "
                  "DOI 10.5281/zenodo.3695725",
        "licence": "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this file "
                   "is derived from the source above and shared under the same licence",
        "terms": terms,
    }


if __name__ == "__main__":
    vocabulary = derive(Path(sys.argv[1]))
    OUT.write_text(json.dumps(vocabulary, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(vocabulary['terms'])} terms -> {OUT}")
