"""The capture writer: one process's stream of records into a collection's rotating WARC files.

Each process writes its own files (host and process id in the name), holding an exclusive lock
on the ``.open`` file it writes, so recovery can tell a live writer from a dead one. A file is
closed when it reaches the size limit or the age limit, or when the writer closes: it is synced,
hashed (SHA-256 and SM3), entered in the manifest, logged, and only then renamed without
``.open``. Secrets are redacted before any digest is computed.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import BinaryIO

from warc_store.cdxj import IndexEntry, warc_timestamp
from warc_store.collection import OPEN_SUFFIX, WARC_SUFFIX, Collection, StoreConfig
from warc_store.demo import demo_headers
from warc_store.digests import hash_file, record_digest
from warc_store.errors import StoreError
from warc_store.lines import fsync_dir
from warc_store.manifest import ManifestEntry
from warc_store.redaction import (
    REDACTION_HEADER,
    Redaction,
    RedactionPolicy,
    first_header,
    session_values,
)
from warc_store.writer import RecordWriter, Written

SOFTWARE = "weidang"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
Headers = Sequence[tuple[str, str]]
FILE_ID_FIELD = "weidang-file-id"  # in warcinfo and in the file's ``creation`` event
HARVEST_ID_FIELD = "weidang-harvest-id"  # in warcinfo (given by the harvest) and that event


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: Headers = ()
    body: bytes = b""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str = ""
    headers: Headers = ()
    body: bytes = b""
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class ExchangeRecords:
    """What one exchange became: record ids, and the stored original when it was a revisit."""

    request_id: str
    response_id: str
    url: str  # as stored, after redaction
    payload_digest: str
    revisit_of: str | None = None
    redacted: tuple[str, ...] = ()
    filename: str = ""


@dataclass
class _OpenFile:
    path: Path
    fh: BinaryIO
    writer: RecordWriter
    opened_at: datetime
    records: int = 0
    synced_to: int = 0  # the file's length at its last fsync


@dataclass
class CaptureWriter:
    """Writes exchanges and metadata into ``collection``; close it (or use ``with``) when done."""

    collection: Collection
    config: StoreConfig = field(default_factory=StoreConfig)
    redaction: RedactionPolicy = field(default_factory=RedactionPolicy)
    info: Mapping[str, str] = field(default_factory=dict)  # extra warcinfo fields (harvest id, demo)
    _current: _OpenFile | None = None
    _serial: int = 0
    files_closed: list[str] = field(default_factory=list)
    # Index lines not yet appended, and this writer's stored payloads, for revisits meanwhile.
    _pending: list[IndexEntry] = field(default_factory=list)
    _own_payloads: dict[str, IndexEntry] = field(default_factory=dict)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ---------------------------------------------------------------------------
    def write_exchange(self, request: HttpRequest, response: HttpResponse, *, dedup: bool = False,
                       when: datetime | None = None,
                       extra: Mapping[str, str] | None = None) -> ExchangeRecords:
        """Record one request and its response (a revisit when ``dedup`` and the payload is stored)."""
        moment = when or self.collection.clock()
        # a session the platform sets now is a secret from now on, wherever it shows up again
        self.learn_secrets(session_values(response.headers))
        resp_note = Redaction()
        url = self.redaction.url(request.url, resp_note)
        req_note = Redaction(set(resp_note.items))  # both records carry the URL
        req_headers = self.redaction.headers_list(request.headers, req_note)
        req_body, req_headers = self.redaction.body(request.body, req_headers, req_note)
        resp_headers = self.redaction.headers_list(response.headers, resp_note)
        resp_body, resp_headers = self.redaction.body(response.body, resp_headers, resp_note)
        payload_digest = record_digest(resp_body)
        original = None
        if dedup:
            original = (self._own_payloads.get(payload_digest)
                        or self.collection.index.by_payload_digest(payload_digest))

        f = self._file(len(resp_body) + len(req_body))
        common = dict(extra or {})
        resp_extra = {**common, REDACTION_HEADER: resp_note.header_value() or ""}
        if original is not None:
            record = f.writer.revisit(url, response.status, response.reason, resp_headers,
                                      payload_digest, {"record_id": original.record_id,
                                                       "url": original.url,
                                                       "date": original.date or original.timestamp},
                                      moment, resp_extra)
        else:
            record = f.writer.response(url, response.status, response.reason, resp_headers,
                                       resp_body, moment, resp_extra, protocol=response.protocol,
                                       payload_digest=payload_digest)
        mime = _content_type(resp_headers)
        # a revisit holds headers alone, which compress whatever the body was
        level = self.config.compress_level if original is not None else \
            self.config.level_for(mime, first_header(resp_headers, "content-encoding"))
        resp_written = f.writer.write(record, level)
        req_record = f.writer.request(url, request.method, req_headers, req_body, moment, {
            **common, "WARC-Concurrent-To": resp_written.record_id,
            REDACTION_HEADER: req_note.header_value() or ""})
        req_written = f.writer.write(req_record)
        f.records += 2
        self._index(f, [(resp_written, mime, response.status), (req_written, None, None)])
        return ExchangeRecords(
            request_id=req_written.record_id, response_id=resp_written.record_id, url=url,
            payload_digest=payload_digest,
            revisit_of=original.record_id if original is not None else None,
            redacted=tuple(sorted(req_note.items | resp_note.items)),
            filename=_final_name(f.path))

    def write_metadata(self, uri: str, body: bytes, content_type: str, *,
                       refers_to: Sequence[str] = (), when: datetime | None = None,
                       extra: Mapping[str, str] | None = None) -> Written:
        """A metadata record (e.g. a parsed post), linked to the records it describes."""
        note = Redaction()
        uri = self.redaction.url(uri, note)
        body, _ = self.redaction.body(body, [("Content-Type", content_type)], note)
        headers = dict(extra or {})
        if refers_to:
            headers["WARC-Refers-To"] = refers_to[0]
        if len(refers_to) > 1:
            headers["WARC-Weidang-Refers-To-All"] = " ".join(refers_to)
        headers[REDACTION_HEADER] = note.header_value() or ""
        f = self._file(len(body))
        written = f.writer.write(f.writer.metadata(uri, body, content_type,
                                                   when or self.collection.clock(), headers))
        f.records += 1
        self._index(f, [(written, content_type, None)])
        return written

    def write_resource(self, uri: str, body: bytes, content_type: str, *,
                       refers_to: str = "", when: datetime | None = None,
                       extra: Mapping[str, str] | None = None) -> Written:
        """A resource record (a screenshot, the rendered DOM, a PDF), referring to the response
        it was made from; a textual body goes through the same redaction as any other."""
        note = Redaction()
        uri = self.redaction.url(uri, note)
        body, _ = self.redaction.body(body, [("Content-Type", content_type)], note)
        headers = dict(extra or {})
        if refers_to:
            headers["WARC-Refers-To"] = refers_to
        headers[REDACTION_HEADER] = note.header_value() or ""
        f = self._file(len(body))
        written = f.writer.write(f.writer.resource(uri, body, content_type,
                                                   when or self.collection.clock(), headers),
                                 self.config.level_for(content_type.split(";")[0].strip()))
        f.records += 1
        self._index(f, [(written, content_type, None)])
        return written

    def learn_secrets(self, values: Sequence[str]) -> None:
        """Secrets obtained during the run (an access token): redacted from every later record."""
        if any(v not in self.redaction.secret_values for v in values):
            self.redaction = self.redaction.with_secrets(values)

    def scrub(self, text: str) -> str:
        """A message without any secret this writer knows (for logs, the catalog, the screen)."""
        return self.redaction.scrub(text)

    def flush(self) -> None:
        """Make everything written so far visible to other processes (index lines, file bytes)."""
        self._flush_index()
        if self._current is not None:
            self._current.fh.flush()

    def sync(self) -> None:
        """Make every record written so far durable (on disk, not only in the page cache).

        Call it before committing anything that refers to these records elsewhere (the catalog):
        after a power cut, what was committed must still be in the file. Costs one fsync when
        bytes were written since the last call, nothing otherwise; a closed file was synced then.
        """
        f = self._current
        if f is None:
            return
        f.fh.flush()
        end = f.fh.tell()
        if end == f.synced_to:
            return
        os.fsync(f.fh.fileno())
        if f.synced_to == 0:  # a new file: its name in warcs/ must survive too
            fsync_dir(f.path.parent)
        f.synced_to = end

    def rotate_if_due(self) -> None:
        """Close the current file if it is too old (the daemon calls this when idle)."""
        f = self._current
        if f is not None and self._age(f) >= self.config.max_age_seconds:
            self._close_current()

    def close(self) -> None:
        self._close_current()

    @property
    def current_path(self) -> Path | None:
        return self._current.path if self._current else None

    # -- files ----------------------------------------------------------------------------
    def _age(self, f: _OpenFile) -> float:
        return (self.collection.clock() - f.opened_at).total_seconds()

    def _file(self, upcoming: int) -> _OpenFile:
        f = self._current
        if f is not None and f.records > 0 and (
            f.fh.tell() + upcoming > self.config.max_size or self._age(f) >= self.config.max_age_seconds
        ):
            self._close_current()
            f = None
        return f or self._open_new()

    def _open_new(self) -> _OpenFile:
        now = self.collection.clock()
        host = re.sub(r"[^A-Za-z0-9.-]+", "-", self.collection.host()) or "host"
        self._serial += 1
        name = (f"{self.config.prefix}-{now.strftime('%Y%m%d%H%M%S%f')}-{self._serial:05d}"
                f"-{host}-{os.getpid()}{WARC_SUFFIX}")
        path = self.collection.warcs / (name + OPEN_SUFFIX)
        # Logged before the file exists: recovery adopts only files this collection began.
        file_id = uuid.uuid4().hex
        self.collection.record_event("creation", "success", {
            "file": name, "file_id": file_id, "harvest": self.info.get(HARVEST_ID_FIELD, "")})
        try:
            self.collection.warcs.mkdir(parents=True, exist_ok=True)
            fh = open(path, "xb")
        except OSError as exc:
            raise StoreError(f"cannot create the WARC file {path}: {exc.strerror}") from exc
        # Held until the file is closed: recovery only touches .open files nobody holds.
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        writer = RecordWriter(fh, self.config.compress_level, demo_headers(dict(self.info)))
        f = _OpenFile(path, fh, writer, now)
        written = writer.write(writer.warcinfo(name, self._warcinfo_fields(file_id), now))
        f.records = 1
        self._current = f
        self._index(f, [(written, "application/warc-fields", None)])
        return f

    def _warcinfo_fields(self, file_id: str) -> list[tuple[str, str]]:
        fields = [
            ("software", f"{SOFTWARE}/{_version('weidang')} (warcio/{_version('warcio')}; "
                         f"Python {platform.python_version()})"),
            ("hostname", self.collection.host()),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", CONFORMS_TO),
            ("isPartOf", self.collection.name),
            ("weidang-record-digest", "sha256 (WARC-Block-Digest, WARC-Payload-Digest; lowercase hex)"),
            ("weidang-file-fixity", "sha256, sm3 (GB/T 32905-2016); recorded in manifest.jsonl on close"),
            ("weidang-redaction", f"header {REDACTION_HEADER} names what was removed from a record"),
            (FILE_ID_FIELD, file_id),
        ]
        return fields + [(k, str(v)) for k, v in self.info.items()]

    def _index(self, f: _OpenFile, written: Sequence[tuple[Written, str | None, int | None]]) -> None:
        name = _final_name(f.path)
        entries = [IndexEntry(
            url=w.uri, timestamp=warc_timestamp(w.date), record_id=w.record_id,
            record_type=w.record_type, filename=name, offset=w.offset, length=w.length,
            digest=w.payload_digest or w.block_digest, mime=mime, status=status, date=w.date,
        ) for w, mime, status in written]
        for entry in entries:
            if entry.record_type == "response" and entry.digest:
                self._own_payloads.setdefault(entry.digest, entry)
        self._pending.extend(entries)
        if len(self._pending) >= self.config.index_batch:
            self._flush_index()

    def _flush_index(self) -> None:
        if self._pending:
            with self.collection.locked():
                self.collection.index.append(self._pending)
            self._pending = []

    def _close_current(self) -> None:
        f = self._current
        if f is None:
            return
        self._current = None
        self._flush_index()
        f.fh.flush()
        os.fsync(f.fh.fileno())
        seal_file(self.collection, f.path, f.records, "closed by its writer")
        f.fh.close()  # releases the flock only after the file is renamed
        self.files_closed.append(_final_name(f.path))


def seal_file(collection: Collection, open_path: Path, records: int, how: str) -> ManifestEntry:
    """Hash a finished ``.open`` file, enter it in the manifest and the log, then rename it."""
    final = open_path.with_name(_final_name(open_path))
    fixity = hash_file(open_path)
    entry = ManifestEntry(file=final.name, size=fixity.size, sha256=fixity.sha256, sm3=fixity.sm3,
                          closed_at=collection.clock().isoformat(timespec="seconds"),
                          records=records)
    with collection.locked():
        collection.manifest.add(entry)
        log_fixity(collection, entry, how)
    os.rename(open_path, final)
    fsync_dir(final.parent)
    return entry


def log_fixity(collection: Collection, entry: ManifestEntry, how: str) -> None:
    """The ``message digest calculation`` event that matches a manifest entry; under the lock."""
    collection.events.append("message digest calculation", "success", {
        "file": entry.file, "size": entry.size, "sha256": entry.sha256, "sm3": entry.sm3,
        "records": entry.records, "note": how}, collection.agent)


def _final_name(path: Path) -> str:
    return path.name.removesuffix(OPEN_SUFFIX)


def _content_type(headers: Headers) -> str | None:
    return first_header(headers, "content-type").split(";")[0].strip() or None


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


if sys.platform == "win32":  # pragma: no cover - fcntl is POSIX; weidang targets Debian
    raise StoreError("weidang's WARC store needs a POSIX system (file locks via fcntl)")
