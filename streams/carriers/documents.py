"""Payload bytes → a document parsers walk: JSON values, or an XML tree without namespaces.

XML is read with defusedxml (no entity expansion, no DTDs, no external resources): carrier
payloads come from outside. Namespaces are dropped from tag names (``{ns}TrackInfo`` becomes
``TrackInfo``) because carriers version them and the documented element names are what matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from parcelwatch.streams.carriers.model import PayloadError

Document = Any  # a JSON value (dict, list, ...) or an xml.etree Element
_BOM = b"\xef\xbb\xbf"


def read_document(payload: bytes) -> Document:
    """The payload as JSON or XML, whichever it is; PayloadError when it is neither."""
    body = payload.removeprefix(_BOM).strip()
    if not body:
        raise PayloadError("the payload is empty")
    if body[:1] == b"<":
        return read_xml(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadError(f"not valid JSON or XML: {error}") from None


def read_xml(body: bytes) -> Element:
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise PayloadError(f"not valid XML: {type(error).__name__}: {error}") from None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
        if element.attrib and any(name.startswith("{") for name in element.attrib):
            element.attrib = {name.split("}")[-1]: value for name, value in element.attrib.items()}
    return root


# --- JSON helpers: carriers' JSON has optional objects and fields that are sometimes a single
# object and sometimes a list of them.


def dig(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...``, or None where any step is missing or of another type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
        elif not isinstance(value, dict):
            return None
        else:
            value = value.get(step)
            continue
        value = value[step]
    return value


def as_list(value: Any) -> list[Any]:
    """A list as is, None as [], anything else as a one-item list (XML-to-JSON style APIs write a
    single item without the array)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """The dict items of ``as_list(value)``."""
    return (item for item in as_list(value) if isinstance(item, dict))


def text(value: Any) -> str | None:
    """A stripped non-empty string, numbers as their text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return None


# --- XML helpers


def xml_text(element: Element | None, path: str | None = None) -> str | None:
    """The stripped text of ``element`` (or of its first ``path`` descendant), None if empty."""
    if element is None:
        return None
    found = element.find(path) if path else element
    if found is None or found.text is None:
        return None
    return text(found.text)
