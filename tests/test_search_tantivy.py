"""The tantivy index beyond the shared contract (tests/test_search_backends.py): its directory
of generations, rebuilds that searches never see half done, one writer at a time, an index of
another version, and counts checked against a plain substring search and the SQLite index."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_search_backends import CORPUS, post

from catalog.search import SearchFilters, open_index
from catalog.search.errors import IndexBusy, IndexUnavailable, SearchError
from catalog.search.tantivy_index import CURRENT, WRITE_LOCK, TantivySearchIndex

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def where(tmp_path) -> Path:
    return tmp_path / "index" / "search.tantivy"


def ids(results) -> set[str]:
    return {h.post_id for h in results.hits}


def writer_script(where: Path, loop: str) -> str:
    """A Python program that opens the index at ``where`` as ``ix`` and runs ``loop``: another
    process writing."""
    tests, root = str(Path(__file__).parent), str(Path(__file__).parent.parent)
    return (f"import sys; sys.path[:0] = [{tests!r}, {root!r}]\n"
            "from test_search_backends import post\n"
            "from catalog.search.tantivy_index import TantivySearchIndex\n"
            f"ix = TantivySearchIndex({str(where)!r})\n{loop}\n")


def generations(where: Path) -> list[str]:
    return sorted(p.name for p in where.glob("g-*"))


def test_documents_and_notes_outlive_the_handle(where):
    with TantivySearchIndex(where) as index:
        index.upsert(CORPUS)
        index.set_note("catalog", "42")
        index.set_note("other", "x")
        index.upsert([post("a8", "新的档案")])
    with TantivySearchIndex(where) as again:
        assert again.count() == len(CORPUS) + 1
        assert again.note("catalog") == "42" and again.note("other") == "x"
        assert again.note("absent") is None
        assert again.get("weibo:a1:v1").text == CORPUS[0].text
        assert again.get("weibo:none:v1") is None


def test_a_rebuild_is_seen_whole_or_not_at_all(where):
    reader = TantivySearchIndex(where)
    writer = TantivySearchIndex(where)
    writer.upsert(CORPUS)
    writer.set_note("catalog", "7")
    seen: list[int] = []

    def feed():
        for i in range(50):
            if i == 25:  # halfway: another process's search still answers from the old content
                seen.append(reader.count())
                seen.append(len(reader.search("档案").hits))
            yield post(f"n{i}", f"重建第{i}条：档案工作")

    assert writer.rebuild(feed()) == 50
    assert seen == [len(CORPUS), 3]
    assert reader.count() == 50 and reader.search("档案").total == 50  # it follows the switch
    assert reader.note("catalog") is None  # the notes describe the content they came with
    writer.rebuild([post("m1", "第三代")])
    assert len(generations(where)) == 2  # the current one and the one before it
    assert reader.count() == 1 and ids(reader.search("第三代")) == {"m1"}


def test_a_failed_rebuild_leaves_the_old_content_current(where):
    index = TantivySearchIndex(where)
    index.upsert(CORPUS)
    before = generations(where)

    def broken():
        yield post("x1", "一半")
        raise RuntimeError("the catalog went away")

    with pytest.raises(RuntimeError):
        index.rebuild(broken())
    assert generations(where) == before and index.count() == len(CORPUS)
    assert ids(index.search("档案管理")) == {"a1"}


def test_the_same_version_twice_in_a_rebuild_keeps_the_later(where):
    index = TantivySearchIndex(where)
    assert index.rebuild([post("d1", "先写的档案"), post("d2", "别的"), post("d1", "后写的通知")]) == 3
    assert index.count() == 2
    assert ids(index.search("通知")) == {"d1"} and ids(index.search("档案")) == set()


def test_an_index_of_another_version_must_be_rebuilt(where):
    index = TantivySearchIndex(where)
    index.upsert(CORPUS)
    index.set_note("catalog", "9")
    versions = where / CURRENT / "weidang.json"
    versions.write_text(json.dumps({"schema": 1, "tokenizer": 999}))
    stale = TantivySearchIndex(where)
    for call in (lambda: stale.search("档案"), lambda: stale.count(),
                 lambda: stale.upsert([post("z", "档案")]), lambda: stale.set_note("k", "v")):
        with pytest.raises(IndexUnavailable, match="rebuild it from the catalog"):
            call()
    assert stale.note("catalog") is None
    assert stale.rebuild(CORPUS) == len(CORPUS)
    assert ids(stale.search("档案管理")) == {"a1"}



def test_damaged_versions_or_notes_ask_for_a_rebuild(where):
    index = TantivySearchIndex(where)
    index.upsert(CORPUS)
    index.set_note("catalog", "9")
    (where / CURRENT / "notes.json").write_text("{not json")
    assert TantivySearchIndex(where).note("catalog") is None  # so the next harvest rebuilds
    (where / CURRENT / "weidang.json").write_bytes(b"\x00\xff")
    with pytest.raises(IndexUnavailable, match="rebuild it from the catalog"):
        TantivySearchIndex(where).count()


def test_a_directory_of_other_files_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("not an index")
    with pytest.raises(IndexUnavailable, match="not a weidang search index"):
        TantivySearchIndex(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "not an index"



def test_what_a_killed_creation_left_is_taken_over(where):
    (where / "g-0123456789ab").mkdir(parents=True)  # killed before `current` was made
    (where / "write.lock").touch()
    index = TantivySearchIndex(where)
    index.upsert(CORPUS)
    assert index.count() == len(CORPUS)
    index.rebuild(CORPUS)
    assert "g-0123456789ab" not in generations(where)


def test_a_second_writer_waits_for_the_first(where):
    index = TantivySearchIndex(where, lock_seconds=0.3)
    index.upsert(CORPUS)
    with (where / WRITE_LOCK).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another process writing would
        with pytest.raises(IndexBusy, match="being written by another process"):
            index.upsert([post("w1", "等一等")])
        assert index.count() == len(CORPUS)  # searching never waits
        patient = TantivySearchIndex(where, lock_seconds=30)
        done = threading.Thread(target=patient.upsert, args=([post("w2", "等到了")],))
        done.start()
        time.sleep(0.3)
        assert done.is_alive()
        fcntl.flock(held, fcntl.LOCK_UN)
        done.join(timeout=30)
    assert ids(index.search("等到了")) == {"w2"} and index.search("等一等").total == 0


def test_writers_in_two_processes_both_land(where):
    TantivySearchIndex(where).upsert(CORPUS)
    script = writer_script(where, "for i in range(20): ix.upsert([post(sys.argv[1] + str(i), '并发写入')])")
    procs = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("p", "q")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert TantivySearchIndex(where).search("并发写入", limit=100).total == 40


def test_a_lone_character_finds_every_pair_it_begins(where, tmp_path):
    # More distinct bigrams than tantivy's prefix phrase expands (50): the regex phrase finds all.
    followers = ("阿啊哀唉埃挨矮爱碍安岸按案暗昂凹熬傲奥澳八巴扒吧疤拔把坝爸罢霸白百柏摆败拜"
                 "班般颁斑搬板版办半伴扮瓣邦帮膀傍棒包胞")
    posts = [post(f"f{i}", f"见a档{c}") for i, c in enumerate(followers)]
    tantivy = TantivySearchIndex(where)
    sqlite = open_index("sqlite", tmp_path / "s.sqlite")
    for index in (tantivy, sqlite):
        index.upsert(posts)
    for query in ("a档", "档", "见a档"):
        assert tantivy.search(query, limit=100).total == len(followers), query
        assert sqlite.search(query, limit=100).total == len(followers), query


def test_counts_equal_a_substring_search_and_the_sqlite_index(where, tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        from search_bench import QUERIES_2, QUERIES_4, generate
    finally:
        sys.path.remove(str(BENCH))
    posts = list(generate(600, 7))
    tantivy = TantivySearchIndex(where)
    sqlite = open_index("sqlite", tmp_path / "s.sqlite")
    tantivy.rebuild(posts)
    sqlite.rebuild(posts)
    weibo = SearchFilters(platform="weibo")
    for query in (*QUERIES_2[:8], *QUERIES_4[:8], "档案 会议", "区", "市"):
        words = query.split()
        expected = {p.post_id for p in posts
                    if all(w in p.title or w in p.text for w in words)}
        found = tantivy.scan(query)
        assert {h.post_id for h in found} == expected, query
        assert tantivy.search(query).total == len(expected) == sqlite.search(query).total, query
        assert tantivy.search(query, weibo).total == sqlite.search(query, weibo).total, query
        page = tantivy.search(query, limit=20)
        scores = [h.score for h in page.hits]
        assert scores == sorted(scores, reverse=True)


def test_a_four_character_term_matches_as_its_phrase_does(where, tmp_path):
    texts = {"w1": "国家档案管理局印发通知", "w2": "档案。管理", "w3": "档案管 理",
             "w4": "ab档案管理cd", "w5": "档案管理", "w6": "檔案管理", "w7": "加强档案管理，档案管理！"}
    posts = [post(k, v) for k, v in texts.items()] + [post("w8", "无关", title="档案管理办法")]
    tantivy = TantivySearchIndex(where)
    sqlite = open_index("sqlite", tmp_path / "s.sqlite")
    for index in (tantivy, sqlite):
        index.upsert(posts)
    for query, expected in (("档案管理", {"w1", "w4", "w5", "w7", "w8"}), ("案管理局", {"w1"}),
                            ("“档案管理”", {"w1", "w4", "w5", "w7", "w8"})):
        assert ids(tantivy.search(query, limit=50)) == expected == ids(sqlite.search(query)), query
    best = tantivy.search("档案管理").hits
    assert best[0].post_id == "w8"  # in the title, which weighs most


def test_the_words_are_every_four_characters_of_each_han_run():
    import random
    import re

    from catalog.search.text import HAN, index_text, index_text_and_words, normalise

    rng = random.Random(5)
    alphabet = "档案管理疫情防控aB1９Ｚ_ -。，\t𠀀㐀豈ﬁİß①٣"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        tokens, words = index_text_and_words(text)
        assert tokens == index_text(text)
        runs = re.findall(f"[{HAN}]+", normalise(text))
        assert words.split() == [run[i:i + 4] for run in runs for i in range(len(run) - 3)]


def test_searches_hold_while_another_process_writes_and_merges(where):
    reader = TantivySearchIndex(where)
    script = writer_script(
        where, "for i in range(60): ix.upsert([post(f'p{i}-{j}', '并发写入档案') for j in range(5)])")
    writer = subprocess.Popen([sys.executable, "-c", script])
    seen = []
    while writer.poll() is None:  # every commit makes a segment; merges replace them
        seen.append(reader.search("档案").total)
        assert reader.count() >= seen[-1]
    assert writer.returncode == 0 and seen == sorted(seen)
    assert reader.search("档案").total == reader.count() == 300


def test_what_the_embedded_indexes_say_is_told_in_chinese(where, tmp_path):
    import sqlite3

    from weidang.errors import translated

    def told(call) -> str:
        with pytest.raises(SearchError) as caught:
            call()
        return translated(str(caught.value), "zh_CN")

    TantivySearchIndex(where).upsert(CORPUS)
    (where / CURRENT / "weidang.json").write_text("{}")
    said = told(lambda: TantivySearchIndex(where).count())
    assert said == (f"检索索引 {where} 由另一版本的 weidang 建立；请根据目录数据库重建"
                    "（`weidang index rebuild`）")
    sqlite_path = tmp_path / "s.sqlite"
    open_index("sqlite", sqlite_path).close()
    with sqlite3.connect(sqlite_path) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'tokenizer'")
    assert told(lambda: open_index("sqlite", sqlite_path).count()).startswith(
        f"检索索引 {sqlite_path} 由另一版本的 weidang 建立")
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.txt").write_text("x")
    assert told(lambda: TantivySearchIndex(other)) == \
        f"{other} 不是 weidang 的检索索引（其中有别的文件）；请选一个空文件夹"
    fresh = TantivySearchIndex(tmp_path / "busy", lock_seconds=0.1)
    with (tmp_path / "busy" / WRITE_LOCK).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert "正由另一个进程（采集或重建）写入，已超过 0 秒" in told(lambda: fresh.set_note("k", "v"))


def test_a_damaged_index_says_so_and_the_next_catch_up_rebuilds_it(where):
    index = TantivySearchIndex(where)
    index.upsert(CORPUS)
    index.set_note("catalog", "9")
    store = next((where / CURRENT).glob("*.store"))
    store.write_bytes(store.read_bytes()[:-40])  # cut short, as by a full disk
    damaged = TantivySearchIndex(where)  # opens, so that it can be rebuilt
    with pytest.raises(IndexUnavailable, match=r"is damaged \(.*\); rebuild it from the catalog"):
        damaged.search("档案")
    assert damaged.note("catalog") is None  # catch_up then rebuilds it whole
    assert damaged.rebuild(CORPUS) == len(CORPUS)
    assert ids(damaged.search("档案管理")) == {"a1"} and damaged.count() == len(CORPUS)
