"""Recover files left ``.open`` by a writer that died (kill -9, power loss, a full disk).

A leftover file keeps every complete record: it is cut after the last record whose gzip member
and digests check out, the cut bytes are kept in ``quarantine/`` (never served, never lost), the
file is closed properly with its fixity in the manifest, the index is made to match, and the
recovery is logged as a PREMIS ``recovery`` event. Files whose writer is still alive (it holds
the file's lock) are left alone.

Only files this collection began are adopted: each is announced by a ``creation`` event naming
it and a random file id, which its warcinfo record repeats. Any other ``.open`` file (copied in
from elsewhere) is moved to ``quarantine/`` whole, with a ``quarantine`` event; the caller warns.
An event log with no such event at all was written by an older weidang, which did not log them:
there a file is adopted when its warcinfo names this collection (isPartOf) and a harvest id.
An unfinished last line of the event log or the index is cut first (see lines.py).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from warc_store.capture import FILE_ID_FIELD, HARVEST_ID_FIELD, log_fixity, seal_file
from warc_store.cdxj import IndexEntry, warc_timestamp
from warc_store.collection import OPEN_SUFFIX, Collection
from warc_store.digests import hash_file
from warc_store.manifest import ManifestEntry
from warc_store.scan import scan


@dataclass(frozen=True)
class Recovered:
    file: str
    kept_records: int
    cut_bytes: int
    quarantined: str | None
    note: str
    foreign: bool = False  # not begun by this collection: set aside whole, nothing adopted


def recover(collection: Collection) -> list[Recovered]:
    """Recover every abandoned ``.open`` file of the collection; returns what was done."""
    repair_tails(collection)
    done = []
    for path in collection.open_files():
        try:
            fh = open(path, "rb+")
        except FileNotFoundError:  # its writer closed it meanwhile
            continue
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            if not path.exists():
                continue
            done.append(_recover_file(collection, path))
    return done


def repair_tails(collection: Collection) -> None:
    """Cut the unfinished last line a crash or a full disk left in the event log or the index;
    index lines lost with it are rebuilt from the files they describe."""
    with collection.locked():
        collection.events.repair_tail(collection.agent)
        cut = collection.index.cut_torn_tail()
        if cut:
            collection.events.append("recovery", "success", {
                "file": collection.index.path.name, "cut_bytes": len(cut),
                "note": "the index ended in an unfinished line (a crash or a full disk); it was cut "
                        "and the records of closed files it lacked were indexed again"},
                collection.agent)
    if cut:
        _reindex_incomplete(collection)


def _reindex_incomplete(collection: Collection) -> None:
    counts = Counter(e.filename for e in collection.index)
    for entry in collection.manifest.entries():
        path = collection.warcs / entry.file
        if counts[entry.file] != entry.records and path.exists():
            kept, _ = _complete_records(path, entry.file)
            _reindex(collection, entry.file, kept)


def _recover_file(collection: Collection, path: Path) -> Recovered:
    final = path.name.removesuffix(OPEN_SUFFIX)
    listed = {e.file: e for e in collection.manifest.entries()}
    if final in listed:
        done = _finish_rename(collection, path, listed[final])
        if done is not None:
            return done
        return _set_aside(collection, path, "differs from the file this collection entered in its "
                                            "manifest under that name; set aside whole", reindex=False)
    foreign = _foreign_reason(collection, path)
    if foreign:
        return _set_aside(collection, path, foreign, reindex=True)
    size = path.stat().st_size
    kept, cut_at = _complete_records(path, final)
    if cut_at == 0:
        result = _quarantine_whole(collection, path, "no complete record; kept aside")
        _reindex(collection, final, [])
        return _log(collection, result)
    quarantined = None
    if cut_at < size:
        quarantined = _save_tail(collection, path, cut_at)
        with open(path, "rb+") as cutter:
            cutter.truncate(cut_at)
            cutter.flush()
            os.fsync(cutter.fileno())
    _reindex(collection, final, kept)
    seal_file(collection, path, len(kept), "recovered after its writer was interrupted")
    return _log(collection, Recovered(final, len(kept), size - cut_at, quarantined,
                                      "cut after the last complete record" if cut_at < size
                                      else "all records complete"))


def _set_aside(collection: Collection, path: Path, why: str, reindex: bool) -> Recovered:
    """A file this collection did not begin (or not with these bytes): nothing of it is adopted.
    With ``reindex``, index lines under its name (its own writer's, if the bytes were replaced)
    are dropped; a name in the manifest keeps the closed file's lines."""
    result = _quarantine_whole(collection, path, why)
    if reindex:
        _reindex(collection, result.file, [])
    collection.record_event("quarantine", "success", {
        "file": path.name, "quarantined": result.quarantined, "size": result.cut_bytes, "note": why})
    return replace(result, foreign=True)


def _finish_rename(collection: Collection, path: Path, listed: ManifestEntry) -> Recovered | None:
    """The writer died between entering the file in the manifest and renaming it (None: the
    bytes are not the ones entered)."""
    final = listed.file
    fixity = hash_file(path)
    if fixity.sha256 != listed.sha256 or fixity.sm3 != listed.sm3:
        return None
    with collection.locked():  # it may also have died before logging the digests
        if not any(e.get("type") == "message digest calculation"
                   and e.get("detail", {}).get("file") == final for e in collection.events.entries()):
            log_fixity(collection, listed, "logged at recovery: its writer died just after "
                                           "entering it in the manifest")
    if len(collection.index.by_file(final)) != listed.records:
        _reindex(collection, final, _complete_records(path, final)[0])  # lines never flushed, or cut
    os.rename(path, path.with_name(final))
    return _log(collection, Recovered(final, listed.records, 0, None,
                                      "already in the manifest; only the rename was missing"))


def _foreign_reason(collection: Collection, path: Path) -> str | None:
    """Why the file is not one this collection began, or None when it is (or cannot tell yet)."""
    final = path.name.removesuffix(OPEN_SUFFIX)
    creations = [e for e in collection.events.entries()
                 if e.get("type") == "creation" and "file_id" in (e.get("detail") or {})]
    began = [e for e in creations if e["detail"].get("file") == final]
    if creations and not began:
        return ("not begun by this collection (its event log has no record of opening it); "
                "set aside whole, nothing of it was adopted")
    with open(path, "rb") as reader:
        first = next(scan(reader), None)
    if first is None or not first.ok:
        return None  # killed before its first record was whole: there is nothing to adopt anyway
    if not creations:
        return _legacy_reason(collection, first.warcinfo)
    if first.warcinfo.get(FILE_ID_FIELD) != began[-1]["detail"].get("file_id"):
        return ("its warcinfo record does not carry the id this collection gave the file it "
                "began under that name; set aside whole, nothing of it was adopted")
    return None


def _legacy_reason(collection: Collection, warcinfo: dict[str, str]) -> str | None:
    """An event log from before creation events (an older weidang, whose catalog may already
    hold posts from the file): the file is adopted when its warcinfo names this collection and a
    harvest and carries no file id (this version would have logged the creation of such a file)."""
    if (warcinfo.get("isPartOf") == collection.name and warcinfo.get(HARVEST_ID_FIELD)
            and not warcinfo.get(FILE_ID_FIELD)):
        return None
    return ("its warcinfo record does not name this collection and a harvest of it (and its event "
            "log, from an older weidang, has no record of opening it); set aside whole, nothing "
            "of it was adopted")


def _complete_records(path: Path, final: str) -> tuple[list[IndexEntry], int]:
    """Index entries of the file's records up to the first incomplete one, and where it starts."""
    kept: list[IndexEntry] = []
    cut_at = 0
    with open(path, "rb") as reader:
        for rec in scan(reader):
            if not rec.ok:
                break
            cut_at = rec.offset + rec.length
            kept.append(IndexEntry(
                url=rec.uri, timestamp=warc_timestamp(rec.date), record_id=rec.record_id,
                record_type=rec.record_type, filename=final, offset=rec.offset, length=rec.length,
                digest=rec.payload_digest or rec.block_digest,
                mime=rec.http_mime if rec.record_type in ("response", "revisit") else None,
                status=rec.http_status if rec.record_type in ("response", "revisit") else None,
                date=rec.date))
    return kept, cut_at


def _save_tail(collection: Collection, path: Path, cut_at: int) -> str:
    collection.quarantine.mkdir(exist_ok=True)
    stamp = collection.clock().strftime("%Y%m%dT%H%M%SZ")
    target = collection.quarantine / f"{path.name}.tail-at-{cut_at}-{stamp}"
    with open(path, "rb") as src, open(target, "wb") as dst:
        src.seek(cut_at)
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    return target.name


def _quarantine_whole(collection: Collection, path: Path, note: str) -> Recovered:
    collection.quarantine.mkdir(exist_ok=True)
    target = collection.quarantine / path.name
    n = 0
    while target.exists():  # never replace what an earlier recovery set aside
        n += 1
        target = collection.quarantine / f"{path.name}.{n}"
    size = path.stat().st_size
    os.rename(path, target)
    return Recovered(path.name.removesuffix(OPEN_SUFFIX), 0, size, target.name, note)


def _reindex(collection: Collection, final: str, kept: list[IndexEntry]) -> None:
    """Make the index list exactly the kept records of this file."""
    with collection.locked():
        if kept or collection.index.by_file(final):
            collection.index.replace_file(final, kept)


def _log(collection: Collection, result: Recovered) -> Recovered:
    collection.record_event("recovery", "success", {
        "file": result.file, "kept_records": result.kept_records, "cut_bytes": result.cut_bytes,
        "quarantined": result.quarantined, "note": result.note})
    return result


def quarantine_warnings(collection: Collection, recovered: list[Recovered]) -> list[str]:
    """One sentence per file set aside because this collection did not begin it."""
    return [f"{collection.warcs / (r.file + '.open')} was not begun by this collection, so it was "
            f"moved to {collection.quarantine / str(r.quarantined)} and nothing of it entered the "
            "archive; find out who put it there" for r in recovered if r.foreign]
