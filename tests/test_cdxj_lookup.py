"""The record index's look-ups go through a table on disk beside ``index.cdxj``: built once,
extended by whichever process asks first, never trusted beyond what the index file says."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from warc_store import cdxj_lookup
from warc_store.cdxj import CdxjIndex, IndexEntry
from warc_store.cdxj_lookup import LOOKUP_NAME
from warc_store.errors import StoreError

FILE = "weidang-00001.warc.gz"


def entry(i: int, kind: str = "response", url: str | None = None,
          digest: str | None = None) -> IndexEntry:
    return IndexEntry(url=url or f"https://m.weibo.cn/detail/{i}", timestamp="20261204080000",
                      record_id=f"<urn:uuid:{i:08d}>", record_type=kind, filename=FILE,
                      offset=i * 100, length=100, digest=digest or f"sha256:{i:064x}",
                      mime="application/json", status=200)


def lines_in_table(root: Path) -> int:
    with sqlite3.connect(root / LOOKUP_NAME) as conn:
        return int(conn.execute("SELECT count(*) FROM lines").fetchone()[0])


def test_look_ups_by_record_id_payload_digest_and_url(tmp_path):
    index = CdxjIndex(tmp_path / "index.cdxj")
    shared = "sha256:" + "a" * 64
    index.append([entry(1, "request", url="https://x.cn/a"), entry(2, url="https://x.cn/a", digest=shared),
                  entry(3, "revisit", url="https://x.cn/a", digest=shared),
                  entry(4, url="https://x.cn/b", digest=shared), entry(5, "metadata")])
    assert index.by_record_id("<urn:uuid:00000003>") == entry(3, "revisit", url="https://x.cn/a",
                                                              digest=shared)
    assert index.by_record_id("<urn:uuid:00000009>") is None
    # the first response with the digest: not a request, a revisit or a later response
    assert index.by_payload_digest(shared).record_id == "<urn:uuid:00000002>"
    assert index.by_payload_digest(entry(5).digest) is None  # a metadata record is no payload
    assert [e.record_id for e in index.by_url("https://x.cn/a")] == [
        "<urn:uuid:00000001>", "<urn:uuid:00000002>", "<urn:uuid:00000003>"]
    assert (tmp_path / LOOKUP_NAME).is_file() and lines_in_table(tmp_path) == 5


def test_another_process_reads_the_table_and_sees_what_others_append(tmp_path, monkeypatch):
    path = tmp_path / "index.cdxj"
    writer = CdxjIndex(path)
    writer.append(entry(i) for i in range(1000))
    assert writer.by_record_id("<urn:uuid:00000999>") is not None  # builds the table

    read = []
    original = cdxj_lookup.LineLookup._extend
    monkeypatch.setattr(cdxj_lookup.LineLookup, "_extend",
                        lambda self, conn, status: read.append(1) or original(self, conn, status))
    reader = CdxjIndex(path)  # a process started later: the table is there already
    assert reader.by_record_id("<urn:uuid:00000500>").offset == 50_000
    assert read == []  # found without reading the index again

    writer.append([entry(1000)])  # another writer's record
    assert reader.by_record_id("<urn:uuid:00001000>").offset == 100_000
    assert read == [1] and lines_in_table(tmp_path) == 1001


def test_a_rewritten_index_is_taken_in_anew_here_and_in_other_processes(tmp_path):
    path = tmp_path / "index.cdxj"
    index, other = CdxjIndex(path), CdxjIndex(path)
    index.append(entry(i) for i in range(10))
    assert other.by_record_id("<urn:uuid:00000007>").offset == 700
    # recovery cut a file: the lines after the cut are gone, the rest moved up
    index.rewrite(entry(i) for i in (0, 1, 2, 7))
    for reader in (index, other):
        assert reader.by_record_id("<urn:uuid:00000005>") is None
        assert reader.by_record_id("<urn:uuid:00000007>") == entry(7)
    assert lines_in_table(tmp_path) == 4


def test_recovery_replaces_one_files_lines_and_keeps_the_others_byte_for_byte(tmp_path, monkeypatch):
    """Streamed, not read into memory: every other line stays as it was written (here one in
    an older form, its key not what today's code would write), an unfinished last line goes."""
    path = tmp_path / "index.cdxj"
    index = CdxjIndex(path)
    other = dataclasses.replace(entry(1), filename="weidang-00002.warc.gz")
    index.append([entry(0), other, entry(2)])
    older = (b'COM,EXAMPLE)/Old 20201204080000 {"url":"https://example.com/Old",'
             b'"record_id":"<urn:uuid:old>","record_type":"response",'
             b'"filename":"weidang-00003.warc.gz","offset":0,"length":1}\n')
    with open(path, "ab") as fh:
        fh.write(older + b"com,example)/torn 2020")
    assert index.by_record_id("<urn:uuid:00000002>") == entry(2)
    monkeypatch.setattr(CdxjIndex, "__iter__", lambda self: (_ for _ in ()).throw(AssertionError))
    index.replace_file(FILE, [entry(7)])
    assert path.read_bytes() == other.to_line().encode() + older + entry(7).to_line().encode()
    assert index.by_record_id("<urn:uuid:00000002>") is None  # the table forgot the old places
    assert index.by_record_id("<urn:uuid:00000007>") == entry(7)
    assert [e.filename for e in index.by_file("weidang-00003.warc.gz")] == ["weidang-00003.warc.gz"]
    missing = CdxjIndex(tmp_path / "none.cdxj")  # a writer killed before its first line
    missing.replace_file(FILE, [entry(3)])
    assert (tmp_path / "none.cdxj").read_bytes() == entry(3).to_line().encode()


def test_a_copied_collection_builds_its_own_table(tmp_path):
    (tmp_path / "a").mkdir()
    first = CdxjIndex(tmp_path / "a" / "index.cdxj")
    first.append(entry(i) for i in range(5))
    assert first.by_record_id("<urn:uuid:00000004>") is not None
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the table comes along, for another file
    (tmp_path / "b" / "index.cdxj").write_bytes(b"".join(
        entry(i).to_line().encode() for i in (9, 4)))
    copy = CdxjIndex(tmp_path / "b" / "index.cdxj")
    assert copy.by_record_id("<urn:uuid:00000004>").offset == 400
    assert copy.by_record_id("<urn:uuid:00000003>") is None
    assert lines_in_table(tmp_path / "b") == 2


def test_a_table_pointing_at_the_wrong_lines_is_noticed_and_built_again(tmp_path):
    path = tmp_path / "index.cdxj"
    index = CdxjIndex(path)
    index.append(entry(i) for i in range(20))
    assert index.by_record_id("<urn:uuid:00000010>") is not None
    with sqlite3.connect(tmp_path / LOOKUP_NAME) as conn:  # record 10's row points at line 11
        eleventh = conn.execute("SELECT offset FROM lines ORDER BY offset LIMIT 1 OFFSET 11")
        offset = eleventh.fetchone()[0]
        conn.execute("DELETE FROM lines WHERE offset = ?", (offset,))
        conn.execute("UPDATE lines SET offset = ? WHERE offset = (SELECT offset FROM lines "
                     "ORDER BY offset LIMIT 1 OFFSET 10)", (offset,))
    assert CdxjIndex(path).by_record_id("<urn:uuid:00000010>") == entry(10)
    assert lines_in_table(tmp_path) == 20


def test_the_same_size_index_changed_under_the_last_line_read_is_taken_in_anew(tmp_path):
    path = tmp_path / "index.cdxj"
    index = CdxjIndex(path)
    index.append(entry(i) for i in range(3))
    assert index.by_record_id("<urn:uuid:00000002>") is not None
    data = path.read_bytes().replace(b"00000002", b"00000008")  # same inode, same length
    with open(path, "r+b") as fh:
        fh.write(data + entry(3).to_line().encode())
    assert index.by_record_id("<urn:uuid:00000008>").url.endswith("/2")
    assert index.by_record_id("<urn:uuid:00000002>") is None


def test_keys_shared_by_two_values_cost_a_line_read_not_a_wrong_answer(tmp_path, monkeypatch):
    monkeypatch.setattr(cdxj_lookup, "key", lambda value: 7)  # every value the same key
    index = CdxjIndex(tmp_path / "index.cdxj")
    index.append(entry(i) for i in range(5))
    assert index.by_record_id("<urn:uuid:00000003>") == entry(3)
    assert index.by_payload_digest(entry(4).digest) == entry(4)
    assert [e.record_id for e in index.by_url(entry(1).url)] == ["<urn:uuid:00000001>"]
    assert index.by_record_id("<urn:uuid:00000042>") is None


def test_a_damaged_table_is_removed_and_built_again(tmp_path):
    path = tmp_path / "index.cdxj"
    CdxjIndex(path).append(entry(i) for i in range(5))
    (tmp_path / LOOKUP_NAME).write_bytes(b"not a database at all" * 100)
    assert CdxjIndex(path).by_record_id("<urn:uuid:00000001>") == entry(1)  # from memory
    assert not (tmp_path / LOOKUP_NAME).exists()
    assert CdxjIndex(path).by_record_id("<urn:uuid:00000002>") == entry(2)  # the next process
    assert lines_in_table(tmp_path) == 5


def test_a_table_that_cannot_be_written_is_kept_in_memory(tmp_path):
    path = tmp_path / "index.cdxj"
    CdxjIndex(path).append(entry(i) for i in range(5))
    (tmp_path / LOOKUP_NAME).mkdir()  # SQLite cannot open it, as on a read-only copy
    index = CdxjIndex(path)
    assert index.by_record_id("<urn:uuid:00000004>") == entry(4)
    index.append([entry(5)])
    assert index.by_record_id("<urn:uuid:00000005>") == entry(5)
    assert (tmp_path / LOOKUP_NAME).is_dir()  # left as it was


def test_a_read_only_collection_gets_no_table_file(tmp_path, monkeypatch):
    path = tmp_path / "index.cdxj"
    CdxjIndex(path).append(entry(i) for i in range(3))
    real = os.access
    monkeypatch.setattr(cdxj_lookup.os, "access",
                        lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    assert CdxjIndex(path).by_record_id("<urn:uuid:00000002>") == entry(2)
    assert not (tmp_path / LOOKUP_NAME).exists()


def test_a_damaged_index_line_is_reported_with_its_place(tmp_path):
    path = tmp_path / "index.cdxj"
    index = CdxjIndex(path)
    index.append([entry(0)])
    start = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(b"- 20261204080000 {not json\n")
    with pytest.raises(StoreError, match=f"damaged at byte {start}; run `weidang verify`"):
        index.by_record_id("<urn:uuid:00000009>")
    with pytest.raises(StoreError, match=f"damaged at byte {start}"):
        list(index)


def _look_up_in_child(index: CdxjIndex, queue: multiprocessing.Queue) -> None:
    index.append([entry(7)])
    queue.put((index.by_record_id("<urn:uuid:00000001>"), index.by_record_id("<urn:uuid:00000007>")))


def test_a_forked_child_uses_its_own_connection_and_leaves_the_parents_alone(tmp_path):
    index = CdxjIndex(tmp_path / "index.cdxj")
    index.append(entry(i) for i in range(3))
    assert index.by_record_id("<urn:uuid:00000001>") is not None  # the parent's connection
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_look_up_in_child, args=(index, queue))
    child.start()
    found = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and found == (entry(1), entry(7))
    assert index.by_record_id("<urn:uuid:00000007>") == entry(7)  # the parent's still works
    assert lines_in_table(tmp_path) == 4


def _build(path: Path, queue: multiprocessing.Queue) -> None:
    index = CdxjIndex(path)
    queue.put([index.by_record_id(f"<urn:uuid:{i:08d}>").offset for i in (0, 19_999)])


def test_processes_building_the_table_at_once_take_in_each_line_once(tmp_path):
    path = tmp_path / "index.cdxj"
    CdxjIndex(path).append(entry(i) for i in range(20_000))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    builders = [context.Process(target=_build, args=(path, queue)) for _ in range(3)]
    for p in builders:
        p.start()
    answers = [queue.get(timeout=120) for _ in builders]
    for p in builders:
        p.join(60)
    assert answers == [[0, 1_999_900]] * 3
    assert lines_in_table(tmp_path) == 20_000


def test_the_damaged_index_message_reads_in_chinese(tmp_path):
    from weidang.errors import translated

    path = tmp_path / "index.cdxj"
    path.write_bytes(b"- 20261204080000 {not json\n")
    with pytest.raises(StoreError) as caught:
        CdxjIndex(path).by_record_id("<urn:uuid:00000001>")
    assert translated(str(caught.value), "zh_CN") == (
        f"记录索引 {path} 在第 0 字节处已损坏；请运行 `weidang verify`")


def test_an_index_removed_under_the_table_finds_nothing_and_empties_it(tmp_path):
    path = tmp_path / "index.cdxj"
    index = CdxjIndex(path)
    index.append(entry(i) for i in range(3))
    assert index.by_record_id("<urn:uuid:00000001>") == entry(1)
    path.unlink()
    assert index.by_record_id("<urn:uuid:00000001>") is None
    assert index.by_url(entry(2).url) == []
    assert lines_in_table(tmp_path) == 0


def test_the_records_of_one_file(tmp_path):
    index = CdxjIndex(tmp_path / "index.cdxj")
    other = dataclasses.replace(entry(1), filename="weidang-00002.warc.gz")
    index.append([entry(0), other, entry(2)])
    assert index.by_file(FILE) == [entry(0), entry(2)]
    assert index.by_file("weidang-00002.warc.gz") == [other]
    assert index.by_file("weidang-00009.warc.gz") == []


def test_a_table_of_another_layout_is_built_anew(tmp_path):
    path = tmp_path / "index.cdxj"
    CdxjIndex(path).append(entry(i) for i in range(3))
    with sqlite3.connect(tmp_path / LOOKUP_NAME) as conn:  # as an earlier weidang left it
        conn.execute("CREATE TABLE lines (offset INTEGER PRIMARY KEY, length INTEGER NOT NULL, "
                     "id_key INTEGER NOT NULL, url_key INTEGER NOT NULL, digest_key INTEGER)")
    assert CdxjIndex(path).by_file(FILE) == [entry(0), entry(1), entry(2)]
    assert lines_in_table(tmp_path) == 3


def counting_reads(monkeypatch) -> list[int]:
    """Each time a process reads index lines into the table."""
    read: list[int] = []
    original = cdxj_lookup.LineLookup._extend
    monkeypatch.setattr(cdxj_lookup.LineLookup, "_extend",
                        lambda self, conn, status: read.append(1) or original(self, conn, status))
    return read


def test_a_writers_own_lines_are_found_without_reading_them_back(tmp_path, monkeypatch):
    path = tmp_path / "index.cdxj"
    writer = CdxjIndex(path)
    writer.append(entry(i) for i in range(3))
    assert writer.by_payload_digest(entry(2).digest) == entry(2)  # builds the table
    read = counting_reads(monkeypatch)
    for page in range(3, 30, 3):  # pages of a harvest, each asked after before it is appended
        assert writer.by_payload_digest(entry(page).digest) is None
        writer.append(entry(i) for i in range(page, page + 3))
    assert writer.by_payload_digest(entry(28).digest) == entry(28)
    assert writer.by_record_id(entry(4).record_id) == entry(4)
    assert [e.record_id for e in writer.by_url(entry(17).url)] == [entry(17).record_id]
    assert writer.by_file(FILE) == [entry(i) for i in range(30)]
    assert read == [] and lines_in_table(tmp_path) == 3  # nothing read back, the table untouched

    other = CdxjIndex(path)  # another process appends after them: both are taken in, each once
    other.append([entry(30)])
    assert writer.by_record_id(entry(30).record_id) == entry(30)
    assert read == [1] and lines_in_table(tmp_path) == 31
    assert writer.by_file(FILE) == [entry(i) for i in range(31)]
    assert CdxjIndex(path).by_record_id(entry(29).record_id) == entry(29)  # and in a new process


def test_own_lines_after_another_writers_are_read_from_the_file(tmp_path, monkeypatch):
    path = tmp_path / "index.cdxj"
    writer, other = CdxjIndex(path), CdxjIndex(path)
    writer.append([entry(0)])
    assert writer.by_record_id(entry(0).record_id) == entry(0)
    other.append([entry(1)])  # between the table's end and this writer's next lines
    writer.append([entry(2)])
    read = counting_reads(monkeypatch)
    assert writer.by_record_id(entry(2).record_id) == entry(2)
    assert read == [1] and lines_in_table(tmp_path) == 3
    assert writer.by_file(FILE) == [entry(0), entry(1), entry(2)]


def test_another_process_may_take_in_a_writers_lines_first(tmp_path):
    path = tmp_path / "index.cdxj"
    writer, other = CdxjIndex(path), CdxjIndex(path)
    writer.append([entry(0)])
    assert writer.by_record_id(entry(0).record_id) == entry(0)
    writer.append([entry(1), entry(2)])  # kept in memory by the writer
    assert other.by_record_id(entry(2).record_id) == entry(2)  # read from the file over there
    other.append([entry(3)])
    assert writer.by_file(FILE) == [entry(i) for i in range(4)]  # no line twice
    assert lines_in_table(tmp_path) == 4


def test_own_lines_kept_in_memory_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(cdxj_lookup, "OWN_ROWS", 4)
    path = tmp_path / "index.cdxj"
    writer = CdxjIndex(path)
    writer.append([entry(0)])
    assert writer.by_record_id(entry(0).record_id) == entry(0)
    read = counting_reads(monkeypatch)
    for i in range(1, 10):
        writer.append([entry(i)])
    assert lines_in_table(tmp_path) == 9  # taken in four at a time, without reading them back
    assert read == [] and writer.by_record_id(entry(9).record_id) == entry(9)
    assert CdxjIndex(path).by_file(FILE) == [entry(i) for i in range(10)]


def writer_keeping(path: Path, own: list[int]) -> CdxjIndex:
    """A writer whose look-up table holds records 0 to 2 and keeps its lines of ``own`` in memory."""
    writer = CdxjIndex(path)
    writer.append(entry(i) for i in range(3))
    assert writer.by_record_id(entry(0).record_id) == entry(0)
    writer.append([entry(i) for i in own])
    return writer


def test_own_lines_of_a_rewritten_index_are_not_trusted(tmp_path):
    path = tmp_path / "index.cdxj"
    writer = writer_keeping(path, [3, 4])
    CdxjIndex(path).rewrite([entry(4), entry(3)])  # recovery in another process
    assert writer.by_record_id(entry(3).record_id) == entry(3)
    assert writer.by_file(FILE) == [entry(4), entry(3)]


def test_own_lines_do_not_fill_a_table_emptied_meanwhile(tmp_path):
    path = tmp_path / "index.cdxj"
    writer = writer_keeping(path, [3, 4])
    with sqlite3.connect(tmp_path / LOOKUP_NAME) as conn:  # emptied, as a rebuild begins
        conn.execute("DELETE FROM state")
        conn.execute("DELETE FROM lines")
    CdxjIndex(path).append([entry(5)])  # another writer: the table is read again, whole
    assert writer.by_record_id(entry(1).record_id) == entry(1)
    assert writer.by_file(FILE) == [entry(i) for i in range(6)]
    assert lines_in_table(tmp_path) == 6


def test_a_stale_table_is_built_again_around_own_lines(tmp_path):
    path = tmp_path / "index.cdxj"
    writer = writer_keeping(path, [3])
    with sqlite3.connect(tmp_path / LOOKUP_NAME) as conn:  # record 1's row points at record 2
        second, third = (row[0] for row in conn.execute(
            "SELECT offset FROM lines ORDER BY offset LIMIT 2 OFFSET 1"))
        conn.execute("DELETE FROM lines WHERE offset = ?", (third,))
        conn.execute("UPDATE lines SET offset = ? WHERE offset = ?", (third, second))
    assert writer.by_record_id(entry(1).record_id) == entry(1)
    assert writer.by_record_id(entry(2).record_id) == entry(2)
    assert writer.by_file(FILE) == [entry(i) for i in range(4)]
