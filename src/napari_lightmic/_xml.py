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
