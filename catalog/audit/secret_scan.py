"""Looking for secrets in an archive's files, streaming, with the catalog's one detector
(``catalog.secret_shapes``).

The detector was made for what people write; archived pages and weidang's own files hold
lookalikes it must not be shown raw: scripts (``token = this.token``), ``data:`` pictures,
``&amp;``-joined links, the random hex ids weidang gives files, the ``sn`` signature WeChat puts
in every article link. So: each header alone; JSON value by value (HTML inside read as markup,
values of ``*id`` keys and values that are a link's query value passed over, links themselves
scanned); pages, scripts and styles as markup; JSON lines line by line; binary files in chunks.
"""

from __future__ import annotations

import html
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import brotli

from catalog.secret_shapes import find_secret
from warc_store import StoredRecord, StoreError, iter_records

_LINK = re.compile(r"https?://[^\s\"'<>\\]+")
CHUNK = 1 << 20
OVERLAP = 512  # longer than any secret the detector knows, so none hides across two chunks
TEXT_TYPES = ("text/", "json", "xml", "javascript", "warc-fields", "x-www-form-urlencoded")
CODE_TYPES = ("html", "javascript", "css")
COOKIE_HEADERS = ("cookie", "set-cookie")
HEADER_JOIN = "\n\u00a6 "
BINARY_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".db", ".gz", ".zip")


def public_values(texts: Iterable[str]) -> set[str]:
    """The query values of every link in ``texts``: a link is public, so are its parts."""
    return {value for text in texts for link in _LINK.findall(text)
            for _name, value in parse_qsl(urlsplit(html.unescape(link)).query) if len(value) >= 8}


def _strings(value: Any, key: str = "") -> Iterator[str]:
    """Every string of a JSON value, less those of ``*id`` keys (ids weidang or a platform made)."""
    if isinstance(value, str):
        if not key.lower().endswith("id"):
            yield value
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _strings(item, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def json_finding(data: Any, public: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    values = list(_strings(data))
    public = set(public) | public_values(values)
    for v in values:
        if v not in public:
            found = find_secret(v, markup="<" in v and ">" in v)
            if found:
                return found
    return None


def text_finding(text: str) -> str | None:
    """A line of a log or a JSON lines file (the index's lines start with their address key)."""
    start = text.find("{")
    if start >= 0:
        try:
            return json_finding(json.loads(text[start:]))
        except ValueError:
            pass
    return find_secret(text)


def _content_type(record: StoredRecord) -> str:
    headers = record.http_headers or record.warc_headers
    return next((v for k, v in headers if k.lower() == "content-type"), "").lower()


def _body_text(record: StoredRecord) -> str | None:
    """The payload as text ("" when it is no text); None when its coding cannot be undone here."""
    headers = {k.lower(): v for k, v in record.http_headers}
    if not any(t in _content_type(record) for t in TEXT_TYPES):
        return ""
    coding = headers.get("content-encoding", "identity").strip().lower()
    body = record.payload
    try:
        if coding in ("gzip", "x-gzip", "deflate"):
            body = zlib.decompressobj(47).decompress(body)  # gzip or zlib header, detected
        elif coding == "br":
            body = brotli.decompress(body)
        elif coding not in ("", "identity"):
            return None
    except (zlib.error, brotli.error):
        return None
    return body.decode("utf-8", "replace")


def _record_finding(record: StoredRecord, body: str) -> str | None:
    # One call for all headers (the detector's cost is per call), joined so that no label at the
    # end of one header pairs with the next: "¦" is neither a separator nor part of a value.
    # Of a cookie header only its value: its names stay when their values are redacted.
    headers = [*record.warc_headers, *record.http_headers]
    found = find_secret(HEADER_JOIN.join(
        value if name.lower() in COOKIE_HEADERS else f"{name}: {value}" for name, value in headers))
    if found:
        return f"{found} in its headers"
    kind = _content_type(record)
    if record.record_type == "warcinfo":  # name: value fields, ids among them
        return json_finding(dict(line.partition(":")[::2] for line in body.splitlines()))
    if "json" in kind:
        try:
            return json_finding(json.loads(body), public_values([record.uri]))
        except ValueError:
            pass
    for value in public_values([record.uri, body]):
        body = body.replace(f'"{value}"', '""')
    return find_secret(body, markup=any(t in kind for t in CODE_TYPES)) if body else None


def warc_findings(path: Path) -> Iterator[str]:
    try:
        for record in iter_records(path):
            where = f"{path.name} record {record.record_id} ({record.uri or record.record_type})"
            body = _body_text(record)
            if body is None:
                yield f"{where}: not scanned (its body is in a coding this check cannot read)"
                body = ""
            found = _record_finding(record, body)
            if found:
                yield f"{where}: {found}"
    except StoreError as exc:  # a damaged file is usability's finding: scanned up to the damage
        yield f"{path.name}: scanned only up to a damaged record ({exc})"


def file_findings(path: Path, shown: str) -> Iterator[str]:
    """A text file line by line, a binary one in overlapping chunks; the first finding."""
    if path.name.endswith(BINARY_SUFFIXES):
        with open(path, "rb") as fh:
            tail = b""
            while chunk := fh.read(CHUNK):
                found = find_secret((tail + chunk).decode("utf-8", "replace"))
                if found:
                    yield f"{shown}: {found}"
                    return
                tail = chunk[-OVERLAP:]
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            found = text_finding(line)
            if found:
                yield f"{shown} line {number}: {found}"
                return


def cells_finding(cells: Iterable[str]) -> str | None:
    for cell in cells:
        found = text_finding(cell)
        if found:
            return found
    return None
