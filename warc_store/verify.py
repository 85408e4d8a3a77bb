"""Verification for auditors: re-hash every file, check every record, the manifest and the chain.

Every record's block and payload digests are checked as the scanner inflates each gzip member;
the same read feeds the file's SHA-256. SM3, several times slower than SHA-256 even in libgcrypt
(``warc_store.sm3``), reads the file in a process of its own beside it (the second read comes
from the page cache), so that one large file keeps two cores busy; the index is counted in the
same pool once the files are handed out. A ``fixity check`` event records the outcome in the
collection.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from warc_store.cdxj import IndexEntry
from warc_store.collection import OPEN_SUFFIX, WARC_SUFFIX, Collection
from warc_store.demo import DEMO_FIELD
from warc_store.digests import new_sm3, sm3_of_file
from warc_store.errors import StoreError
from warc_store.lines import torn_tail
from warc_store.manifest import ManifestEntry
from warc_store.scan import scan
from warc_store.seal import Seal, check_seals
from warc_store.sm3 import Hasher
from warc_store.sm3 import implementation as sm3_implementation
from warc_store.tally import read_tally, tally_problems
from warc_store.timestamp import TsaConfig


@dataclass
class BadRecord:
    offset: int
    length: int
    record_id: str
    record_type: str
    problems: list[str]


@dataclass
class FileCheck:
    name: str
    size: int = 0
    sha256: str = ""
    sm3: str = ""
    records: int = 0
    uncompressed_ok: bool = True
    bad_records: list[BadRecord] = field(default_factory=list)
    demo: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.bad_records


def check_file(path: Path) -> FileCheck:
    """Fixity and every record of one WARC file, in one read, on one core."""
    return _check_records(path, with_sm3=True)


def _check_records(path: Path, with_sm3: bool) -> FileCheck:
    """Every record of the file, its size and SHA-256 (and SM3 if ``with_sm3``) in one read."""
    result = FileCheck(name=path.name)
    hashers: list[Hasher] = [hashlib.sha256(), *([new_sm3()] if with_sm3 else [])]
    size = 0

    def on_raw(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        for hasher in hashers:
            hasher.update(chunk)

    try:
        with open(path, "rb") as fh:
            for rec in scan(fh, on_raw):
                result.records += 1
                if rec.warcinfo.get(DEMO_FIELD, "").lower() == "true":
                    result.demo = True
                if not rec.ok:
                    result.bad_records.append(BadRecord(rec.offset, rec.length, rec.record_id,
                                                        rec.record_type, rec.problems))
    except OSError as exc:
        result.error = f"cannot read: {exc.strerror}"
        return result
    result.size, result.sha256 = size, hashers[0].hexdigest()
    if with_sm3:
        result.sm3 = hashers[1].hexdigest()
    return result


@dataclass
class VerifyReport:
    collection: str | None
    files: list[FileCheck] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    open_files: list[str] = field(default_factory=list)
    manifest_problems: list[str] = field(default_factory=list)
    chain_problems: list[str] = field(default_factory=list)
    seal_problems: list[str] = field(default_factory=list)
    seal_notes: list[str] = field(default_factory=list)  # time-stamps proven, what was not checked
    index_problems: list[str] = field(default_factory=list)
    cross_problems: list[str] = field(default_factory=list)  # manifest, event log and tally disagree
    bytes_checked: int = 0
    not_recorded: str | None = None  # why no fixity check event was logged
    # Which code computed SM3 (an auditor's record of the tools used; both give the same digests)
    sm3_by: str = field(default_factory=sm3_implementation)

    @property
    def demo(self) -> bool:
        return any(f.demo for f in self.files)

    @property
    def ok(self) -> bool:
        return (all(f.ok for f in self.files) and not self.missing and not self.unexpected
                and not self.mismatched and not self.manifest_problems
                and not self.chain_problems and not self.seal_problems
                and not self.index_problems and not self.cross_problems)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["demo"] = self.demo
        return data


# Below this many bytes in all, starting processes costs more than it saves.
PARALLEL_FROM = 16 << 20


def check_files(paths: Sequence[Path], workers: int = 0,
                progress: Callable[[FileCheck], None] | None = None) -> list[FileCheck]:
    """Check files, largest first, in ``workers`` processes (0 = one per CPU core)."""
    return _check_files(paths, workers, progress, None)[0]


def _check_files(paths: Sequence[Path], workers: int, progress: Callable[[FileCheck], None] | None,
                 index: Path | None) -> tuple[list[FileCheck], IndexCount | None]:
    """``check_files``, and the count of ``index``'s lines if given: in the pool after the
    files, so that it fills the time one worker would wait for the other's last file."""
    workers = workers or os.cpu_count() or 1
    sizes = {p: p.stat().st_size if p.exists() else 0 for p in paths}
    order = sorted(paths, key=sizes.__getitem__, reverse=True)
    results: dict[Path, FileCheck] = {}
    if workers == 1 or sum(sizes.values()) < PARALLEL_FROM:
        for p in order:
            results[p] = check_file(p)
            if progress:
                progress(results[p])
        return [results[p] for p in paths], count_index(index) if index else None
    with ProcessPoolExecutor(max_workers=min(workers, 2 * len(order))) as pool:
        # Largest file first, its SM3 and its record pass side by side: they read the same
        # bytes at about the same time, so the disk is read once even when the cache is cold.
        parts = [(p, pool.submit(sm3_of_file, p), pool.submit(_check_records, p, False))
                 for p in order]
        counting = pool.submit(count_index, index) if index else None
        for p, sm3, records in parts:
            result = records.result()
            try:
                result.sm3 = sm3.result()
            except OSError as exc:
                result.error = result.error or f"cannot read: {exc.strerror}"
            results[p] = result
            if progress:
                progress(result)
        counted = counting.result() if counting else None
    return [results[p] for p in paths], counted


def verify_collection(collection: Collection, workers: int = 0, seal: Seal | None = None,
                      progress: Callable[[FileCheck], None] | None = None,
                      only: Sequence[Path] | None = None, tsa: TsaConfig | None = None) -> VerifyReport:
    """Everything an auditor asks of a collection; records a ``fixity check`` event when the
    collection can be written (a read-only copy is checked without writing anything)."""
    report = VerifyReport(collection=str(collection.root))
    try:
        listed = {e.file: e for e in collection.manifest.entries()}
    except StoreError as exc:
        report.manifest_problems.append(str(exc))
        listed = {}
    present = {p.name: p for p in collection.closed_files()}
    report.open_files = [p.name for p in collection.open_files()]
    if only is None:
        targets = sorted(present.values())
        report.missing = sorted(set(listed) - set(present))
        report.unexpected = sorted(set(present) - set(listed))
        stray = sorted(p.name for p in collection.warcs.iterdir()
                       if p.is_file() and not p.name.endswith((WARC_SUFFIX, WARC_SUFFIX + OPEN_SUFFIX)))
        report.unexpected += stray
    else:
        targets = list(only)
        report.missing = sorted(p.name for p in only if not p.exists())
        targets = [p for p in targets if p.exists()]
    index = collection.index.path if only is None else None
    report.files, counted = _check_files(targets, workers, progress, index)
    _compare_with_manifest(report, listed)
    report.chain_problems = [
        f"event log line {p.line}: {p.message}" if p.line else p.message
        for p in collection.events.check()]
    if counted is not None:  # the whole collection was asked for
        open_names = {n.removesuffix(OPEN_SUFFIX) for n in report.open_files}
        report.index_problems = check_index(counted, listed, open_names)
        report.cross_problems = check_manifest_against_log(collection, listed)
    seals = check_seals(collection, seal, tsa or TsaConfig())  # and the seals/ folder's tokens
    report.seal_problems, report.seal_notes = seals.problems, seals.notes
    _record(collection, report, seal)
    return report


def _compare_with_manifest(report: VerifyReport, listed: dict[str, ManifestEntry]) -> None:
    for f in report.files:
        report.bytes_checked += f.size
        entry = listed.get(f.name)
        if entry is None:
            continue
        for what, ours, theirs in (("size", f.size, entry.size), ("SHA-256", f.sha256, entry.sha256),
                                   ("SM3", f.sm3, entry.sm3)):
            if ours != theirs:
                report.mismatched.append(f"{f.name}: {what} is {ours}, the manifest says {theirs}")


def _record(collection: Collection, report: VerifyReport, seal: Seal | None) -> None:
    """Log the outcome as a ``fixity check`` event, unless the collection is read-only (an
    auditor's mounted copy) or its log ends in an unfinished line (appending would cut it)."""
    if not collection.writable():
        report.not_recorded = ("the collection is read-only, so this check was not recorded in "
                               "its event log")
        return
    if torn_tail(collection.events.path):
        report.not_recorded = ("the event log ends in an unfinished line, so this check was not "
                               "recorded in it")
        return
    collection.record_event("fixity check", "success" if report.ok else "failure", {
        "files": len(report.files), "bytes": report.bytes_checked, "sm3_by": report.sm3_by,
        "bad_records": sum(len(f.bad_records) for f in report.files),
        "missing": report.missing, "unexpected": report.unexpected,
        "mismatched": len(report.mismatched), "chain_problems": len(report.chain_problems),
        "index_problems": len(report.index_problems),
        "cross_problems": len(report.cross_problems),
        "sealed": str(seal) if seal else None})


@dataclass
class IndexCount:
    """What the index says: records per file, its damaged lines, whether its end is torn."""

    per_file: Counter[str] = field(default_factory=Counter)
    damaged: list[int] = field(default_factory=list)
    torn: bool = False


def count_index(path: Path) -> IndexCount:
    """Read the index once (in a worker, beside the files' checks)."""
    count = IndexCount(torn=bool(torn_tail(path)))
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith("\n") or not line.strip():
                    continue
                try:
                    count.per_file[IndexEntry.from_line(line).filename] += 1
                except (ValueError, TypeError):
                    count.damaged.append(number)
    return count


def check_index(count: IndexCount, listed: dict[str, ManifestEntry],
                open_names: set[str]) -> list[str]:
    """The index is whole, and lists exactly the records of every closed file."""
    problems = []
    if count.torn:
        problems.append("the index's last line is unfinished (a crash or a full disk); the next "
                        "harvest or `weidang catalog repair` cuts it and indexes those records again")
    damaged = count.damaged
    if damaged:
        shown = ", ".join(map(str, damaged[:10])) + (" ..." if len(damaged) > 10 else "")
        problems.append(f"{len(damaged)} index lines are damaged (lines {shown})")
    counts = Counter(count.per_file)
    for name in listed:
        counts.setdefault(name, 0)  # a closed file with no index line at all is a problem too
    for name, n in sorted(counts.items()):
        if name in listed and n != listed[name].records:
            problems.append(f"the index lists {n} records in {name}, whose manifest entry counts "
                            f"{listed[name].records}")
        elif name not in listed and name not in open_names:
            problems.append(f"the index lists {n} records in {name}, a file neither in the manifest "
                            "nor being written (deleted together with its manifest entry?)")
    return problems


def check_manifest_against_log(collection: Collection, listed: dict[str, ManifestEntry]) -> list[str]:
    """Every manifest entry has its ``message digest calculation`` event and every such event its
    manifest entry; and neither file was cut at its end since the tally counted them."""
    logged: dict[str, list[dict[str, Any]]] = {}
    for event in collection.events.entries():
        if event.get("type") == "message digest calculation":
            detail = event.get("detail") or {}
            logged.setdefault(str(detail.get("file")), []).append(event)
    problems = []
    for name, entry in listed.items():
        events = logged.get(name)
        if not events:
            problems.append(f"the manifest lists {name}, but the event log has no digest event for "
                            "it (events were deleted?)")
        elif not any(_same_fixity(e["detail"], entry) for e in events):
            problems.append(f"the manifest and the event log record different digests for {name}")
    for name, events in sorted(logged.items()):
        if name not in listed:
            gone = "" if (collection.warcs / name).exists() else "; the file is gone too"
            problems.append(f"event {events[0].get('seq')} recorded the digests of {name}, but the "
                            f"manifest has no entry for it (its entry was deleted{gone})")
    return problems + tally_problems(read_tally(collection.tally_path), collection.events,
                                     collection.manifest)


def _same_fixity(detail: dict[str, Any], entry: ManifestEntry) -> bool:
    return (detail.get("sha256"), detail.get("sm3"), detail.get("size")) == (
        entry.sha256, entry.sm3, entry.size)
