"""Open311 GeoReport v2 output: the same records as JSON or as XML, and the spec's error lists.

JSON is a list of objects (`[{"service_code": …}]`), XML the same records under a root element
(`<services><service>…</service></services>`); `None` is `null` in JSON and an empty element in XML. Errors are
`[{"code": 400, "description": "…"}]` or `<errors><error><code>400</code><description>…</description></error></errors>`.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from xml.etree.ElementTree import Element, SubElement, tostring

from starlette.responses import Response

MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")  # characters XML 1.0 cannot hold


class Open311Error(Exception):
    """One or more errors of the same HTTP status, each sent as its own `error` entry."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status, self.descriptions = status, descriptions or ("error",)


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 with the offset, as the spec requires. SQLite hands back naive UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: Element, record: dict) -> None:
    for key, value in record.items():
        child = SubElement(parent, key)
        if isinstance(value, list):  # e.g. the (empty) attributes of a service definition
            for item in value:
                _fill(SubElement(child, key.rstrip("s")), item)
        elif value is not None:
            child.text = _text(value)


def xml_body(root: str, item: str | None, records) -> bytes:
    """`records` is a list rendered as `<root><item>…</item>…</root>`, or (item None) one dict as `<root>…</root>`."""
    top = Element(root)
    if item is None:
        _fill(top, records)
    else:
        for record in records:
            _fill(SubElement(top, item), record)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(top, encoding="unicode").encode("utf-8", "replace")


def render(fmt: str, root: str, item: str | None, records, status: int = 200) -> Response:
    if fmt == "xml":
        body = xml_body(root, item, records)
    else:
        body = json.dumps(records, ensure_ascii=False).encode("utf-8", "replace")
    return Response(body, status_code=status, media_type=MEDIA_TYPES.get(fmt, MEDIA_TYPES["json"]))


def errors(fmt: str, error: Open311Error) -> Response:
    records = [{"code": error.status, "description": d} for d in error.descriptions]
    return render(fmt, "errors", "error", records, status=error.status)
