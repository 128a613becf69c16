"""The one XML parser: no DTD, no entities, bounded depth and size.

Every XML the plugin reads (CZI and LIF metadata, BigDataViewer, OME-XML in TIFF or
OME-Zarr, ND2's XML chunks) is parsed here, or checked here before a library parses the
same text. A DTD is
refused wherever it appears (it may declare entities); nesting deeper than lxml's limit
(256 levels) is refused at once instead of being walked.
"""

from __future__ import annotations

from lxml import etree

# No metadata XML comes near this; a larger one is refused before it is parsed.
MAX_XML_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 256  # lxml's own limit without huge_tree

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True,
)


def parse_xml(text: str | bytes, what: str = "the metadata") -> etree._Element:
    """Parse XML with no DTD, no entities, at most `MAX_DEPTH` deep and `MAX_XML_BYTES` long.

    Parameters
    ----------
    text : str or bytes
        The XML.
    what : str
        What it is, for the error ("the OME-XML").

    Returns
    -------
    lxml.etree._Element
        The root element.

    Raises
    ------
    ValueError
        Saying why the XML is not accepted.
    """
    root, problem = _parse(text, what)
    if root is None:
        raise ValueError(f"{what} is not well-formed XML ({problem})")
    return root


def parse_xml_or_none(text: str | bytes, what: str = "the metadata") -> etree._Element | None:
    """As `parse_xml`, but None for XML that is merely not well-formed.

    For callers that fall back to another reading of such a file; a DTD, too deep a nesting
    or too large a text is still refused.

    Raises
    ------
    ValueError
        For a DTD, nesting deeper than `MAX_DEPTH`, or more than `MAX_XML_BYTES`.
    """
    return _parse(text, what)[0]


def refuse_large(length: int, what: str) -> None:
    """Refuse XML of `length` bytes beyond `MAX_XML_BYTES`, before it is read.

    Raises
    ------
    ValueError
        Naming `what` and its length.
    """
    if length > MAX_XML_BYTES:
        raise ValueError(f"{what} ({length} bytes) is larger than {MAX_XML_BYTES // 2**20} MiB, "
                         "which is not read")


def _parse(text: str | bytes, what: str) -> tuple[etree._Element | None, str]:
    """The root, or None and the parser's complaint for XML that is not well-formed."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    refuse_large(len(text), what)
    try:
        root = etree.fromstring(text, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            raise ValueError(f"{what} nests elements deeper than {MAX_DEPTH} levels, "
                             "which is not read") from None
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            _refuse_dtd(what)  # a DTD the parser stopped in (an entity in an attribute)
        return None, str(exc)
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        _refuse_dtd(what)
    return root, ""


def _refuse_dtd(what: str) -> None:
    raise ValueError(f"{what} declares a DTD or entities, which are not accepted")


def local(tag: str) -> str:
    """Tag name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
