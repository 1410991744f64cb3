"""GeoReport v2's two formats. A view answers with a ``Document`` (its rows, and the element
names XML wraps them in); the JSON renderer writes the rows as they are, the XML renderer
as elements: ``<services><service>…</service></services>``."""

from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from rest_framework.renderers import BaseRenderer, JSONRenderer

# The element each item of a nested list is written as.
ITEM_NAMES = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


@dataclass(frozen=True)
class Document:
    root: str
    item: str | None  # None: ``rows`` is one object, not a list
    rows: list[dict] | dict

    def as_json(self):
        return self.rows


@dataclass(frozen=True)
class Written:
    """A list PostgreSQL has already written as JSON (``selectors.request_documents_json``)."""

    text: str


class Open311JSONRenderer(JSONRenderer):
    format = "json"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, Written):
            return data.text.encode()
        if isinstance(data, Document):
            data = data.as_json()
        return super().render(data, accepted_media_type, renderer_context)


class Open311XMLRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if not isinstance(data, Document):
            data = Document("errors", "error", data if isinstance(data, list) else [data])
        root = Element(data.root)
        if data.item is None:
            _fill(root, data.rows)
        else:
            for row in data.rows:
                _fill(SubElement(root, data.item), row)
        return (
            b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root, encoding="unicode").encode()
        )


def _fill(element: Element, row: dict) -> None:
    for name, value in row.items():
        child = SubElement(element, name)
        if isinstance(value, list):
            item = ITEM_NAMES.get(name, "item")
            for entry in value:
                if isinstance(entry, dict):
                    _fill(SubElement(child, item), entry)
                else:
                    SubElement(child, item).text = _text(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
