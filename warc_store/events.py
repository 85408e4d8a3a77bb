"""The collection's append-only event log, hash-chained so that no entry can be edited unseen.

Each line is a JSON object with a sequence number, UTC time, a PREMIS event type (name and its
id.loc.gov URI), outcome, agent and details, the hash of the previous entry and its own hash
(SHA-256 over the canonical JSON of all other fields). Deleting, editing, inserting or reordering
an entry breaks the chain at that point. Appends happen under the collection lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warc_store.errors import StoreError
from warc_store.lines import append_whole, cut_torn_tail, disk_full_message, last_line, torn_tail

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
    "creation": "cre",
    "quarantine": "qua",
    "appraisal": "app",
    "transfer": "tra",
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
    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None,
                 quarantine: Path | None = None) -> None:
        self.path = path
        self.clock = clock or (lambda: datetime.now(UTC))
        self.quarantine = quarantine or path.parent / "quarantine"

    def _lines(self) -> list[bytes]:
        return self.path.read_bytes().splitlines() if self.path.exists() else []

    def head(self) -> ChainHead:
        last = last_line(self.path)
        if not last.strip():
            lines = [ln for ln in self._lines() if ln.strip()]
            if not lines:
                return ChainHead(0, GENESIS)
            last = lines[-1]
        try:
            entry = json.loads(last)
            return ChainHead(int(entry["seq"]), str(entry["hash"]))
        except (ValueError, KeyError, TypeError):
            lines = [ln for ln in self._lines() if ln.strip()]
            return ChainHead(len(lines), hashlib.sha256(last).hexdigest())

    def append(self, event_type: str, outcome: str, detail: Mapping[str, Any], agent: str) -> dict[str, Any]:
        """Add one event, whole or not at all; call under the collection lock."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown PREMIS event type {event_type!r}")
        self.repair_tail(agent)
        return self._append(event_type, outcome, detail, agent)

    def _append(self, event_type: str, outcome: str, detail: Mapping[str, Any], agent: str) -> dict[str, Any]:
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
        append_whole(self.path, line)
        return entry

    def repair_tail(self, agent: str) -> str | None:
        """Cut an event a crash or a full disk left unfinished; it is kept in the quarantine folder
        and the cut is logged. Call under the collection lock. Returns the kept file's name."""
        tail = torn_tail(self.path)
        if not tail:
            return None
        stamp = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kept = self.quarantine / f"{self.path.name}.unfinished-{stamp}"
        try:
            self.quarantine.mkdir(exist_ok=True)
            kept.write_bytes(tail)
        except OSError as exc:
            raise StoreError(disk_full_message(kept, exc)) from exc
        cut_torn_tail(self.path)
        self._append("recovery", "success", {
            "file": self.path.name, "cut_bytes": len(tail), "quarantined": kept.name,
            "note": "the event log ended in an unfinished event (cut by a crash or a full disk); "
                    "it was cut off and kept aside"}, agent)
        return kept.name

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
        lines = self._lines()
        tail = torn_tail(self.path)
        if tail:
            lines.pop()
            problems.append(ChainProblem(len(lines) + 1, (
                "the last event is unfinished (cut by a crash or a full disk, or edited); the next "
                "harvest or `weidang catalog repair` sets it aside")))
        for number, raw in enumerate(lines, 1):
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
