"""Recover files left ``.open`` by a writer that died (kill -9, power loss, a full disk).

A leftover file keeps every complete record: it is cut after the last record whose gzip member
and digests check out, the cut bytes are kept in ``quarantine/`` (never served, never lost), the
file is closed properly with its fixity in the manifest, the index is made to match, and the
recovery is logged as a PREMIS ``recovery`` event. Files whose writer is still alive (it holds
the file's lock) are left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from warc_store.capture import seal_file
from warc_store.cdxj import IndexEntry, warc_timestamp
from warc_store.collection import OPEN_SUFFIX, Collection
from warc_store.digests import hash_file
from warc_store.scan import scan


@dataclass(frozen=True)
class Recovered:
    file: str
    kept_records: int
    cut_bytes: int
    quarantined: str | None
    note: str


def recover(collection: Collection) -> list[Recovered]:
    """Recover every abandoned ``.open`` file of the collection; returns what was done."""
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
            done.append(_recover_file(collection, path, fh))
    return done


def _recover_file(collection: Collection, path: Path, fh: object) -> Recovered:
    final = path.name.removesuffix(OPEN_SUFFIX)
    listed = {e.file: e for e in collection.manifest.entries()}
    if final in listed:
        # The writer died between entering the file in the manifest and renaming it.
        fixity = hash_file(path)
        if fixity.sha256 == listed[final].sha256 and fixity.sm3 == listed[final].sm3:
            os.rename(path, path.with_name(final))
            return _log(collection, Recovered(final, listed[final].records, 0, None,
                                              "already in the manifest; only the rename was missing"))
        return _log(collection, _quarantine_whole(collection, path,
                                                  "differs from its manifest entry; kept aside"))

    size = path.stat().st_size
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
    size = path.stat().st_size
    os.rename(path, target)
    return Recovered(path.name.removesuffix(OPEN_SUFFIX), 0, size, target.name, note)


def _reindex(collection: Collection, final: str, kept: list[IndexEntry]) -> None:
    """Make the index list exactly the kept records of this file."""
    with collection.locked():
        others = [e for e in collection.index if e.filename != final]
        collection.index.rewrite([*others, *kept])


def _log(collection: Collection, result: Recovered) -> Recovered:
    collection.record_event("recovery", "success", {
        "file": result.file, "kept_records": result.kept_records, "cut_bytes": result.cut_bytes,
        "quarantined": result.quarantined, "note": result.note})
    return result
