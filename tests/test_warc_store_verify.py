"""Verification finds every kind of tampering, precisely; seals catch a rebuilt chain."""

from __future__ import annotations

import json
import shutil

import pytest
from store_helpers import build_collection, members, replace_member

from warc_store import Collection, Seal, StoreError, make_seal, verify_collection


@pytest.fixture
def collection(tmp_path):
    return build_collection(tmp_path / "c", exchanges=6)


def _response_entry(collection):
    return next(e for e in collection.index if e.record_type == "response")


def test_untouched_collection_passes_and_logs_a_fixity_check(collection):
    report = verify_collection(collection, workers=2)
    assert report.ok and len(report.files) == 1 and report.files[0].records == 13
    last = collection.events.entries()[-1]
    assert last["type"] == "fixity check" and last["outcome"] == "success"
    assert last["detail"]["sm3_by"] == report.sm3_by and report.sm3_by.startswith(("libgcrypt", "OpenSSL"))
    assert last["type_uri"] == "http://id.loc.gov/vocabulary/preservation/eventType/fix"


def test_flipped_byte_in_a_payload_is_reported_at_its_record(collection):
    entry = _response_entry(collection)
    path = collection.warcs / entry.filename

    def flip_last_payload_byte(raw: bytes) -> bytes:
        cut = len(raw) - 5
        return raw[:cut] + bytes([raw[cut] ^ 0x01]) + raw[cut + 1:]

    replace_member(path, entry.offset, flip_last_payload_byte)
    report = verify_collection(collection, workers=1)
    assert not report.ok
    [bad] = report.files[0].bad_records
    assert bad.offset == entry.offset and bad.record_id == entry.record_id
    assert any("payload digest does not match" in p for p in bad.problems)
    assert any("block digest does not match" in p for p in bad.problems)
    assert any("SHA-256" in m for m in report.mismatched) and any("SM3" in m for m in report.mismatched)


def test_flipped_byte_in_a_header_is_reported(collection):
    entry = _response_entry(collection)
    path = collection.warcs / entry.filename

    def change_http_header(raw: bytes) -> bytes:
        return raw.replace(b"Content-Type: application/json", b"Content-Type: application/jsoN", 1)

    replace_member(path, entry.offset, change_http_header)
    [bad] = verify_collection(collection, workers=1).files[0].bad_records
    assert bad.offset == entry.offset
    assert any("block digest" in p for p in bad.problems)
    assert not any("payload digest" in p for p in bad.problems)


def test_flipped_byte_in_a_gzip_member_is_reported_and_the_rest_still_checked(collection):
    entry = _response_entry(collection)
    path = collection.warcs / entry.filename
    data = bytearray(path.read_bytes())
    data[entry.offset + entry.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = verify_collection(collection, workers=1)
    f = report.files[0]
    [bad] = f.bad_records
    assert bad.offset == entry.offset and any("gzip" in p or "digest" in p for p in bad.problems)
    assert f.records == 13  # the records after the damaged one were found and checked


def test_truncated_file(collection):
    [path] = collection.closed_files()
    data = path.read_bytes()
    last_offset = members(path)[-1][0]
    path.write_bytes(data[:-10])
    report = verify_collection(collection, workers=1)
    [bad] = report.files[0].bad_records
    assert bad.offset == last_offset and "truncated" in bad.problems[0]
    assert any("size" in m for m in report.mismatched)


def test_deleted_and_added_files(collection, tmp_path):
    [path] = collection.closed_files()
    moved = tmp_path / path.name
    shutil.move(path, moved)
    report = verify_collection(collection, workers=1)
    assert report.missing == [path.name] and not report.ok
    shutil.move(moved, path)
    (collection.warcs / "intruder.warc.gz").write_bytes(moved.read_bytes() if moved.exists() else b"x")
    (collection.warcs / "notes.txt").write_text("hello")
    report = verify_collection(collection, workers=1)
    assert report.unexpected == ["intruder.warc.gz", "notes.txt"] and report.missing == []


def test_edited_manifest(collection):
    path = collection.root / "manifest.jsonl"
    entry = json.loads(path.read_text())
    entry["sm3"] = "0" * 64
    path.write_text(json.dumps(entry) + "\n")
    report = verify_collection(collection, workers=1)
    expected = f"{entry['file']}: SM3 is {report.files[0].sm3}, the manifest says {'0' * 64}"
    assert report.mismatched == [expected]
    path.write_text("{not json\n")
    assert verify_collection(collection, workers=1).manifest_problems


def _events(collection):
    return (collection.root / "events.jsonl").read_text().splitlines(keepends=True)


def _more_events(collection, n=3):
    for i in range(n):
        collection.record_event("ingestion", "success", {"n": i})


def test_edited_event(collection):
    _more_events(collection)
    lines = _events(collection)
    lines[1] = lines[1].replace('"success"', '"failure"')
    (collection.root / "events.jsonl").write_text("".join(lines))
    problems = verify_collection(collection, workers=1).chain_problems
    assert problems == ["event log line 2: event 2 was changed after it was written"]


def test_deleted_event(collection):
    _more_events(collection)
    lines = _events(collection)
    del lines[2]
    (collection.root / "events.jsonl").write_text("".join(lines))
    problems = verify_collection(collection, workers=1).chain_problems
    assert any("line 3" in p and "event number 4 where 3 was expected" in p for p in problems)
    assert any("does not follow" in p for p in problems)


def test_reordered_events(collection):
    _more_events(collection)
    lines = _events(collection)
    lines[1], lines[2] = lines[2], lines[1]
    (collection.root / "events.jsonl").write_text("".join(lines))
    problems = verify_collection(collection, workers=1).chain_problems
    assert any(p.startswith("event log line 2:") for p in problems)
    assert any(p.startswith("event log line 3:") for p in problems)


def test_seal_detects_a_rebuilt_chain(collection):
    seal = make_seal(collection)
    assert Seal.parse(str(seal)) == seal
    _more_events(collection)
    assert verify_collection(collection, workers=1, seal=seal).ok  # grew since: still extends
    # Someone rewrites history and rebuilds a perfectly consistent chain from scratch.
    (collection.root / "events.jsonl").unlink()
    for i in range(seal.event_seq + 3):
        collection.record_event("ingestion", "success", {"forged": i})
    report = verify_collection(collection, workers=1, seal=seal)
    assert report.chain_problems == []
    assert report.seal_problems == [f"event {seal.event_seq} is not the event that was sealed"]


def test_seal_detects_a_rewritten_manifest(collection):
    seal = make_seal(collection)
    path = collection.root / "manifest.jsonl"
    path.write_text(path.read_text().replace('"records": 13', '"records": 12'))
    assert verify_collection(collection, workers=1, seal=seal).seal_problems == [
        "the manifest's first 1 entries changed since the seal"]


def test_a_bad_seal_value_is_explained():
    with pytest.raises(StoreError, match="is not a weidang seal"):
        Seal.parse("hello")


def test_many_files_in_parallel(tmp_path):
    from store_helpers import build_collection as build

    from warc_store import StoreConfig

    c = build(tmp_path / "many", exchanges=20, config=StoreConfig(max_size=25_000))
    assert len(c.closed_files()) > 4
    report = verify_collection(Collection.open(c.root), workers=2)
    assert report.ok and sum(f.records for f in report.files) == sum(e.records for e in c.manifest.entries())


def test_a_closed_file_with_no_index_line_is_reported(tmp_path):
    from warc_store import StoreConfig

    c = build_collection(tmp_path / "c", exchanges=8, config=StoreConfig(max_size=40_000))
    first, *others = c.manifest.entries()
    assert others
    index = c.root / "index.cdxj"
    kept = [line for line in index.read_text().splitlines(keepends=True) if first.file not in line]
    index.write_text("".join(kept))  # every line of the first file gone, nothing else changed
    report = verify_collection(Collection.open(c.root), workers=1)
    assert report.index_problems == [
        f"the index lists 0 records in {first.file}, whose manifest entry counts {first.records}"]
    index.unlink()  # no index at all
    report = verify_collection(Collection.open(c.root), workers=1)
    assert len(report.index_problems) == 1 + len(others) and not report.ok


def test_the_index_is_judged_alike_when_a_worker_reads_it(tmp_path, monkeypatch):
    """Above PARALLEL_FROM bytes the index is counted in the pool beside the files."""
    from warc_store import StoreConfig
    from warc_store import verify as verify_module

    c = build_collection(tmp_path / "c", exchanges=8, config=StoreConfig(max_size=40_000))
    first = c.manifest.entries()[0]
    index = c.root / "index.cdxj"
    kept = [line for line in index.read_text().splitlines(keepends=True) if first.file not in line]
    kept[0] = kept[0][:20] + "\n"  # a line cut short
    index.write_text("".join(kept) + '{"torn"')  # and an unfinished last line
    one = verify_collection(Collection.open(c.root), workers=1)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 0)
    two = verify_collection(Collection.open(c.root), workers=2)
    assert one.index_problems == two.index_problems
    assert len(two.index_problems) == 4 and not two.ok  # torn, damaged, two files miscounted
    assert any("1 index lines are damaged (lines 1)" in p for p in two.index_problems)
    assert any("unfinished" in p for p in two.index_problems)


def _flip(path, at):
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _big_collection(root):
    """Pictures larger than one read of the scanner (4 MiB) between small records, so members
    span reads and the pieces handed to zlib grow to their largest."""
    import random

    from store_helpers import json_exchange, picture_exchange

    from warc_store import CaptureWriter, HttpResponse

    collection = Collection.create(root)
    with CaptureWriter(collection) as writer:
        for n in range(6):
            if n % 3 == 1:
                req, resp = picture_exchange(n)
                # the same bytes every run, and no gzip header among them for the scanner to
                # take for the next member after damage
                body = random.Random(n).randbytes(5_000_000).replace(b"\x1f\x8b", b"\x1f\x8c")
                resp = HttpResponse(200, "OK", resp.headers, body)
            else:
                req, resp = json_exchange(n)
            writer.write_exchange(req, resp)
    return collection


def _summary(report):
    return ([(f.name, f.size, f.sha256, f.sm3, f.records, [(b.offset, b.problems) for b in f.bad_records])
             for f in report.files], report.mismatched)


def test_large_members_across_reads_are_checked_and_damage_inside_one_is_placed(tmp_path):
    collection = _big_collection(tmp_path / "c")
    report = verify_collection(collection, workers=1)
    assert report.ok and report.files[0].records == 13
    big = [e for e in collection.index if e.record_type == "response" and e.length > 4 << 20]
    assert len(big) == 2
    path = collection.warcs / big[0].filename
    _flip(path, big[0].offset + 4_500_000)  # past the scanner's first read of the file
    f = verify_collection(collection, workers=1).files[0]
    [bad] = f.bad_records
    assert bad.offset == big[0].offset and bad.length == big[0].length
    assert f.records == 13  # found the next member again: every later record was checked


def test_processes_report_what_one_process_reports(tmp_path, monkeypatch):
    """Above PARALLEL_FROM bytes SM3 runs in a process of its own beside the record pass; the
    findings must be the same as in one process, whatever was planted."""
    from warc_store import verify as verify_module

    collection = _big_collection(tmp_path / "c")
    entry = next(e for e in collection.index if e.record_type == "response" and e.length < 1 << 20)
    replace_member(collection.warcs / entry.filename, entry.offset,
                   lambda raw: raw[:-5] + bytes([raw[-5] ^ 1]) + raw[-4:])  # a payload byte
    one = verify_collection(collection, workers=1)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 0)
    two = verify_collection(collection, workers=2)
    assert _summary(one) == _summary(two)
    assert not two.ok and any("payload digest does not match" in p
                              for p in two.files[0].bad_records[0].problems)
    assert any("SM3" in m for m in two.mismatched)
    [path] = collection.closed_files()
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    assert _summary(verify_collection(collection, workers=2)) == _summary(
        verify_collection(collection, workers=1))
