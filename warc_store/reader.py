"""Read one record back by its id (or every record of a file) through warcio."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from warc_store.collection import OPEN_SUFFIX, Collection
from warc_store.errors import RecordNotFound, StoreError


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


def _path(collection: Collection, filename: str) -> Path:
    path = collection.warcs / filename
    if path.exists():
        return path
    if (collection.warcs / (filename + OPEN_SUFFIX)).exists():
        return collection.warcs / (filename + OPEN_SUFFIX)
    raise StoreError(f"the WARC file {filename} listed in the index is missing from {collection.warcs}")


def read_record(collection: Collection, record_id: str) -> StoredRecord:
    entry = collection.index.by_record_id(record_id)
    if entry is None:
        raise RecordNotFound(f"no record {record_id} in the index of {collection.root}")
    with open(_path(collection, entry.filename), "rb") as fh:
        fh.seek(entry.offset)
        for record in ArchiveIterator(fh):
            return _stored(record, entry.filename, entry.offset)
    raise StoreError(f"record {record_id} could not be read at offset {entry.offset} of {entry.filename}")


def iter_records(path: Path) -> Iterator[StoredRecord]:
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            yield _stored(record, path.name.removesuffix(OPEN_SUFFIX), it.get_record_offset())


def _stored(record: object, filename: str, offset: int) -> StoredRecord:
    rec = record  # warcio's ArcWarcRecord
    http = getattr(rec, "http_headers", None)
    status = None
    if http is not None and getattr(rec, "rec_type", "") in ("response", "revisit"):
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
    h = rec.rec_headers  # type: ignore[attr-defined]
    return StoredRecord(
        record_id=h.get_header("WARC-Record-ID"), record_type=rec.rec_type,  # type: ignore[attr-defined]
        uri=h.get_header("WARC-Target-URI") or "", date=h.get_header("WARC-Date") or "",
        warc_headers=list(h.headers), http_status=status,
        http_headers=list(http.headers) if http is not None else [],
        payload=rec.raw_stream.read(), filename=filename, offset=offset,  # type: ignore[attr-defined]
    )
