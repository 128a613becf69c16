"""XML parsing that resolves no external entities and loads no DTD."""

from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_xml(text: str | bytes) -> etree._Element:
    if isinstance(text, str):
        text = text.encode("utf-8")
    return etree.fromstring(text, parser=_PARSER)


def local(tag: str) -> str:
    """Tag name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def refuse_dtd(text: str | bytes, what: str = "metadata") -> None:
    """Image metadata never needs a DTD; one may declare entities, so it is refused."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if "<!DOCTYPE" in text[:4096] or "<!ENTITY" in text:
        raise ValueError(f"{what} declares a DTD or entities, which are not accepted")
