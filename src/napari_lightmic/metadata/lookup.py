"""Small offline tables that turn what a person types into what the record stores.

Colour names (those napari and CSS share for the colours microscopy uses) and the NCBI
taxonomy ids of common model organisms, by scientific and common name.
"""

from __future__ import annotations

import re
from typing import Final

COLOURS: Final = {
    "red": "#FF0000", "green": "#00FF00", "lime": "#00FF00", "blue": "#0000FF",
    "cyan": "#00FFFF", "magenta": "#FF00FF", "fuchsia": "#FF00FF", "yellow": "#FFFF00",
    "white": "#FFFFFF", "black": "#000000", "gray": "#808080", "grey": "#808080",
    "orange": "#FFA500", "purple": "#800080", "violet": "#EE82EE", "pink": "#FFC0CB",
    "gold": "#FFD700", "bop orange": "#FF8000", "bop blue": "#0080FF",
    "bop purple": "#8000FF",
}

# (taxon id, scientific name, common names)
ORGANISMS: Final = (
    (9606, "Homo sapiens", ("human",)),
    (10090, "Mus musculus", ("mouse", "house mouse")),
    (10116, "Rattus norvegicus", ("rat", "brown rat", "norway rat")),
    (7955, "Danio rerio", ("zebrafish", "zebra fish")),
    (8090, "Oryzias latipes", ("medaka", "japanese medaka")),
    (8355, "Xenopus laevis", ("african clawed frog", "xenopus", "frog")),
    (8364, "Xenopus tropicalis", ("western clawed frog",)),
    (9031, "Gallus gallus", ("chicken",)),
    (9823, "Sus scrofa", ("pig", "wild boar")),
    (9913, "Bos taurus", ("cattle", "cow")),
    (9615, "Canis lupus familiaris", ("dog",)),
    (9544, "Macaca mulatta", ("rhesus macaque", "rhesus monkey")),
    (7227, "Drosophila melanogaster", ("fruit fly", "fly", "drosophila")),
    (6239, "Caenorhabditis elegans", ("c. elegans", "nematode", "worm")),
    (7719, "Ciona intestinalis", ("sea squirt",)),
    (7668, "Strongylocentrotus purpuratus", ("purple sea urchin", "sea urchin")),
    (45351, "Nematostella vectensis", ("starlet sea anemone",)),
    (6087, "Hydra vulgaris", ("hydra",)),
    (79327, "Schmidtea mediterranea", ("planarian",)),
    (6359, "Platynereis dumerilii", ("platynereis",)),
    (4932, "Saccharomyces cerevisiae", ("budding yeast", "baker's yeast", "yeast")),
    (4896, "Schizosaccharomyces pombe", ("fission yeast",)),
    (5476, "Candida albicans", ()),
    (5141, "Neurospora crassa", ()),
    (44689, "Dictyostelium discoideum", ("dictyostelium", "slime mold", "slime mould")),
    (5911, "Tetrahymena thermophila", ()),
    (5833, "Plasmodium falciparum", ("malaria parasite",)),
    (5811, "Toxoplasma gondii", ()),
    (5691, "Trypanosoma brucei", ()),
    (3702, "Arabidopsis thaliana", ("thale cress", "arabidopsis")),
    (4100, "Nicotiana benthamiana", ("benthamiana",)),
    (4577, "Zea mays", ("maize", "corn")),
    (4530, "Oryza sativa", ("rice",)),
    (3055, "Chlamydomonas reinhardtii", ("chlamydomonas",)),
    (3218, "Physcomitrium patens", ("moss", "physcomitrella patens")),
    (3197, "Marchantia polymorpha", ("liverwort", "marchantia")),
    (562, "Escherichia coli", ("e. coli",)),
    (1423, "Bacillus subtilis", ("b. subtilis",)),
    (1280, "Staphylococcus aureus", ()),
    (1773, "Mycobacterium tuberculosis", ()),
    (666, "Vibrio cholerae", ()),
    (155892, "Caulobacter vibrioides", ("caulobacter crescentus", "caulobacter")),
)


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def colour_hex(text: str) -> str | None:
    """A colour name, or a short #RGB form, as #RRGGBB (None when not known)."""
    key = _key(text).replace("_", " ")
    if re.fullmatch(r"#?[0-9a-f]{3}", key):
        return "#" + "".join(c * 2 for c in key.lstrip("#")).upper()
    if re.fullmatch(r"[0-9a-f]{6}", key):
        return "#" + key.upper()
    return COLOURS.get(key)


def taxon(text: str) -> tuple[int, str] | None:
    """(NCBI taxon id, scientific name) of an organism named by either of its names."""
    key = _key(text)
    for number, scientific, common in ORGANISMS:
        if key == scientific.lower() or key in common:
            return number, scientific
    return None


def taxon_name(number: int | str) -> str | None:
    """The scientific name of a taxon id of the table (None for others)."""
    text = str(number).removeprefix("NCBITaxon_")
    for known, scientific, _ in ORGANISMS:
        if str(known) == text:
            return scientific
    return None
