"""The collection's own count of its event log and manifest, so that cutting either is noticed.

The chain proves no event was edited, and each manifest entry has its digest event, but deleting
the *last* events, or emptying the log, leaves a chain that is still whole. ``tally.json`` keeps
how far both files reached: the last event's number, hash and byte offset, and the manifest's
line count and digest. It is rewritten (atomically) after every append under the collection
lock, but only while the files still extend what it counted: once something was cut, the tally
keeps the old count, so `verify` reports the cut until someone looks into it, even after later
harvests added events. Someone who can write the collection can also rewrite the tally; only a
seal kept elsewhere catches that (see seal.py).

The first tally is announced in the chain by a ``creation`` event naming tally.json, so a missing
tally is a deletion only where that event is: a collection written before tallies existed has
none, and gets its tally (and the event) at its next append instead of failing verify forever.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from warc_store.events import EventLog
from warc_store.lines import replace_whole
from warc_store.manifest import Manifest

NAME = "tally.json"
START_NOTE = ("from here on tally.json counts the event log and the manifest; a missing tally.json "
              "is a deletion")


@dataclass(frozen=True)
class Tally:
    events: int
    event_hash: str
    events_bytes: int
    manifest_lines: int
    manifest_sha256: str

    @classmethod
    def of(cls, events: EventLog, manifest: Manifest) -> Tally:
        head = events.head()
        size = events.path.stat().st_size if events.path.exists() else 0
        lines = manifest.line_count()
        return cls(head.seq, head.hash, size, lines, manifest.prefix_digest(lines))


def read_tally(path: Path) -> Tally | None:
    """The stored tally; None when there is none. A damaged one reads as an impossible count."""
    try:
        return Tally(**json.loads(path.read_bytes()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return Tally(-1, "", -1, -1, "")


def write_tally(path: Path, tally: Tally) -> None:
    replace_whole(path, [(json.dumps(asdict(tally), sort_keys=True) + "\n").encode("utf-8")])


def tally_started(events: EventLog) -> bool:
    """Whether the chain announces a tally (a collection written before tallies does not)."""
    return any(e.get("type") == "creation" and (e.get("detail") or {}).get("file") == NAME
               for e in events.entries())


def start_tally(path: Path, events: EventLog, manifest: Manifest, agent: str) -> None:
    """Write the first tally and announce it in the chain; call under the collection lock. The
    tally is written before the event, so a failure between them never leaves the chain
    claiming a tally that does not exist."""
    write_tally(path, Tally.of(events, manifest))
    events.append("creation", "success", {"file": NAME, "note": START_NOTE}, agent)
    write_tally(path, Tally.of(events, manifest))


def tally_problems(tally: Tally | None, events: EventLog, manifest: Manifest) -> list[str]:
    """Why the event log and manifest no longer extend what was counted (empty if they do)."""
    if tally is None:
        if tally_started(events):
            return [f"{NAME}, the collection's count of its events and manifest entries, is "
                    "missing (deleted?): cuts at the end of either file cannot be ruled out"]
        return []
    if tally.events < 0:
        return [f"{NAME} is damaged: cuts at the end of the event log or manifest cannot be ruled out"]
    return _event_problems(tally, events) + _manifest_problems(tally, manifest)


def _event_problems(tally: Tally, events: EventLog) -> list[str]:
    if tally.events == 0:
        return []
    size = events.path.stat().st_size if events.path.exists() else 0
    if size < tally.events_bytes:
        found = events.head().seq
        return [f"the event log ends at event {found}, but {tally.events} events were counted: "
                "events were deleted from its end, or the log was emptied or removed"]
    counted = _line_ending_at(events.path, tally.events_bytes)
    try:
        entry = json.loads(counted)
        same = entry.get("seq") == tally.events and entry.get("hash") == tally.event_hash
    except ValueError:
        same = False
    if same:
        return []
    return [f"event {tally.events} of the event log is not the one counted: the end of the log "
            "was deleted and written again, or edited"]


def _manifest_problems(tally: Tally, manifest: Manifest) -> list[str]:
    lines = manifest.line_count()
    if lines < tally.manifest_lines:
        return [f"the manifest has {lines} entries, but {tally.manifest_lines} were counted: "
                "entries were deleted (or the manifest was replaced)"]
    if manifest.prefix_digest(tally.manifest_lines) != tally.manifest_sha256:
        return [f"the manifest's first {tally.manifest_lines} entries changed since they were counted"]
    return []


def _line_ending_at(path: Path, end: int) -> bytes:
    """The line whose newline is the byte before ``end``."""
    with open(path, "rb") as fh:
        start = max(0, end - 65536)
        while True:
            fh.seek(start)
            chunk = fh.read(end - start)
            found = chunk.rfind(b"\n", 0, len(chunk) - 1)
            if found >= 0 or start == 0:
                return chunk[found + 1:].rstrip(b"\n")
            start = max(0, start - 65536)
