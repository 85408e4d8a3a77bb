"""A collection: its WARC files and the manifest, event log and index that describe them.

Layout under the collection directory::

    warcs/            NAME.warc.gz (closed) and NAME.warc.gz.open (being written)
    manifest.jsonl    fixity of every closed file (SHA-256, SM3, size, closing time)
    events.jsonl      the hash-chained PREMIS event log
    index.cdxj        where every record lies
    tally.json        how far the event log and manifest reached, so a cut at their end shows
    quarantine/       bytes cut from interrupted files, kept for forensic reading, never served
    seals/            seals made by `weidang seal`, with their time-stamp tokens (see seal.py)
    .lock             serialises appends to the three files above across processes
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from warc_store.cdxj import CdxjIndex
from warc_store.errors import CollectionLocked, StoreError
from warc_store.events import EventLog
from warc_store.manifest import Manifest
from warc_store.tally import NAME as TALLY_NAME
from warc_store.tally import Tally, read_tally, start_tally, tally_problems, tally_started, write_tally

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreConfig:
    """How files are written; the face builds it from the WARC_STORE_* settings."""

    compress_level: int = 6
    max_size: int = 1024**3
    max_age_seconds: float = 24 * 3600
    prefix: str = "weidang"
    # Payloads that are compressed already (JPEG, MP4, ...) go into stored gzip members (level 0):
    # deflate cannot shrink them, and trying costs ten times the time of storing them.
    stored_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp",
                                     "video/", "audio/", "application/zip", "application/gzip")
    index_batch: int = 256  # index lines kept back before one locked append (recovery re-indexes)

    def __post_init__(self) -> None:
        # File names are the prefix joined to warcs/: a '/' or a leading '.' could leave it.
        if not self.prefix or self.prefix.startswith(".") or any(c in self.prefix for c in "/\\\0"):
            raise StoreError(f"the WARC file name prefix {self.prefix!r} must be a plain name part "
                             "(letters, digits, '.', '_' or '-'), with no '/' and not starting with '.'")

    def level_for(self, content_type: str | None, content_encoding: str = "") -> int:
        """A body a server sent compressed (``Content-Encoding: gzip``: most API answers) cannot
        shrink either: deflate would spend 55 us on a 3 kB answer to save its headers' 130
        bytes, a fifth of what recording it costs."""
        ctype = (content_type or "").lower()
        if ctype and ctype.startswith(self.stored_types):
            return 0
        codings = {c.strip().lower() for c in content_encoding.split(",")} - {"", "identity"}
        return 0 if codings else self.compress_level


class Collection:
    def __init__(self, root: Path, clock: Clock = utc_now, agent: str = "weidang",
                 lock_timeout: float = 60.0) -> None:
        self.root = root
        self.name = root.name
        self.clock = clock
        self.agent = agent
        self.lock_timeout = lock_timeout
        self.warcs = root / "warcs"
        self.quarantine = root / "quarantine"
        self.manifest = Manifest(root / "manifest.jsonl")
        self.events = EventLog(root / "events.jsonl", clock)
        self.index = CdxjIndex(root / "index.cdxj")
        self.tally_path = root / TALLY_NAME
        self.lock_path = root / ".lock"
        self._lock = FileLock(str(self.lock_path))

    @classmethod
    def create(cls, root: Path, clock: Clock = utc_now, agent: str = "weidang") -> Collection:
        try:
            (root / "warcs").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the collection directory {root}: {exc.strerror}") from exc
        return cls(root, clock, agent)

    @classmethod
    def open(cls, root: Path, clock: Clock = utc_now, agent: str = "weidang") -> Collection:
        if not (root / "warcs").is_dir():
            raise StoreError(f"{root} is not a weidang collection (it has no warcs/ folder)")
        return cls(root, clock, agent)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise appends to the manifest, event log and index between processes; whatever
        was added to the event log or manifest meanwhile is counted in the tally on release."""
        try:
            with self._lock.acquire(timeout=self.lock_timeout):
                before = self._stats()
                try:
                    yield
                finally:
                    if self._stats() != before:
                        self._count()
        except Timeout as exc:
            raise CollectionLocked(
                f"the collection {self.root} stayed locked by another weidang process for "
                f"{self.lock_timeout:.0f} seconds"
            ) from exc

    def writable(self) -> bool:
        """Whether this process may write the collection (access(2) also says no on a read-only
        mount, even to root); readers such as verify then write nothing at all, not even the lock."""
        lock = self.lock_path
        return os.access(self.root, os.W_OK) and (not lock.exists() or os.access(lock, os.W_OK))

    def _stats(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        out: list[tuple[int, int] | None] = []
        for path in (self.events.path, self.manifest.path):
            try:
                st = path.stat()
                out.append((st.st_ino, st.st_size))
            except FileNotFoundError:
                out.append(None)
        return out[0], out[1]

    def _count(self) -> None:
        old = read_tally(self.tally_path)
        try:
            if old is None:
                if not tally_started(self.events):  # a new collection, or one from before tallies
                    start_tally(self.tally_path, self.events, self.manifest, self.agent)
                return  # else the tally was deleted: leave it missing, so that verify says so
            if not tally_problems(old, self.events, self.manifest):  # else keep the count of a cut
                write_tally(self.tally_path, Tally.of(self.events, self.manifest))
        except StoreError:
            pass  # a tally behind the files only weakens the check; the appends themselves are whole

    def record_event(self, event_type: str, outcome: str, detail: dict[str, Any]) -> dict[str, Any]:
        with self.locked():
            return self.events.append(event_type, outcome, detail, self.agent)

    def closed_files(self) -> list[Path]:
        return sorted(self.warcs.glob("*" + WARC_SUFFIX))

    def open_files(self) -> list[Path]:
        return sorted(self.warcs.glob("*" + WARC_SUFFIX + OPEN_SUFFIX))

    def host(self) -> str:
        return socket.gethostname()
