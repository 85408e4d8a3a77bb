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
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warc_store.cdxj_lookup import (
    BY_DIGEST,
    BY_FILE,
    BY_ID,
    BY_URL,
    LineLookup,
    damaged,
    line_fields,
)
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
        return self.line_and_fields()[0]

    def line_and_fields(self) -> tuple[str, dict[str, Any]]:
        """The index line, and the JSON fields it carries."""
        key = url_key(self.url) if self.url else "-"
        # not dataclasses.asdict(): asdict deep-copies, and this runs for every record
        fields = {k: v for k in _FIELDS if (v := getattr(self, k)) is not None}
        text = json.dumps(fields, ensure_ascii=False, separators=(',', ':'))
        return f"{key} {self.timestamp} {text}\n", fields

    @classmethod
    def from_line(cls, line: str, shared: dict[str, str] | None = None) -> IndexEntry:
        """``shared``: strings already read, so that an index kept in memory holds each file
        name, record type, media type and second once, not once per record."""
        _key, timestamp, raw = line.rstrip("\n").split(" ", 2)
        return cls.from_fields(timestamp, json.loads(raw), shared)

    @classmethod
    def from_fields(cls, timestamp: str, data: dict[str, Any],
                    shared: dict[str, str] | None = None) -> IndexEntry:
        """The entry of a line whose timestamp and JSON fields are read (``data`` is reused)."""
        if shared is not None:
            timestamp = shared.setdefault(timestamp, timestamp)
            for name in _REPEATED:
                value = data.get(name)
                if value is not None:
                    data[name] = shared.setdefault(value, value)
        return cls(timestamp=timestamp, **data)


_FIELDS = tuple(f.name for f in dataclasses.fields(IndexEntry) if f.name != "timestamp")
_REPEATED = ("filename", "record_type", "mime")  # few values, each in many entries
SHARED_STRINGS = 4096  # repeated strings an iteration keeps at most


@functools.lru_cache(maxsize=1024)  # an exchange's request and response share their URL
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
    digits = "".join(filter(str.isdigit, warc_date[:19]))
    return digits.ljust(14, "0")


class CdxjIndex:
    """Reads and appends the index file; appends must happen under the collection lock. Look-ups
    go through a table on disk (``cdxj_lookup``) that follows the file's growth, so a process
    sees other writers' records too without holding the index in memory; an index may be shared
    by threads (a web server keeps one per collection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lookup = LineLookup(path, self._entry)

    def append(self, entries: Iterable[IndexEntry]) -> None:
        """Append whole lines or nothing; call under the collection lock."""
        lines = [(line.encode("utf-8"), fields)
                 for line, fields in (e.line_and_fields() for e in entries)]
        if lines:
            self.cut_torn_tail()
            inode, start = append_whole(self.path, b"".join(raw for raw, _ in lines))
            self._lookup.appended(inode, start, lines)

    def cut_torn_tail(self) -> bytes:
        """Drop a line a crash or a full disk left unfinished (its records are re-indexed by
        recovery, which reads them from their file); call under the collection lock."""
        return cut_torn_tail(self.path)

    def rewrite(self, entries: Iterable[IndexEntry]) -> None:
        """Replace the whole index with these entries' lines, atomically."""
        replace_whole(self.path, (e.to_line().encode("utf-8") for e in entries))
        self._lookup.forget()

    def replace_file(self, filename: str, entries: Iterable[IndexEntry]) -> None:
        """Replace the lines of one WARC file with ``entries``' (put last), atomically; every
        other line is kept byte for byte, streamed, so a collection of any size is rewritten in
        the same memory. Used by recovery; call under the collection lock."""
        def kept() -> Iterator[bytes]:
            yield from self._lines_of_others(filename)
            for entry in entries:
                yield entry.to_line().encode("utf-8")

        replace_whole(self.path, kept())
        self._lookup.forget()

    def _lines_of_others(self, filename: str) -> Iterator[bytes]:
        """Every whole line of the index but those of ``filename``, as they are."""
        for offset, raw in self._whole_lines():
            if self._fields(offset, raw)[1].get("filename") != filename:
                yield raw

    def _whole_lines(self) -> Iterator[tuple[int, bytes]]:
        """Each whole line and its offset; an unfinished last line is not yet there, and a
        missing index (a writer killed before its first line) has none."""
        if not self.path.exists():
            return
        offset = 0
        with open(self.path, "rb") as fh:
            for raw in fh:
                if raw.endswith(b"\n") and raw.strip():
                    yield offset, raw
                offset += len(raw)

    def _fields(self, offset: int, raw: bytes) -> tuple[str, dict[str, Any]]:
        try:
            return line_fields(raw)
        except ValueError as exc:
            raise damaged(self.path, offset) from exc

    def close(self) -> None:
        """Close the look-up table (reopened at the next look-up)."""
        self._lookup.close()

    def __iter__(self) -> Iterator[IndexEntry]:
        # For a caller keeping every entry (a package's records): the strings many entries
        # repeat are kept once. Records of one second lie next to each other in an index written
        # in order, so forgetting now and then keeps nearly all the sharing, and a pass over a
        # whole archive does not hold every second it has seen.
        shared: dict[str, str] = {}
        for offset, raw in self._whole_lines():
            yield self._entry(*self._fields(offset, raw), offset, shared)
            if len(shared) > SHARED_STRINGS:
                shared.clear()

    def _entry(self, timestamp: str, fields: dict[str, Any], offset: int,
               shared: dict[str, str] | None = None) -> IndexEntry:
        try:
            return IndexEntry.from_fields(timestamp, fields, shared)
        except (ValueError, TypeError) as exc:
            raise damaged(self.path, offset) from exc

    def refresh(self) -> None:
        """Take in what other writers appended since the last look-up."""
        self._lookup.refresh()

    def _find(self, by: tuple[str, int], value: str) -> list[IndexEntry]:
        """The lines found; if none, those appended since the last look-up are taken in first
        (a writer asks after every new payload, mostly in vain)."""
        found = self._lookup.find(by, value)
        if not found and self._lookup.refresh():
            found = self._lookup.find(by, value)
        return found

    def by_record_id(self, record_id: str) -> IndexEntry | None:
        found = self._find(BY_ID, record_id)
        return found[0] if found else None

    def by_payload_digest(self, digest: str) -> IndexEntry | None:
        """The first response stored with this payload digest (the target of revisits)."""
        found = self._find(BY_DIGEST, digest)
        return found[0] if found else None

    def by_url(self, url: str) -> list[IndexEntry]:
        self.refresh()
        return self._lookup.find(BY_URL, url)

    def by_file(self, filename: str) -> list[IndexEntry]:
        """The records of one WARC file, in index order (without reading the others' lines)."""
        self.refresh()
        return self._lookup.find(BY_FILE, filename)
