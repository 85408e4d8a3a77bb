"""Write WARC/1.1 records, one gzip member each, with SHA-256 block and payload digests.

Built on warcio's ``BaseWARCWriter`` (as pywb's writers are), changing only what weidang needs:
digests are SHA-256 in hex (warcio 1.8 hard-codes SHA-1), the zlib level is a setting (warcio
always uses 9, about three times slower than 6 for almost the same size), WARC-Date comes from
the clock passed in, and HTTP header bytes are kept as they arrived instead of re-encoded.
The digests are computed here from the bytes at hand and handed to warcio in the headers, where
its own pass would put them (it skips a digest already given): warcio read each body twice more
to hash it. tests/test_warc_store_writer.py holds every record kind byte for byte against
warcio's own writer.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import BaseWARCWriter

from warc_store.digests import HexDigester, record_digest

WARC_VERSION = "WARC/1.1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


class _RawHeaders(StatusAndHeaders):
    """HTTP headers written back byte for byte: values were decoded as Latin-1, so re-encoding
    as Latin-1 restores the wire bytes (warcio would percent-encode any non-ASCII value)."""

    headers_buff: bytes | None

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        if self.headers_buff is None or header_filter is not None:  # made once, for the digest
            self.headers_buff = self.to_str(header_filter).encode("latin-1", "replace") + b"\r\n"

    def as_written(self) -> bytes:
        self.compute_headers_buffer()
        assert self.headers_buff is not None
        return self.headers_buff


class _LevelGzip:
    """One gzip member per record, at a chosen zlib level."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, buff: bytes) -> None:
        self.out.write(self.compressor.compress(buff))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


def warc_date(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(moment, use_micros=True))


def new_record_id() -> str:
    return str(StatusAndHeadersParser.make_warc_id())


@dataclass(frozen=True)
class Written:
    """Where a record went: its id, offset and length (of its gzip member) in the file."""

    record_id: str
    offset: int
    length: int
    record_type: str
    uri: str
    date: str
    block_digest: str
    payload_digest: str | None


class RecordWriter(BaseWARCWriter):
    """Writes records to an open binary file; it never opens, names or closes files itself."""

    def __init__(self, out: BinaryIO, compress_level: int = 6,
                 marks: Mapping[str, str] | None = None) -> None:
        """``marks``: WARC headers put on every record this writer builds (the demo's mark)."""
        super().__init__(gzip=False, warc_version=WARC_VERSION)
        if not 0 <= compress_level <= 9:
            raise ValueError("compress level must be between 0 and 9")
        self.out = out
        self.compress_level = compress_level
        self.marks = dict(marks or {})

    @staticmethod
    def _create_digester() -> HexDigester:
        return HexDigester()

    # -- building ------------------------------------------------------------------------
    def _headers(self, record_type: str, uri: str, date: datetime,
                 extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"WARC-Type": record_type,
                   "WARC-Record-ID": extra.get("WARC-Record-ID") or new_record_id(),
                   "WARC-Date": warc_date(date)}
        if uri:
            headers["WARC-Target-URI"] = uri
        headers.update({k: v for k, v in extra.items() if v and k != "WARC-Record-ID"})
        headers.update(self.marks)
        return headers

    def _record(self, uri: str, record_type: str, body: bytes, warc: dict[str, str],
                http: _RawHeaders | None = None, content_type: str = "",
                payload_digest: str | None = None) -> ArcWarcRecord:
        """The record, its digests given as warcio would add them: the payload's, then the
        block's (HTTP header bytes and body; a revisit's block is its headers alone)."""
        stored = b"" if record_type == "revisit" else body
        if record_type not in self.NO_PAYLOAD_DIGEST_TYPES:
            warc["WARC-Payload-Digest"] = payload_digest or record_digest(body)
        block = HexDigester()
        if http is not None:
            block.update(http.as_written())
        block.update(stored)
        warc["WARC-Block-Digest"] = str(block)
        # the WARC headers made here are complete (type, id, date, URI): warcio would only look
        # each one up again before taking them as they are
        return self.create_warc_record(uri, record_type, payload=io.BytesIO(stored) if stored else None,
                                       length=len(stored), warc_content_type=content_type,
                                       http_headers=http,
                                       warc_headers=StatusAndHeaders("", list(warc.items()),
                                                                     protocol=self.warc_version))

    def warcinfo(self, filename: str, fields: Sequence[tuple[str, str]], date: datetime) -> ArcWarcRecord:
        body = "".join(f"{k}: {v}\r\n" for k, v in fields if v).encode("utf-8")
        headers = self._headers("warcinfo", "", date, {"WARC-Filename": filename})
        return self._record("", "warcinfo", body, headers, content_type="application/warc-fields")

    def response(self, url: str, status: int, reason: str, headers: Sequence[tuple[str, str]],
                 body: bytes, date: datetime, extra: Mapping[str, str] | None = None,
                 protocol: str = "HTTP/1.1", payload_digest: str | None = None) -> ArcWarcRecord:
        """``payload_digest``: the body's, when the caller has it already."""
        http = _RawHeaders(f"{status} {reason}".strip(), list(headers), protocol=protocol)
        return self._record(url, "response", body, self._headers("response", url, date, extra or {}),
                            http, payload_digest=payload_digest)

    def request(self, url: str, method: str, headers: Sequence[tuple[str, str]], body: bytes,
                date: datetime, extra: Mapping[str, str] | None = None,
                protocol: str = "HTTP/1.1") -> ArcWarcRecord:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        http = _RawHeaders(f"{method} {target} {protocol}", list(headers), is_http_request=True)
        return self._record(url, "request", body, self._headers("request", url, date, extra or {}), http)

    def revisit(self, url: str, status: int, reason: str, headers: Sequence[tuple[str, str]],
                payload_digest: str, refers_to: Mapping[str, str], date: datetime,
                extra: Mapping[str, str] | None = None) -> ArcWarcRecord:
        """A revisit of identical payload: HTTP headers only, pointing at the stored original."""
        warc = self._headers("revisit", url, date, {
            **(extra or {}),
            "WARC-Profile": REVISIT_PROFILE,
            "WARC-Refers-To": refers_to["record_id"],
            "WARC-Refers-To-Target-URI": refers_to["url"],
            "WARC-Refers-To-Date": refers_to["date"],
            "WARC-Payload-Digest": payload_digest,
        })
        http = _RawHeaders(f"{status} {reason}".strip(), list(headers), protocol="HTTP/1.1")
        return self._record(url, "revisit", b"", warc, http)

    def metadata(self, url: str, body: bytes, content_type: str, date: datetime,
                 extra: Mapping[str, str] | None = None) -> ArcWarcRecord:
        return self._record(url, "metadata", body, self._headers("metadata", url, date, extra or {}),
                            content_type=content_type)

    def resource(self, url: str, body: bytes, content_type: str, date: datetime,
                 extra: Mapping[str, str] | None = None) -> ArcWarcRecord:
        """A resource record: content made by the capture itself (a screenshot, a rendition)."""
        return self._record(url, "resource", body, self._headers("resource", url, date, extra or {}),
                            content_type=content_type)

    # -- writing -------------------------------------------------------------------------
    def write(self, record: ArcWarcRecord, compress_level: int | None = None) -> Written:
        """Write one record as one gzip member (at ``compress_level`` if given); returns where it went."""
        offset = self.out.tell()
        level = self.compress_level if compress_level is None else compress_level
        self._write_warc_record(_LevelGzip(self.out, level), record)
        h = dict(record.rec_headers.headers)  # the names as written here and by warcio
        return Written(
            record_id=h["WARC-Record-ID"],
            offset=offset,
            length=self.out.tell() - offset,
            record_type=record.rec_type,
            uri=h.get("WARC-Target-URI") or "",
            date=h["WARC-Date"],
            block_digest=h["WARC-Block-Digest"],
            payload_digest=h.get("WARC-Payload-Digest"),
        )
