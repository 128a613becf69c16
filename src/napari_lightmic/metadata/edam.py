"""EDAM-bioimaging terms: type-ahead search over labels and synonyms, lookup by IRI.

The vocabulary is derived from EDAM-bioimaging alpha06 (CC BY-SA 4.0) by
scripts/derive_edam_vocabulary.py and shipped as metadata/data/edam_bioimaging.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files


@dataclass(frozen=True)
class Term:
    """One EDAM-bioimaging term: IRI, label, synonyms, definition and branch."""

    iri: str
    label: str
    synonyms: tuple[str, ...]
    definition: str
    branch: str  # topic, operation, data or format


@lru_cache(maxsize=1)
def vocabulary() -> tuple[Term, ...]:
    """Every term of the shipped EDAM-bioimaging vocabulary (read once)."""
    raw = json.loads(files("napari_lightmic.metadata").joinpath(
        "data/edam_bioimaging.json").read_text(encoding="utf-8"))
    return tuple(Term(t["iri"], t["label"], tuple(t["synonyms"]), t["definition"], t["branch"])
                 for t in raw["terms"])


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_/(),\[\]]+", " ", text.lower()).strip()


def search(text: str, limit: int = 10, branch: str | None = None) -> list[Term]:
    """Terms whose label or synonyms match `text`, best first.

    Exact label, then label prefix, then every word of `text` starting a word of the label,
    then the same against synonyms; hyphens and spaces are alike ("light sheet" finds
    "Light-sheet microscopy").
    """
    query = _norm(text)
    if not query:
        return []
    words = query.split()
    ranked = []
    for term in vocabulary():
        if branch and term.branch != branch:
            continue
        score = min((_score(query, words, _norm(name)) + (0 if i == 0 else 3)
                     for i, name in enumerate((term.label, *term.synonyms))), default=99)
        if score < 99:
            ranked.append((score, len(term.label), term.label.lower(), term))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked[:limit]]


def _score(query: str, words: list[str], name: str) -> int:
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    name_words = name.split()
    if all(any(w.startswith(q) for w in name_words) for q in words):
        return 2
    return 99


def term(iri: str) -> Term:
    """The term with this IRI (or its last part); ValueError naming it if EDAM has none."""
    key = iri.strip().rsplit("/", 1)[-1]
    for candidate in vocabulary():
        if candidate.iri.rsplit("/", 1)[-1] == key:
            return candidate
    raise ValueError(f"{iri!r} is not an EDAM-bioimaging term")
