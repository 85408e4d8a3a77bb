"""The search index follows the catalog: posts a killed harvest recorded, and posts a repair
recovers from its WARC files, are all searchable afterwards, and `weidang search` says when
the index is behind the catalog."""

from __future__ import annotations

import json
import os
import signal
import time

from catalog_helpers import execute
from crawler_helpers import Archive, start_emulator, weibo_ids

DERIVED = ("captures", "media", "statuses", "versions", "posts")
# Timeline pages answer slowly, so that the harvest is surely in the middle when it is killed.
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.4\n')
LAG = "Warning: the search index holds"


def _kill_midway(archive: Archive, key: str, posts: int) -> None:
    proc = archive.popen("harvest", key, "--json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until a few pages and their posts are in
        if len(archive.post_ids(key)) >= posts:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


def _forget(archive: Archive, post_ids: list[str]) -> None:
    """As if the catalog's commits of these posts were lost: their records are in the WARC."""
    with archive.catalog() as db:
        for table in DERIVED:
            for post_id in post_ids:
                execute(db, f"DELETE FROM {table} WHERE platform = 'weibo' AND post_id = :p", p=post_id)


def _search(archive: Archive, key: str) -> tuple[list[dict], str]:
    done = archive.weidang("search", "--account", key, "--json", "--limit", "1000")
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_posts_a_killed_harvest_and_a_repair_recorded_are_all_searchable(tmp_path):
    site = start_emulator(tmp_path / "emulator", plan=PLAN, accounts=2, posts=40)
    try:
        archive = Archive(tmp_path / "home", site)
        done_uid, killed_uid = (str(a["uid"]) for a in site.world()["weibo"][:2])
        done_key, key = f"weibo:{done_uid}", f"weibo:{killed_uid}"
        archive.add(done_key)
        archive.add(key)
        summary, _ = archive.harvest(done_key)  # a complete harvest: the index follows it
        assert summary["outcome"] == "ok", summary

        _kill_midway(archive, key, 12)
        held = archive.post_ids(key)
        assert 0 < len(held) < 40  # killed midway: its posts never reached the index
        lost = sorted(held)[:3]
        _forget(archive, lost)

        hits, warning = _search(archive, key)
        assert hits == []
        assert warning.count(LAG) == 1 and "`weidang index rebuild`" in warning  # one sentence

        repaired = archive.weidang("catalog", "repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        # the forgotten posts, and any the kill cut off between the WARC and the catalog's
        # batched commit (how many depends on where the kill landed)
        recorded = int(repaired.stdout.split("Recorded ")[1].split()[0])
        assert recorded >= len(lost), repaired.stdout
        held = archive.post_ids(key)
        assert set(lost) <= set(held)
        hits, warning = _search(archive, key)
        assert sorted(h["post_id"] for h in hits) == sorted(held)  # the repaired ones too
        assert all(h["total"] == len(held) and h["total_is_exact"] for h in hits)
        assert LAG not in warning

        _kill_midway(archive, key, len(held) + 8)  # killed again, later in the listing
        more = sorted(set(archive.post_ids(key)) - set(held))
        assert more and len(held) + len(more) < 40
        _forget(archive, more[:2])  # its next harvest's repair records them
        summary, _ = archive.harvest(key)
        assert summary["outcome"] == "ok", summary
        hits, warning = _search(archive, key)
        assert sorted(h["post_id"] for h in hits) == sorted(weibo_ids(site, killed_uid))
        assert all(h["total"] == 40 and h["total_is_exact"] for h in hits)
        assert LAG not in warning
        status = archive.weidang("index", "status")
        assert status.returncode == 0 and "as many as the catalog" in status.stdout

        # a rebuilt catalog is new tables: the index is behind until the next harvest rebuilds it
        archive.weidang("catalog", "rebuild", check=True)
        _, warning = _search(archive, key)
        assert "has not taken in the catalog's latest changes" in warning
        archive.harvest(key)
        hits, warning = _search(archive, key)
        assert len(hits) == 40 and not warning.strip()
    finally:
        site.stop()


def _page_still_being_written(tmp_path, catalogs):
    """One listing page recorded through a writer left open: (writer, collection, conn, index, posts)."""
    from catalog_helpers import FIRST, PAGE1, harvest, timeline
    from store_helpers import StepClock

    from catalog.posts import PostCatalog
    from catalog.search.sqlite_fts import SqliteSearchIndex
    from warc_store import CaptureWriter, Collection

    collection = Collection.create(tmp_path / "default", StepClock())
    conn = catalogs.open()
    index = SqliteSearchIndex(tmp_path / "search.sqlite")
    body, posts = timeline(PAGE1, FIRST)
    writer = CaptureWriter(collection)
    harvest(writer, PostCatalog(conn, collection.name), posts, body, "h1")
    return writer, collection, conn, index, posts


def test_posts_of_a_harvest_still_writing_are_citable_at_once(tmp_path, catalogs):
    """The catalog records a version only after its index lines are written (and the WARC
    synced), so another harvest's catch-up cites the posts of a file still being written."""
    from catalog.index_feed import CURSOR_NOTE, DocumentFeed, FeedCursor, catch_up

    writer, collection, conn, index, posts = _page_still_being_written(tmp_path, catalogs)
    with writer:
        assert collection.open_files()
        catch_up(index, DocumentFeed(conn, {"default": collection}))
        hits = list(index.scan(""))
        assert len(hits) == len(posts) and all(h.warc_file and h.payload_sha256 for h in hits)
        done = FeedCursor.from_text(index.note(CURSOR_NOTE))
        assert done is not None and done.captures == len(posts)
    index.close()
    conn.close()


def test_posts_whose_index_lines_are_kept_back_are_indexed_again_once_citable(tmp_path, catalogs,
                                                                              monkeypatch):
    """A catalog ahead of the index lines (recorded without waiting for them, as weidang did
    before the catalog waited for durable WARC bytes): the cursor stays before those posts until
    they can be cited."""
    import catalog.recording

    monkeypatch.setattr(catalog.recording, "durable", lambda writer: None)
    from catalog.index_feed import CURSOR_NOTE, DocumentFeed, FeedCursor, catch_up
    from warc_store import Collection

    writer, collection, conn, index, posts = _page_still_being_written(tmp_path, catalogs)
    with writer:
        assert collection.open_files()  # still writing, its index lines kept back
        catch_up(index, DocumentFeed(conn, {"default": collection}))
        assert index.count() == len(posts)
        assert {h.warc_file for h in index.scan("")} == {""}  # not citable yet
        held = FeedCursor.from_text(index.note(CURSOR_NOTE))
        assert held is not None and held.captures == 0
    # the writer closed its file: the next catch-up (the harvest's own) completes them
    catch_up(index, DocumentFeed(conn, {"default": Collection.open(tmp_path / "default")}))
    hits = list(index.scan(""))
    assert len(hits) == len(posts) and all(h.warc_file and h.payload_sha256 for h in hits)
    done = FeedCursor.from_text(index.note(CURSOR_NOTE))
    assert done is not None and done.captures == len(posts)
    index.close()
    conn.close()
