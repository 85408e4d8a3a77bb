"""The collection's append-only event log, hash-chained so that no entry can be edited unseen.

Each line is a JSON object with a sequence number, UTC time, a PREMIS event type (name and its
id.loc.gov URI), outcome, agent and details, the hash of the previous entry and its own hash
(SHA-256 over the canonical JSON of all other fields). Deleting, editing, inserting or reordering
an entry breaks the chain at that point. Appends happen under the collection lock.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
_PREMIS = "http://id.loc.gov/vocabulary/preservation/eventType/"
# PREMIS eventType vocabulary: the name and the code of its URI.
EVENT_TYPES = {
    "capture": "cap",
    "message digest calculation": "mes",
    "fixity check": "fix",
    "recovery": "rec",
    "redaction": "red",
    "ingestion": "ing",
    "deletion": "del",
    "metadata modification": "mem",
}


@dataclass(frozen=True)
class ChainProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def _entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class EventLog:
    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self.clock = clock or (lambda: datetime.now(UTC))

    def _lines(self) -> list[bytes]:
        return self.path.read_bytes().splitlines() if self.path.exists() else []

    def head(self) -> ChainHead:
        lines = [ln for ln in self._lines() if ln.strip()]
        if not lines:
            return ChainHead(0, GENESIS)
        try:
            last = json.loads(lines[-1])
            return ChainHead(int(last["seq"]), str(last["hash"]))
        except (ValueError, KeyError):
            return ChainHead(len(lines), hashlib.sha256(lines[-1]).hexdigest())

    def append(self, event_type: str, outcome: str, detail: Mapping[str, Any], agent: str) -> dict[str, Any]:
        """Add one event; call under the collection lock."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown PREMIS event type {event_type!r}")
        head = self.head()
        entry: dict[str, Any] = {
            "seq": head.seq + 1,
            "time": self.clock().astimezone(UTC).isoformat(timespec="microseconds"),
            "type": event_type,
            "type_uri": _PREMIS + EVENT_TYPES[event_type],
            "outcome": outcome,
            "agent": agent,
            "detail": dict(detail),
            "prev": head.hash,
        }
        entry["hash"] = _entry_hash(entry)
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for raw in self._lines():
            if raw.strip():
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    out.append({})
        return out

    def check(self, sealed: ChainHead | None = None) -> list[ChainProblem]:
        """Every problem in the chain; with ``sealed``, also whether it still extends that head."""
        problems: list[ChainProblem] = []
        prev, expected_seq = GENESIS, 1
        seen_sealed = sealed is None or sealed.seq == 0
        for number, raw in enumerate(self._lines(), 1):
            if not raw.strip():
                problems.append(ChainProblem(number, "blank line in the event log"))
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                problems.append(ChainProblem(number, "event is not valid JSON (edited or cut)"))
                prev = hashlib.sha256(raw).hexdigest()
                expected_seq += 1
                continue
            seq = entry.get("seq")
            if seq != expected_seq:
                problems.append(ChainProblem(
                    number, f"event number {seq} where {expected_seq} was expected "
                    "(an event was deleted, inserted or moved)"))
            if entry.get("prev") != prev:
                problems.append(ChainProblem(
                    number, f"event {seq} does not follow the event before it (chain broken)"))
            if _entry_hash(entry) != entry.get("hash"):
                problems.append(ChainProblem(number, f"event {seq} was changed after it was written"))
            if sealed is not None and seq == sealed.seq:
                seen_sealed = entry.get("hash") == sealed.hash
                if not seen_sealed:
                    problems.append(ChainProblem(
                        number, f"event {seq} is not the event that was sealed"))
            prev = str(entry.get("hash"))
            expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
        if sealed is not None and not seen_sealed and not any("sealed" in p.message for p in problems):
            problems.append(ChainProblem(0, f"the sealed event {sealed.seq} is missing from the log"))
        return problems
