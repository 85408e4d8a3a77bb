"""Rebuilding the derived post tables from the WARC files alone, and repairing them after a crash."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from catalog_helpers import (
    DATA,
    FIRST,
    LATER,
    PAGE1,
    PAGE2,
    derived_tables,
    execute,
    harvest,
    recheck_deleted,
    rows,
    timeline,
    write_version,
)
from store_helpers import StepClock

from catalog.db import open_catalog
from catalog.posts import Decision, PostCatalog
from catalog.rebuild import RebuildError, rebuild, repair, warc_files
from catalog.runs import RunLog
from catalog.schema import iso, needs_rebuild
from harvesters import WechatHarvester
from harvesters.dates import SHANGHAI
from warc_store import CaptureWriter, Collection, StoreConfig, recover
from weidang.cli import main

NEWEST = "4649031014551911"
WECHAT = "mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html"
SMALL_FILES = StoreConfig(max_size=40_000)  # several files per harvest: file order matters


def _die(writer: CaptureWriter) -> None:
    """The writing process is killed: its lock goes, its file stays .open, nothing is sealed."""
    assert writer._current is not None
    writer._current.fh.flush()
    writer._current.fh.close()
    writer._current = None


def _wechat_post():
    harvester = WechatHarvester()
    data = (DATA.parent / "wechat" / WECHAT).read_bytes()
    request = harvester.request_for_url("https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650804290&idx=8")
    [post] = harvester.parse(request, 200, {}, data, dt.datetime(2022, 8, 1, 12, 0, tzinfo=SHANGHAI)).posts
    return post


def _three_harvests(root, conn):
    """New posts, a second harvest (one new, the rest unchanged), an edit, a deletion, a WeChat
    article; the last writer dies without closing its file."""
    collection = Collection.create(root, StepClock())
    catalog = PostCatalog(conn, collection.name)
    runs = RunLog(conn, StepClock())
    with CaptureWriter(collection, SMALL_FILES) as writer:
        body, posts = timeline(PAGE1, FIRST)
        harvest(writer, catalog, posts, body, runs.start("weibo:6279793937"))
    with CaptureWriter(collection, SMALL_FILES) as writer:
        run = runs.start("weibo:6279793937")
        body, posts = timeline(PAGE2, LATER)
        harvest(writer, catalog, posts, body, run)
        post = next(p for p in posts if p.post_id == NEWEST)
        edited = post.merged(text=post.text + "（更正）", captured_at=LATER + dt.timedelta(hours=1))
        write_version(writer, catalog, edited, catalog.decide(edited),
                      list(catalog.versions("weibo", NEWEST)[-1].evidence[:1]), run)
        recheck_deleted(writer, catalog, "4648806186747944", run, LATER + dt.timedelta(hours=2))
        runs.finish(run, "ok", posts_new=1, posts_edited=1)
    writer = CaptureWriter(collection, SMALL_FILES)
    article = _wechat_post()
    harvest(writer, catalog, [article], b"{}", runs.start("wechat:MzAxMzgxNzUxOA=="))
    writer.flush()
    return collection, writer


def test_rebuild_gives_exactly_the_tables_the_harvests_wrote(tmp_path, catalogs):
    conn = catalogs.open()
    collection, writer = _three_harvests(tmp_path / "default", conn)
    with pytest.raises(RebuildError, match="still writing"):
        rebuild(conn, collection)
    _die(writer)
    assert collection.open_files() and len(warc_files(collection)) > 3
    live = derived_tables(conn)
    assert len(live["versions"]) == 13 and len(live["statuses"]) == 1 and live["media"]

    fresh = catalogs.open("fresh")
    seen = []
    summary = rebuild(fresh, collection, progress=seen.append)
    assert derived_tables(fresh) == live
    assert (summary.files, summary.posts, summary.versions, summary.statuses) == (
        len(warc_files(collection)), 12, 13, 1)
    assert summary.metadata_records == 10 + 11 + 1 + 1 + 1 and not summary.problems
    assert seen == warc_files(collection)
    # Batches smaller than the runs of versions between status events give the same tables.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostCatalog, "apply_many",
                      functools.partialmethod(PostCatalog.apply_many, batch=3))
        small = catalogs.open("small")
        rebuild(small, collection)
    assert derived_tables(small) == live

    # In place: the derived tables are replaced, the run history is kept.
    runs_before = rows(conn, "SELECT * FROM runs ORDER BY run_id")
    execute(conn, "DELETE FROM versions")
    rebuild(conn, collection)
    assert derived_tables(conn) == live
    assert rows(conn, "SELECT * FROM runs ORDER BY run_id") == runs_before


def test_repair_records_what_reached_the_warc_but_not_the_catalog(tmp_path, catalogs):
    conn = catalogs.open()
    collection = Collection.create(tmp_path / "default", StepClock())
    catalog = PostCatalog(conn, collection.name)
    with CaptureWriter(collection) as writer:
        body, posts = timeline(PAGE1, FIRST)
        harvest(writer, catalog, posts, body, "run-1")
    writer = CaptureWriter(collection)
    body, posts = timeline(PAGE2, LATER)
    harvest(writer, catalog, posts[:1], body, "run-2")
    # The process writes the new post's metadata record, then dies before the catalog hears of it.
    new_post = posts[1]
    lost = write_version(writer, None, new_post, catalog.decide(new_post), [], "run-2")
    _die(writer)
    assert not catalog.known("weibo", new_post.post_id)

    recover(collection)  # what the next harvest's writer does first: seals and re-indexes the file
    summary = repair(conn, collection)
    assert (summary.metadata_records, summary.added, summary.problems) == (12, 1, [])
    assert catalog.versions("weibo", new_post.post_id)[0].metadata_record_id == lost
    assert repair(conn, collection).added == 0
    fresh = catalogs.open("fresh")
    rebuild(fresh, collection)
    assert derived_tables(fresh) == derived_tables(conn)


def test_a_damaged_tail_of_an_unfinished_file_is_reported_and_the_rest_read(tmp_path, catalogs):
    conn = catalogs.open()
    collection = Collection.create(tmp_path / "default", StepClock())
    writer = CaptureWriter(collection)
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, PostCatalog(conn), posts, body, "run-1", fetch_media=False)
    path = writer.current_path
    _die(writer)
    assert path is not None
    path.write_bytes(path.read_bytes()[:-200])  # the last record was being written
    summary = rebuild(conn, collection)
    assert summary.versions == 9 and "ends in an unfinished record" in summary.problems[0]


def test_rebuild_clears_the_flag_left_by_a_layout_change(tmp_path, catalogs):
    conn = catalogs.open()
    execute(conn, "INSERT INTO catalog_schema VALUES ('needs_rebuild', 1, 'now')")
    with conn.read() as read:
        assert needs_rebuild(read)
    rebuild(conn, Collection.create(tmp_path / "default"))
    with conn.read() as read:
        assert not needs_rebuild(read)


def test_weidang_catalog_rebuild_and_repair_commands(tmp_path, home, capsys):
    root = home / "collections" / "default"
    db = open_catalog(home / "catalog.sqlite")
    _, writer = _three_harvests(root, db)
    _die(writer)
    live = derived_tables(db)
    execute(db, "DELETE FROM captures")  # the catalog forgot every record it had applied
    execute(db, "DELETE FROM statuses")
    assert main(["catalog", "repair"]) == 0
    assert "Recorded 24 metadata records" in capsys.readouterr().out
    assert derived_tables(db) == live
    assert main(["catalog", "rebuild"]) == 0
    out = capsys.readouterr().out
    assert "24 metadata records" in out and "12 posts" in out and "13 versions" in out
    assert derived_tables(db) == live
    assert main(["catalog", "rebuild", "--collection", "nope"]) == 1
    assert "Error: There is no collection nope" in capsys.readouterr().err


def test_repair_drops_versions_whose_metadata_record_is_in_no_file(tmp_path, catalogs):
    """A power cut took the end of the open file after the catalog had recorded its versions
    (what weidang did before it synced first): repair makes the catalog say what the files hold."""
    conn = catalogs.open()
    collection = Collection.create(tmp_path / "default", StepClock())
    catalog = PostCatalog(conn, collection.name)
    with CaptureWriter(collection) as writer:
        body, posts = timeline(PAGE1, FIRST)
        harvest(writer, catalog, posts, body, "run-1")
    writer = CaptureWriter(collection)
    body, posts = timeline(PAGE2, LATER)
    kept = writer.current_path
    harvest(writer, catalog, posts[:1], body, "run-2")
    open_file = writer.current_path
    assert open_file is not None and kept is None
    cut_at = open_file.stat().st_size
    harvest(writer, catalog, posts[1:2], b"", "run-2")  # recorded in the catalog, then cut off
    lost = posts[1].post_id
    _die(writer)
    with open(open_file, "rb+") as fh:
        fh.truncate(cut_at)
    recover(collection)
    summary = repair(conn, collection)
    assert summary.dropped == 1 and summary.dropped_posts == [f"weibo:{lost}"], summary
    assert not catalog.known("weibo", lost)
    assert catalog.known("weibo", posts[0].post_id)
    fresh = catalogs.open("fresh")
    rebuild(fresh, collection)
    assert derived_tables(fresh) == derived_tables(conn)


def test_repair_reads_a_file_the_index_lost_lines_of_before_dropping_anything(tmp_path, catalogs):
    """The index is appended without its own fsync: a power cut can take its last lines, of a
    file that was closed and synced. Its versions are not taken for lost."""
    conn = catalogs.open()
    collection = Collection.create(tmp_path / "default", StepClock())
    catalog = PostCatalog(conn, collection.name)
    with CaptureWriter(collection) as writer:
        body, posts = timeline(PAGE1, FIRST)
        harvest(writer, catalog, posts, body, "run-1")
    before = derived_tables(conn)
    index = collection.index.path
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    index.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    summary = repair(conn, collection)
    assert summary.dropped == 0 and derived_tables(conn) == before


@pytest.mark.parametrize("arrival", ["earlier first", "later first"])
def test_a_post_captured_as_new_in_two_collections_rebuilds_as_it_was_recorded(tmp_path, catalogs,
                                                                                arrival):
    """Two workers capture one post as new at once; either may reach the catalog first. The
    version cites the earlier capture either way, and a rebuild (which reads worker-a, the later
    capture, first) gives the same tables. Before, "earlier first" cited worker-b's capture live
    and worker-a's after a rebuild."""
    conn = catalogs.open()
    early = Collection.create(tmp_path / "worker-b", StepClock())
    late = Collection.create(tmp_path / "worker-a", StepClock())
    runs = RunLog(conn, StepClock())
    body, [post, *_] = timeline(PAGE1, FIRST)
    captures = {early: post, late: post.merged(captured_at=FIRST + dt.timedelta(minutes=1))}
    # Both decided "new" before either recorded (the race), then recorded in ``arrival`` order.
    order = [early, late] if arrival == "earlier first" else [late, early]
    for collection in order:
        with CaptureWriter(collection, SMALL_FILES) as writer:
            harvest(writer, PostCatalog(conn, collection.name), [captures[collection]], body,
                    runs.start("weibo:6279793937"), decided=Decision("new", 1))
    [cited] = PostCatalog(conn).versions("weibo", post.post_id)
    assert cited.collection == "worker-b" and cited.captured_at == iso(FIRST)
    assert {r[0] for r in rows(conn, "SELECT collection FROM captures")} == {"worker-a", "worker-b"}
    media_ids = {r[0] for r in rows(conn, "SELECT record_id FROM media")}
    assert media_ids and media_ids <= {e.record_id for e in cited.evidence}
    live = derived_tables(conn)

    fresh = catalogs.open("fresh")
    rebuild(fresh, [late, early])
    assert derived_tables(fresh) == live
