"""Reading WARC files back: the one way everything above warc_store reads them.

A plain iterator in the manner of warcio's ``ArchiveIterator`` (on which it is built), handing
out ``StoredRecord`` values whose payload is already read:

    for record in iter_records(path, record_types=("metadata",)):
        ...
    read_record(collection, record_id)           # through the CDXJ index
    read_record_at(collection, filename, offset)  # where a record's gzip member starts
    read_warcinfo(path)                          # the fields of a file's warcinfo record
    metadata_entries(collection, "urn:weidang:post:")  # metadata records, through the index

Verification reads files with its own scanner (``scan.py``): it checks digests as it streams and
resynchronises after a damaged member, which a reader for everyday use does not need.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection as Kinds
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from warc_store.cdxj import IndexEntry
from warc_store.collection import OPEN_SUFFIX, Collection
from warc_store.errors import DamagedRecord, RecordNotFound, StoreError
from warc_store.redaction import decode_body

# What warcio raises on bytes that are not (or no longer) a whole WARC record.
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, ValueError)


@dataclass(frozen=True)
class StoredRecord:
    record_id: str
    record_type: str
    uri: str
    date: str
    warc_headers: list[tuple[str, str]]
    http_status: int | None
    http_headers: list[tuple[str, str]]
    payload: bytes  # as stored (still Content-Encoded if it arrived so): WARC-Payload-Digest holds
    filename: str
    offset: int

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.warc_headers if k.lower() == lower), None)

    def decoded_payload(self) -> bytes | None:
        """The HTTP body without its content codings (gzip, br...), as the client read it;
        None when a coding is unknown, does not decode, or decodes past 1 GiB (``DECODED_LIMIT``)."""
        coding = next((v for k, v in self.http_headers if k.lower() == "content-encoding"), "")
        return decode_body(self.payload, coding)


def warc_path(collection: Collection, filename: str) -> Path:
    """The file ``filename`` (as the index names it) of the collection, closed or still open."""
    path = collection.warcs / filename
    if path.exists():
        return path
    if (collection.warcs / (filename + OPEN_SUFFIX)).exists():
        return collection.warcs / (filename + OPEN_SUFFIX)
    raise StoreError(f"the WARC file {filename} listed in the index is missing from {collection.warcs}")


def iter_records(path: Path, record_types: Kinds[str] | None = None) -> Iterator[StoredRecord]:
    """Every record of one WARC file in file order (only ``record_types``, if given: the others
    are passed over without keeping their payloads).

    Raises ``DamagedRecord`` where the file cannot be read further (a record cut short, a
    damaged gzip member, bytes that are not WARC); the records before it have been yielded.
    """
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise StoreError(f"the WARC file {path} cannot be read ({exc.strerror})") from exc
    with fh:
        yield from _records(fh, path.name.removesuffix(OPEN_SUFFIX), record_types)


def _records(fh: BinaryIO, filename: str, kinds: Kinds[str] | None) -> Iterator[StoredRecord]:
    it = ArchiveIterator(fh)
    offset = 0
    try:
        for record in it:
            # The offset is known only once the record is read to its end (warcio reads the
            # rest of it to find out): take the payload first.
            wanted = kinds is None or record.rec_type in kinds
            stored = _stored(record, filename, 0) if wanted else None
            offset = it.get_record_offset()
            if stored is not None:
                yield replace(stored, offset=offset)
    except _READ_ERRORS as exc:
        raise DamagedRecord(filename, _reason(exc)) from exc
    except OSError as exc:  # the disk, not the file's contents
        raise StoreError(f"the WARC file {filename} cannot be read ({exc.strerror})") from exc


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def read_record(collection: Collection, record_id: str) -> StoredRecord:
    """The record ``record_id`` of the collection, found through its CDXJ index."""
    entry = collection.index.by_record_id(record_id)
    if entry is None:
        raise RecordNotFound(f"no record {record_id} in the index of {collection.root}")
    return read_record_at(collection, entry.filename, entry.offset)


_GZIP_MAGIC = b"\x1f\x8b"
_RECORD_STARTS = (_GZIP_MAGIC, b"WA")  # a gzip member, or an uncompressed "WARC/1.x" line


def read_record_at(collection: Collection, filename: str, offset: int) -> StoredRecord:
    """The record whose gzip member starts at ``offset`` of the file ``filename``."""
    try:
        with open(warc_path(collection, filename), "rb") as fh:
            fh.seek(offset)
            # warcio reads leniently: bytes inside a gzip member can pass for a plain record
            if fh.read(len(_GZIP_MAGIC)) not in _RECORD_STARTS:
                raise DamagedRecord(filename, "no record starts there", offset)
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                return _stored(record, filename, offset)
    except _READ_ERRORS as exc:
        raise DamagedRecord(filename, _reason(exc), offset) from exc
    except OSError as exc:
        raise StoreError(f"the WARC file {filename} cannot be read ({exc.strerror})") from exc
    raise DamagedRecord(filename, "no record starts there", offset)


def read_warcinfo(path: Path) -> dict[str, str]:
    """The ``name: value`` fields of the file's warcinfo record (its first record); empty when
    the file has none or cannot be read."""
    try:
        for record in iter_records(path):
            if record.record_type != "warcinfo":
                return {}
            body = record.payload.decode("utf-8", "replace")
            return {k.strip(): v.strip() for k, sep, v in
                    (line.partition(":") for line in body.splitlines()) if sep}
    except StoreError:
        pass
    return {}


def metadata_entries(collection: Collection, uri_prefix: str = "") -> Iterator[IndexEntry]:
    """The index entries of the collection's metadata records whose URI starts with
    ``uri_prefix``, in the order they were indexed; no WARC file is opened."""
    path = collection.index.path
    if not path.exists():
        return
    # Most lines are exchanges: skip them without parsing the JSON (written compact, unescaped).
    marker = f'"url":"{uri_prefix}'
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if marker in line and line.endswith("\n"):
                entry = IndexEntry.from_line(line)
                if entry.record_type == "metadata" and entry.url.startswith(uri_prefix):
                    yield entry


def _stored(record: Any, filename: str, offset: int) -> StoredRecord:
    """A warcio ``ArcWarcRecord`` as a StoredRecord, its payload read in full (and checked)."""
    http = record.http_headers
    status = None
    if http is not None and record.rec_type in ("response", "revisit"):
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
    h = record.rec_headers
    payload = record.raw_stream.read()
    if getattr(record.raw_stream, "limit", 0) > 0:  # warcio's LimitReader: bytes still owed
        raise EOFError("a record is shorter than its Content-Length")
    return StoredRecord(
        record_id=h.get_header("WARC-Record-ID"), record_type=record.rec_type,
        uri=h.get_header("WARC-Target-URI") or "", date=h.get_header("WARC-Date") or "",
        warc_headers=list(h.headers), http_status=status,
        http_headers=list(http.headers) if http is not None else [],
        payload=payload, filename=filename, offset=offset,
    )
