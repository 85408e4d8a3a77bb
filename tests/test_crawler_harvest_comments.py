"""Comments (opt-in per account): a harvest against the emulator asks hotflow for each new post
of an account with comments on, page by page up to the cap; the answers are in the WARC, the
comments in the catalog; a rebuild from the WARC files gives the same rows; search finds a post
by a word only its comments hold. An account with comments off asks nothing of hotflow.
"""

from __future__ import annotations

import json

import pytest
from crawler_helpers import Archive, emulator_site

ON, OFF = "weibo:7000000001", "weibo:7000000002"
PAGE = 20  # the emulator's comments per hotflow page; it serves at most 45 per post
WORDS = "第21条评论"  # only in the second page of comments of a post with more than 20

site = emulator_site(posts=8)


def hotflow_requests(client) -> list[dict]:
    return list(client.control("GET", "/requests?host=m.weibo.cn&path=/comments/hotflow"))


def expected(archive: Archive, cap: int) -> dict[str, int]:
    """Comments per post the emulator shows, as the harvest may read them: whole pages until
    the cap is reached (the emulator shows min(comments_count, 45))."""
    out = {}
    for post_id, post in archive.rows("SELECT post_id, post FROM versions WHERE post_id IN "
                                      "(SELECT post_id FROM posts WHERE account = ?)", ON):
        shown = min(json.loads(post)["counts"].get("comments", 0), 45)
        pages_needed = -(-min(shown, cap) // PAGE)
        out[post_id] = min(shown, pages_needed * PAGE)
    return {k: v for k, v in out.items() if v}


@pytest.fixture(scope="module")
def run(site, tmp_path_factory):
    archive = Archive(tmp_path_factory.mktemp("home") / "home", site)
    archive.add(ON)
    archive.add(OFF)
    archive.weidang("accounts", "comments", ON, "on", check=True)
    archive.settings.append("CRAWLER_COMMENTS_MAX_PER_POST=30")
    site.control("POST", "/reset")
    summary, done = archive.harvest(ON)
    on_requests = hotflow_requests(site)
    # the index as the harvest left it (it follows the catalog), before any rebuild
    searched = archive.weidang("search", WORDS, "--json", "--limit", "100", check=True).stdout
    site.control("POST", "/reset")
    off_summary, _ = archive.harvest(OFF)
    return {"archive": archive, "summary": summary, "on_requests": on_requests,
            "off_requests": hotflow_requests(site), "off": off_summary, "searched": searched}


def comment_rows(archive: Archive) -> list[tuple]:
    return archive.rows("SELECT platform, post_id, comment_id, reply_to, author_id, author_name, "
                        "text, published_at, likes, record_id, collection, comment FROM comments "
                        "ORDER BY post_id, comment_id")


def test_comments_rows_equal_what_the_emulator_shows_up_to_the_cap(run):
    archive, summary = run["archive"], run["summary"]
    assert summary["outcome"] == "ok", summary
    want = expected(archive, 30)
    assert want and any(n > PAGE for n in want.values())  # the cap cuts after a second page
    got = dict(archive.rows("SELECT post_id, COUNT(*) FROM comments GROUP BY post_id"))
    assert got == want
    assert summary["comments"] == sum(want.values())
    assert summary["posts_with_comments"] == len(want)
    texts = {r[0] for r in archive.rows("SELECT text FROM comments")}
    assert "第1条评论：支持政务公开。" in texts and "第41条评论：支持政务公开。" not in texts


def test_hotflow_answers_are_in_the_warc_and_comments_link_to_them(run):
    archive = run["archive"]
    responses = {r.record_id: r for r in archive.records()
                 if r.record_type == "response" and "/comments/hotflow" in r.uri}
    assert len(responses) == run["summary"]["comment_pages"] == len(run["on_requests"])
    linked = {r[0] for r in archive.rows("SELECT DISTINCT record_id FROM comments")}
    assert linked <= set(responses)


def test_switch_off_asks_nothing_of_hotflow(run):
    assert run["off"]["outcome"] == "ok"
    assert run["off"]["posts_new"] > 0
    assert run["off_requests"] == []
    assert run["off"]["comment_pages"] == 0


def test_rebuild_gives_the_same_comment_rows(run):
    archive = run["archive"]
    before = comment_rows(archive)
    assert before
    archive.weidang("catalog", "rebuild", check=True)
    assert comment_rows(archive) == before


def test_show_lists_the_comments(run):
    archive = run["archive"]
    post_id = archive.rows("SELECT post_id FROM comments GROUP BY post_id ORDER BY COUNT(*) DESC")[0][0]
    shown = archive.weidang("show", f"weibo:{post_id}", check=True).stdout
    count = archive.rows("SELECT COUNT(*) FROM comments WHERE post_id = ?", post_id)[0][0]
    assert f"Comments ({count})" in shown
    assert "第1条评论：支持政务公开。" in shown


def test_search_finds_a_post_by_a_word_only_its_comments_hold(run):
    archive = run["archive"]
    words = WORDS
    want = {r[0] for r in archive.rows("SELECT post_id FROM comments WHERE text LIKE ?",
                                       f"{words}%")}
    assert want
    assert not archive.rows("SELECT post_id FROM versions WHERE text LIKE ?", f"%{words}%")
    archive.weidang("index", "rebuild", check=True)
    lines = archive.weidang("search", words, "--json", "--limit", "100", check=True).stdout
    hits = [json.loads(line) for line in lines.splitlines()]
    assert {h["post_id"] for h in hits} == want
    assert len(hits) == len(want)  # one hit per post: the comments go with its current version
    assert all(words in h["snippet"] for h in hits)
    after_harvest = [json.loads(line) for line in run["searched"].splitlines()]
    assert {h["post_id"] for h in after_harvest} == want
