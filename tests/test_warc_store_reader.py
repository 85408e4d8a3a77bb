"""The public reading API of warc_store: iterate a file, find a record by id or offset, read a
file's warcinfo, list metadata records through the index; payloads are the bytes written."""

from __future__ import annotations

import gzip
import threading

import pytest
from store_helpers import StepClock, json_exchange, picture_exchange

from warc_store import (
    CaptureWriter,
    Collection,
    DamagedRecord,
    RecordNotFound,
    StoreConfig,
    iter_records,
    metadata_entries,
    read_record,
    read_record_at,
    read_warcinfo,
)

POST = b'{"platform":"weibo","post_id":"1","text":"\xe9\x80\x9a\xe7\x9f\xa5"}'


def _archive(root):
    """A closed file of two exchanges and two metadata records; what was written, by record id."""
    collection = Collection.create(root, StepClock())
    written: dict[str, bytes] = {}
    with CaptureWriter(collection, StoreConfig(), info={"weidang-demo": "true"}) as writer:
        for request, response in (json_exchange(0), picture_exchange(1)):
            ex = writer.write_exchange(request, response)
            written[ex.response_id] = response.body
            written[ex.request_id] = b""
        for n, uri in enumerate(("urn:weidang:post:weibo:1:v1", "urn:other:note")):
            record = writer.write_metadata(uri, POST + bytes([48 + n]), "application/json")
            written[record.record_id] = POST + bytes([48 + n])
    return collection, written


def test_iterating_a_file_yields_every_record_with_the_payload_written(tmp_path):
    collection, written = _archive(tmp_path / "c")
    [path] = collection.closed_files()
    records = list(iter_records(path))
    assert [r.record_type for r in records] == [
        "warcinfo", "response", "request", "response", "request", "metadata", "metadata"]
    for record in records[1:]:
        assert record.payload == written[record.record_id]  # not empty, not decoded
        assert record.filename == path.name
    indexed = {e.record_id: e.offset for e in collection.index}
    assert {r.record_id: r.offset for r in records} == indexed
    assert records[1].http_status == 200 and records[1].uri.startswith("https://m.weibo.cn/")


def test_iterating_only_some_record_types(tmp_path):
    collection, written = _archive(tmp_path / "c")
    [path] = collection.closed_files()
    metadata = list(iter_records(path, record_types=("metadata",)))
    assert [r.uri for r in metadata] == ["urn:weidang:post:weibo:1:v1", "urn:other:note"]
    assert all(r.payload == written[r.record_id] for r in metadata)


def test_a_record_by_id_and_by_offset(tmp_path):
    collection, written = _archive(tmp_path / "c")
    for entry in collection.index:
        by_id = read_record(collection, entry.record_id)
        by_offset = read_record_at(collection, entry.filename, entry.offset)
        assert by_id == by_offset
        assert by_id.record_type == entry.record_type and by_id.offset == entry.offset
        if entry.record_type != "warcinfo":
            assert by_id.payload == written[entry.record_id]
    with pytest.raises(RecordNotFound):
        read_record(collection, "<urn:uuid:00000000-0000-0000-0000-000000000000>")


def test_an_offset_where_no_record_starts_is_reported_as_damage(tmp_path):
    collection, _ = _archive(tmp_path / "c")
    entry = next(e for e in collection.index if e.record_type == "response")
    for inside in range(1, 60):  # any byte inside a gzip member (some pass for a plain record)
        with pytest.raises(DamagedRecord) as caught:
            read_record_at(collection, entry.filename, entry.offset + inside)
        assert entry.filename in str(caught.value) and "weidang verify" in str(caught.value)


def test_the_warcinfo_of_a_file(tmp_path):
    collection, _ = _archive(tmp_path / "c")
    [path] = collection.closed_files()
    fields = read_warcinfo(path)
    assert fields["weidang-demo"] == "true" and fields["isPartOf"] == "c"
    assert fields["format"] == "WARC File Format 1.1"
    assert read_warcinfo(tmp_path / "missing.warc.gz") == {}


def test_metadata_records_through_the_index(tmp_path):
    collection, written = _archive(tmp_path / "c")
    posts = list(metadata_entries(collection, "urn:weidang:post:"))
    assert [e.url for e in posts] == ["urn:weidang:post:weibo:1:v1"]
    assert read_record(collection, posts[0].record_id).payload == written[posts[0].record_id]
    assert [e.url for e in metadata_entries(collection)] == [
        "urn:weidang:post:weibo:1:v1", "urn:other:note"]
    assert list(metadata_entries(Collection.create(tmp_path / "empty"), "urn:")) == []


def test_a_file_cut_inside_a_record_yields_the_records_before_then_says_where(tmp_path):
    collection, _ = _archive(tmp_path / "c")
    [path] = collection.closed_files()
    last = max(e.offset for e in collection.index)
    data = path.read_bytes()
    member = gzip.decompress(data[last:])
    cut = path.with_name("cut.warc.gz")
    cut.write_bytes(data[:last] + gzip.compress(member[: len(member) - 40]))
    seen = []
    with pytest.raises(DamagedRecord) as caught:
        for record in iter_records(cut):
            seen.append(record.record_type)
    assert len(seen) == 6 and caught.value.filename == "cut.warc.gz"


def test_an_index_shared_by_threads_reads_each_appended_line_once(tmp_path):
    """A web server keeps one index per collection for all its threads: reading the appended
    tail at once from many threads remembers every entry once, and then reads only what is new."""
    from warc_store.cdxj import CdxjIndex, IndexEntry

    index = CdxjIndex(tmp_path / "index.cdxj")

    def entries(start: int, n: int) -> list[IndexEntry]:
        return [IndexEntry(url="https://example.org/same", timestamp="20261125080000",
                           record_id=f"<urn:uuid:{i}>", record_type="response", filename="a.warc.gz",
                           offset=i * 100, length=100) for i in range(start, start + n)]

    for round_start in (0, 2000, 4000):
        index.append(entries(round_start, 2000))
        barrier = threading.Barrier(8)

        def read(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            index.refresh()

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(index.by_url("https://example.org/same")) == round_start + 2000
    assert index.by_record_id("<urn:uuid:5999>").offset == 599900


def test_the_entries_of_a_whole_index_hold_each_file_name_type_and_second_once(tmp_path):
    """What reads every entry and keeps them (the replay index) holds each repeated string once."""
    from warc_store.cdxj import CdxjIndex, IndexEntry

    index = CdxjIndex(tmp_path / "index.cdxj")
    index.append(IndexEntry(url=f"https://example.org/{i}", timestamp="20261125080000",
                            record_id=f"<urn:uuid:{i}>", record_type="response",
                            filename="weidang-00001.warc.gz", offset=i, length=1,
                            digest=f"sha256:{i:064x}", mime="application/json", status=200)
                 for i in range(3))
    first, *others = list(index)
    for other in others:
        for name in ("filename", "record_type", "mime", "timestamp"):
            assert getattr(other, name) is getattr(first, name), name
        assert other.digest != first.digest and other.url != first.url
    assert first == IndexEntry.from_line(first.to_line())  # the same values as read alone
    assert first == index.by_record_id("<urn:uuid:0>")


def test_a_pass_over_a_whole_index_keeps_a_bounded_number_of_shared_strings(tmp_path, monkeypatch):
    """Each second is a new string: a pass over years of records must not keep them all, and
    records of one second, which lie side by side, still share theirs."""
    from warc_store import cdxj
    from warc_store.cdxj import CdxjIndex, IndexEntry

    monkeypatch.setattr(cdxj, "SHARED_STRINGS", 8)
    index = CdxjIndex(tmp_path / "index.cdxj")
    index.append(IndexEntry(url=f"https://example.org/{i}", timestamp=f"2026112508{i // 2:04d}",
                            record_id=f"<urn:uuid:{i}>", record_type="response",
                            filename="weidang-00001.warc.gz", offset=i, length=1)
                 for i in range(200))
    entries, sizes = [], []
    passing = iter(index)
    for entry in passing:
        entries.append(entry)
        sizes.append(len(passing.gi_frame.f_locals["shared"]))
    assert max(sizes) <= 8 + 3  # the bound, and the strings of the line that passed it
    pairs = list(zip(entries[::2], entries[1::2], strict=True))
    shared = sum(a.timestamp is b.timestamp and a.filename is b.filename for a, b in pairs)
    assert shared >= 0.8 * len(pairs)


def test_kept_collections_open_each_once_and_see_what_is_added_later(tmp_path):
    from weidang.home import Home
    from weidang.indexing import kept_collections

    home = Home(tmp_path / "home")
    root = home.collection_dir("default")
    collection = Collection.create(root, StepClock())
    kept = kept_collections(home)
    first = kept("default")
    assert first is not None and kept("default") is first and kept("missing") is None
    with CaptureWriter(collection) as writer:
        record_id = writer.write_exchange(*json_exchange(0)).response_id
    assert first.index.by_record_id(record_id) is not None  # appended after it was opened
