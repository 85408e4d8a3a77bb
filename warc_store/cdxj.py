"""The collection's CDXJ index: where every record lies, so it is found and re-read without a scan.

One line per record of every type (warcinfo and request too): ``<SURT url key> <14-digit
timestamp> <JSON>``. The JSON carries url, digest, mime, status, filename, offset and length, plus
the WARC record id and type, because the catalog refers to records by id. Lines are appended as
records are written, by every writer of the collection, so the file is in write order; readers
follow its growth, so a long-running process sees other writers' records too.

It is CDXJ in syntax, not a replay index: pywb and WACZ readers need the lines sorted, without
request and warcinfo lines, and revisits under the mime ``warc/revisit``. ``replay_index.py``
derives that form from this file; this one stays as it is (appends only, found by record id)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from warc_store.errors import StoreError
from warc_store.lines import append_whole, cut_torn_tail, replace_whole


@dataclass(frozen=True, slots=True)  # slots: a web server keeps every entry of an index in memory
class IndexEntry:
    url: str
    timestamp: str  # 14 digits, UTC
    record_id: str
    record_type: str
    filename: str
    offset: int
    length: int
    digest: str | None = None  # payload digest for HTTP records, block digest otherwise
    mime: str | None = None
    status: int | None = None
    date: str | None = None  # the record's exact WARC-Date, for WARC-Refers-To-Date

    def to_line(self) -> str:
        key = url_key(self.url) if self.url else "-"
        # not dataclasses.asdict(): asdict deep-copies, and this runs for every record
        fields = {k: v for k in _FIELDS if (v := getattr(self, k)) is not None}
        return f"{key} {self.timestamp} {json.dumps(fields, ensure_ascii=False, separators=(',', ':'))}\n"

    @classmethod
    def from_line(cls, line: str, shared: dict[str, str] | None = None) -> IndexEntry:
        """``shared``: strings already read, so that an index kept in memory holds each file
        name, record type, media type and second once, not once per record."""
        _key, timestamp, raw = line.rstrip("\n").split(" ", 2)
        data = json.loads(raw)
        if shared is not None:
            timestamp = shared.setdefault(timestamp, timestamp)
            for name in _REPEATED:
                value = data.get(name)
                if value is not None:
                    data[name] = shared.setdefault(value, value)
        return cls(timestamp=timestamp, **data)


_FIELDS = tuple(f.name for f in dataclasses.fields(IndexEntry) if f.name != "timestamp")
_REPEATED = ("filename", "record_type", "mime")  # few values, each in many entries


def url_key(url: str) -> str:
    # Imported here: surt brings tldextract and requests (0.13 s), which a command that only
    # reads the index (verify, search, the web pages) never needs.
    import surt as surt_lib

    try:
        return str(surt_lib.surt(url))
    except Exception:  # surt rejects some odd URLs; the raw URL still sorts and matches exactly
        return url


def warc_timestamp(warc_date: str) -> str:
    """``2026-11-25T12:00:00.123456Z`` -> ``20261125120000``."""
    digits = "".join(ch for ch in warc_date[:19] if ch.isdigit())
    return digits.ljust(14, "0")


class CdxjIndex:
    """Reads and appends the index file; appends must happen under the collection lock. Reading
    is incremental and may be shared by threads (a web server keeps one per collection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reading = threading.Lock()
        self._read_to = 0
        self._inode: int | None = None
        self._by_id: dict[str, IndexEntry] = {}
        self._by_digest: dict[str, IndexEntry] = {}
        self._by_url: dict[str, list[IndexEntry]] = {}
        self._shared: dict[str, str] = {}

    def append(self, entries: Iterable[IndexEntry]) -> None:
        """Append whole lines or nothing; call under the collection lock."""
        data = "".join(e.to_line() for e in entries).encode("utf-8")
        if data:
            self.cut_torn_tail()
            append_whole(self.path, data)

    def cut_torn_tail(self) -> bytes:
        """Drop a line a crash or a full disk left unfinished (its records are re-indexed by
        recovery, which reads them from their file); call under the collection lock."""
        return cut_torn_tail(self.path)

    def rewrite(self, entries: Iterable[IndexEntry]) -> None:
        """Replace the whole index atomically (used after recovery cuts a file)."""
        replace_whole(self.path, (e.to_line().encode("utf-8") for e in entries))
        with self._reading:
            self._forget()

    def _forget(self) -> None:
        self._read_to = 0
        self._shared.clear()
        self._by_id.clear()
        self._by_digest.clear()
        self._by_url.clear()

    def __iter__(self) -> Iterator[IndexEntry]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.endswith("\n") and line.strip():  # an unfinished last line is not yet there
                    yield self._parse(line, number)

    def _parse(self, line: str, number: int | None) -> IndexEntry:
        try:
            return IndexEntry.from_line(line, self._shared)
        except (ValueError, TypeError) as exc:
            where = f"line {number}" if number else "a line"
            raise StoreError(f"{where} of the index {self.path} is damaged; run `weidang verify`") from exc

    def refresh(self) -> None:
        """Read what other writers appended since the last call."""
        with self._reading:  # two threads reading the same tail would remember it twice
            self._refresh()

    def _refresh(self) -> None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return
        if status.st_ino != self._inode:  # rewritten (recovery): start over
            self._inode = status.st_ino
            self._forget()
        elif status.st_size <= self._read_to:
            return  # nothing appended: a writer asks after every new payload, mostly in vain
        with open(self.path, "rb") as fh:  # line by line: an index of 80 MB is not held twice
            fh.seek(self._read_to)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # a line still being appended is read next time
                self._read_to += len(raw)
                if raw.strip():
                    self._remember(self._parse(raw.decode("utf-8", "replace"), None))

    def _remember(self, entry: IndexEntry) -> None:
        self._by_id[entry.record_id] = entry
        self._by_url.setdefault(entry.url, []).append(entry)
        if entry.digest and entry.record_type == "response":
            self._by_digest.setdefault(entry.digest, entry)

    def by_record_id(self, record_id: str) -> IndexEntry | None:
        if record_id not in self._by_id:
            self.refresh()
        return self._by_id.get(record_id)

    def by_payload_digest(self, digest: str) -> IndexEntry | None:
        """The first response stored with this payload digest (the target of revisits)."""
        if digest not in self._by_digest:
            self.refresh()
        return self._by_digest.get(digest)

    def by_url(self, url: str) -> list[IndexEntry]:
        self.refresh()
        return list(self._by_url.get(url, []))
