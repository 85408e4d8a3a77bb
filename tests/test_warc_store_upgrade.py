"""Collections written before this version (no tally, no creation events, no file ids) keep
working: they verify, get a tally, and a file their old writer left open is adopted.

``data/old_collection/default`` was written by weidang as of commit e2a10cc (see
data/make_old_collection.py): one closed file, one file left ``.open`` by a writer that died.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_helpers import StepClock, build_collection, json_exchange

from warc_store import CaptureWriter, Collection, recover, verify_collection
from warc_store.writer import RecordWriter

OLD = Path(__file__).parent / "data" / "old_collection" / "default"


def _old_collection(tmp_path: Path, name: str = "default") -> Collection:
    root = tmp_path / name
    shutil.copytree(OLD, root)
    return Collection.open(root, StepClock(datetime(2026, 12, 1, tzinfo=UTC)))


def _tally_starts(collection: Collection) -> list[dict]:
    return [e for e in collection.events.entries()
            if e["type"] == "creation" and e["detail"].get("file") == "tally.json"]


def test_a_collection_from_before_tallies_verifies_and_gets_one(tmp_path):
    collection = _old_collection(tmp_path)
    assert not collection.tally_path.exists() and collection.events.head().seq > 0
    report = verify_collection(collection, workers=1)
    assert report.ok, report.to_json()
    # recording that check was the first append of this version: the tally starts, logged once
    assert collection.tally_path.exists() and len(_tally_starts(collection)) == 1
    assert verify_collection(collection, workers=1).ok
    assert len(_tally_starts(collection)) == 1
    collection.tally_path.unlink()  # from now on a missing tally is a deletion
    collection.record_event("ingestion", "success", {})
    report = verify_collection(collection, workers=1)
    assert any("tally.json" in p and "missing" in p for p in report.cross_problems)
    assert not collection.tally_path.exists()


def test_a_new_collection_starts_its_tally_with_its_first_event(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    [start] = _tally_starts(collection)
    assert start["seq"] == 2  # right after the first event, the creation of the first file
    assert verify_collection(collection, workers=1).ok


def test_an_open_file_left_by_an_older_weidang_is_adopted(tmp_path):
    collection = _old_collection(tmp_path)
    [left] = collection.open_files()
    raw = left.read_bytes()
    [done] = recover(collection)
    assert not done.foreign and done.kept_records == 7
    assert done.cut_bytes == len(b"\x1f\x8b\x08\x00partial-record")
    closed = collection.warcs / done.file
    assert closed.read_bytes() + (collection.quarantine / str(done.quarantined)).read_bytes() == raw
    assert [e.file for e in collection.manifest.entries()][-1] == done.file
    assert len([e for e in collection.index if e.filename == done.file]) == 7
    assert verify_collection(collection, workers=1).ok


def test_an_old_open_file_naming_another_collection_is_set_aside(tmp_path):
    collection = _old_collection(tmp_path, name="other")  # its warcinfo says isPartOf: default
    [done] = recover(collection)
    assert done.foreign and collection.manifest.line_count() == 1
    assert verify_collection(collection, workers=1).ok


@pytest.mark.parametrize("fields", [
    [("isPartOf", "default")],  # no harvest named
    [("isPartOf", "default"), ("weidang-harvest-id", "h-1"), ("weidang-file-id", "0" * 32)],  # newer
], ids=["no harvest id", "a file id this log never gave"])
def test_an_old_open_file_not_named_as_ours_is_set_aside(tmp_path, fields):
    collection = _old_collection(tmp_path)
    for path in collection.open_files():
        path.unlink()
    name = "weidang-20261125090000000000-00001-elsewhere-1.warc.gz"
    with open(collection.warcs / (name + ".open"), "wb") as fh:
        writer = RecordWriter(fh)
        writer.write(writer.warcinfo(name, fields, datetime(2026, 11, 25, tzinfo=UTC)))
    [done] = recover(collection)
    assert done.foreign and collection.manifest.line_count() == 1


def test_once_files_are_begun_with_creation_events_an_old_open_file_needs_one(tmp_path):
    collection = _old_collection(tmp_path)
    [left] = collection.open_files()
    kept_aside = tmp_path / left.name
    shutil.move(left, kept_aside)
    with CaptureWriter(collection) as writer:  # this version begins a file: a creation event
        writer.write_exchange(*json_exchange(9))
    shutil.move(kept_aside, left)
    [done] = recover(collection)
    assert done.foreign and "not begun by this collection" in done.note
    assert verify_collection(collection, workers=1).ok
