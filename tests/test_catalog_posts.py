"""PostCatalog and the post metadata record, on real timeline samples written to real WARC files."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from catalog_helpers import (
    ACCOUNT,
    FIRST,
    LATER,
    LISTING_URL,
    PAGE1,
    PAGE2,
    UID,
    execute,
    harvest,
    recheck_deleted,
    rows,
    timeline,
    write_version,
)
from store_helpers import StepClock

from catalog.errors import CatalogError, DatabaseError
from catalog.metadata import (
    CONTENT_TYPE,
    Evidence,
    MetadataError,
    post_metadata,
    read_metadata,
    status_metadata,
)
from catalog.posts import Capture, Decision, PostCatalog
from catalog.recording import Recorder
from catalog.schema import DERIVED_LAYOUT, needs_rebuild
from harvesters.dates import SHANGHAI
from harvesters.records import Post
from warc_store import CaptureWriter, Collection, read_record

PINNED, NEWEST, NEW_ON_PAGE2 = "4645748019299849", "4649031014551911", "4649106427873349"


@pytest.fixture
def setup(tmp_path, catalogs):
    collection = Collection.create(tmp_path / "default", StepClock())
    db = catalogs.open()
    catalog = PostCatalog(db, collection.name)
    with CaptureWriter(collection) as writer:
        yield collection, db, catalog, writer


def test_first_harvest_records_every_post_as_version_one_with_its_evidence(setup):
    collection, conn, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    decisions = harvest(writer, catalog, posts, body, "run-1")
    assert decisions == [Decision("new", 1)] * len(posts) == [Decision("new", 1)] * 10
    assert catalog.counts(ACCOUNT) == {"live": 10, "edited": 0, "deleted": 0, "blocked": 0,
                                       "expired": 0, "unavailable": 0, "posts": 10, "versions": 10,
                                       "media": sum(len(p.media) + (len(p.repost.media) if p.repost else 0)
                                                    for p in posts)}
    [v1] = catalog.versions("weibo", NEWEST)
    assert v1.post().text == next(p for p in posts if p.post_id == NEWEST).text
    assert v1.harvest_id == "run-1" and v1.collection == "default" and v1.outcome == "new"
    assert [e.role for e in v1.evidence] == ["listing", "media"]
    # The metadata record is in the WARC under its stable URI, and says what the catalog says.
    writer.flush()
    stored = read_record(collection, v1.metadata_record_id)
    assert stored.uri == f"urn:weidang:post:weibo:{NEWEST}:v1"
    assert stored.header("Content-Type") == CONTENT_TYPE
    assert read_metadata(stored.payload).fingerprint == v1.fingerprint
    # Each picture row points at the response holding its bytes.
    found = rows(conn, "SELECT kind, url, record_id, payload_digest FROM media WHERE post_id = :p "
                 "ORDER BY position", p=NEWEST)
    assert found and all(r[2] for r in found)
    assert read_record(collection, found[0][2]).uri == found[0][1]


def test_newest_post_id_skips_pinned_posts_and_known_answers(setup):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    # The pinned post is the oldest here; republish it "now" so only the pinned rule can skip it.
    posts = [p.merged(published_at=LATER) if p.post_id == PINNED else p for p in posts]
    harvest(writer, catalog, posts, body, "run-1", fetch_media=False)
    assert catalog.newest_post_id("weibo", UID) == NEWEST
    assert catalog.newest_post_id("weibo", "1669879400") is None
    assert catalog.known("weibo", PINNED) and not catalog.known("weibo", NEW_ON_PAGE2)


def test_second_harvest_finds_one_new_post_and_the_rest_unchanged(setup):
    _, conn, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    body2, posts2 = timeline(PAGE2, LATER)
    decisions = dict(zip([p.post_id for p in posts2], harvest(writer, catalog, posts2, body2, "run-2"),
                         strict=True))
    assert decisions.pop(NEW_ON_PAGE2) == Decision("new", 1)
    assert set(decisions.values()) == {Decision("unchanged", 1)}
    assert catalog.newest_post_id("weibo", UID) == NEW_ON_PAGE2
    assert rows(conn, "SELECT COUNT(*) FROM versions") == [(11,)]
    [(first, last)] = rows(conn, "SELECT first_captured, last_captured FROM posts WHERE post_id = :p",
                           p=NEWEST)
    assert first == "2021-06-17T08:30:00.000000Z" and last == "2021-06-18T01:00:00.000000Z"


def test_changed_likes_and_reposts_are_never_an_edit(setup):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    post = next(p for p in posts if p.post_id == NEWEST)
    busier = post.merged(counts={"reposts": 99999, "comments": 1, "likes": 123456}, captured_at=LATER)
    assert catalog.decide(busier) == Decision("unchanged", 1)


@pytest.mark.parametrize("change", [
    {"text": "06月17日16:00闪断更新公告（已修改）"},
    {"edit_count": 1},
    {"media": []},
])
def test_a_content_change_is_a_new_version_and_the_old_one_is_kept(setup, change):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    post = next(p for p in posts if p.post_id == NEWEST)
    edited = post.merged(captured_at=LATER, **change)
    decision = catalog.decide(edited)
    assert decision == Decision("edited", 2)
    listing = catalog.versions("weibo", NEWEST)[0].evidence[:1]
    write_version(writer, catalog, edited, decision, list(listing), "run-2")
    v1, v2 = catalog.versions("weibo", NEWEST)
    assert (v1.version, v1.post().text, v1.post().edit_count) == (1, post.text, post.edit_count)
    assert (v2.version, v2.outcome) == (2, "edited") and v1.fingerprint != v2.fingerprint
    assert catalog.status("weibo", NEWEST) == "edited"
    assert catalog.decide(edited.merged(counts={"likes": 1})) == Decision("unchanged", 2)


def test_recording_the_same_metadata_record_twice_changes_nothing(setup):
    _, conn, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    before = {t: rows(conn, f"SELECT * FROM {t} ORDER BY 1, 2")
              for t in ("posts", "versions", "media", "captures")}
    v1 = catalog.versions("weibo", NEWEST)[0]
    post = v1.post()
    again = catalog.record_version(post, 1, "new", v1.metadata_record_id, v1.evidence, "run-1",
                                   post.captured_at)
    assert again == 1
    # ... even when rerun after an edit was recorded: it is still version 1's record.
    assert {t: rows(conn, f"SELECT * FROM {t} ORDER BY 1, 2")
            for t in ("posts", "versions", "media", "captures")} == before


def test_a_version_number_claimed_twice_is_renumbered_not_overwritten(setup):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1", fetch_media=False)
    post = next(p for p in posts if p.post_id == NEWEST)
    evidence = list(catalog.versions("weibo", NEWEST)[0].evidence)
    first_edit = post.merged(text="第一次修改", captured_at=LATER)
    write_version(writer, catalog, first_edit, Decision("edited", 2), evidence, "run-2")
    # A crawler that skipped repair would claim version 2 again for other content.
    second_edit = post.merged(text="第二次修改", captured_at=LATER + dt.timedelta(hours=1))
    write_version(writer, catalog, second_edit, Decision("edited", 2), evidence, "run-3")
    assert [(v.version, v.text) for v in catalog.versions("weibo", NEWEST)] == [
        (1, post.text), (2, "第一次修改"), (3, "第二次修改")]


def test_a_deleted_post_gets_a_status_event_and_keeps_its_versions(setup):
    collection, conn, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    when = LATER + dt.timedelta(days=1)
    record_id = recheck_deleted(writer, catalog, NEWEST, "run-2", when)
    assert catalog.status("weibo", NEWEST) == "deleted"
    assert len(catalog.versions("weibo", NEWEST)) == 1
    assert catalog.counts(ACCOUNT)["deleted"] == 1
    [(status, reason, evidence)] = rows(
        conn, "SELECT status, reason, evidence_record_id FROM statuses WHERE metadata_record_id = :r",
        r=record_id)
    assert (status, reason) == ("deleted", "该微博已被删除")
    writer.flush()
    assert b"20101" in read_record(collection, evidence).payload
    assert not catalog.record_status("weibo", NEWEST, "deleted", "again", evidence, record_id,
                                     "run-2", when)
    # Re-checks look at the posts first captured in the window, with what is known of them.
    recent = catalog.recent_posts("weibo", UID, FIRST - dt.timedelta(hours=1))
    assert len(recent) == 10 and (NEWEST, f"https://weibo.com/{UID}/Kkzwhj69V", "deleted") in recent
    assert catalog.recent_posts("weibo", UID, LATER) == []


def test_a_post_seen_again_after_a_status_event_is_live_again(setup):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    recheck_deleted(writer, catalog, NEWEST, "run-2", FIRST + dt.timedelta(hours=1))
    body2, posts2 = timeline(PAGE2, LATER)  # the platform shows it again (a wrongful block lifted)
    harvest(writer, catalog, posts2, body2, "run-3")
    assert catalog.status("weibo", NEWEST) == "live"


def test_metadata_record_round_trip_and_refusals():
    _, posts = timeline(PAGE1, FIRST)
    post = posts[0]
    evidence = [Evidence("<urn:uuid:1>", "https://m.weibo.cn/x", "listing", "sha256:ab")]
    uri, body, ctype = post_metadata(post, 3, "edited", "run-9", evidence)
    assert uri == f"urn:weidang:post:weibo:{post.post_id}:v3" and ctype == CONTENT_TYPE
    record = read_metadata(body)
    assert (record.outcome, record.version, record.account, record.harvest_id) == (
        "edited", 3, ACCOUNT, "run-9")
    assert record.post == post and record.fingerprint == post.content_fingerprint()
    assert record.evidence == tuple(evidence) and record.captured_at == FIRST

    when = dt.datetime(2021, 7, 1, 8, 0, tzinfo=SHANGHAI)
    uri, body, _ = status_metadata("wechat", "https://mp.weixin.qq.com/s/AbC", "wechat:MzAxMzgxNzUxOA==",
                                   "deleted", "此内容已被发布者删除", "run-9", evidence, when)
    assert uri == ("urn:weidang:post:wechat:https%3A%2F%2Fmp.weixin.qq.com%2Fs%2FAbC"
                   ":status:deleted:20210701000000")
    status = read_metadata(body)
    assert (status.outcome, status.status, status.post) == ("status", "deleted", None)

    newer = json.dumps({**json.loads(body), "format": "weidang-post/2"}).encode()
    with pytest.raises(MetadataError, match="weidang-post/2.*upgrade weidang"):
        read_metadata(newer)
    with pytest.raises(MetadataError, match="not valid UTF-8 JSON"):
        read_metadata(b"\xff{")
    with pytest.raises(MetadataError, match="role 'thumbnail'"):
        Evidence("<urn:uuid:1>", "", "thumbnail")
    with pytest.raises(CatalogError, match="new, edited or unchanged"):
        post_metadata(post, 1, "status", "run-9", evidence)


def test_derived_tables_of_an_older_layout_are_recreated_and_flagged_for_rebuild(catalogs):
    db = catalogs.open()
    execute(db, "UPDATE catalog_schema SET version = 0 WHERE part = 'derived'")
    execute(db, "INSERT INTO captures (metadata_record_id, platform, post_id, version, outcome, "
            "captured_at, harvest_id, collection, pinned) "
            "VALUES ('<urn:uuid:x>', 'weibo', '1', 1, 'new', 't', 'r', 'c', 0)")
    db.close()
    db = catalogs.open()
    with db.read() as conn:
        assert needs_rebuild(conn)
    assert rows(db, "SELECT COUNT(*) FROM captures") == [(0,)]
    assert rows(db, "SELECT version FROM catalog_schema WHERE part = 'derived_generation'") == [(2,)]
    execute(db, "UPDATE catalog_schema SET version = :v WHERE part = 'derived'", v=DERIVED_LAYOUT + 1)
    db.close()
    with pytest.raises(DatabaseError, match="newer weidang"):
        catalogs.open()


def test_held_by_complete_run_asks_for_a_listing_pages_posts_at_once(setup):
    """An incremental harvest stops where a finished run of the account recorded any post of the
    page; a run that was stopped by the platform does not count."""
    from catalog.runs import RunLog

    collection, db, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    runs = RunLog(db)
    stopped = runs.start(ACCOUNT, run_id="run-stopped")
    harvest(writer, catalog, posts[:3], body, stopped)
    runs.finish(stopped, "partial", reason="Weibo refused the request with HTTP 418")
    finished = runs.start(ACCOUNT, run_id="run-ok")
    harvest(writer, catalog, posts[3:5], body, finished)
    runs.finish(finished, "ok")
    ids = [p.post_id for p in posts]
    assert catalog.held_by_complete_run("weibo", ids[5:] + [ids[4]], ACCOUNT)
    assert not catalog.held_by_complete_run("weibo", ids[:3], ACCOUNT)  # only the stopped run's
    assert not catalog.held_by_complete_run("weibo", ids[5:], ACCOUNT)  # never recorded
    assert not catalog.held_by_complete_run("weibo", [], ACCOUNT)
    assert not catalog.held_by_complete_run("weibo", [ids[4]], "weibo:1")  # another account's run


def _captures(posts, harvest_id, when, version=1, outcome="new"):
    """One capture per post, its listing and (all but the first picture of each) media as
    evidence, under made-up record ids that say which post and harvest they belong to."""
    out = []
    for post in posts:
        stamped = post.merged(captured_at=when)
        evidence = [Evidence(f"<urn:listing:{harvest_id}>", LISTING_URL, "listing", "sha256:aa")]
        evidence += [Evidence(f"<urn:media:{m.id}>", m.url, "media", "sha256:bb")
                     for m in post.media[1:]]
        out.append(Capture(stamped, version, outcome, f"<urn:meta:{harvest_id}:{post.post_id}>",
                           evidence, harvest_id, when, stamped.to_json()))
    return out


def _wechat_article(post_id: str, user_name: str) -> Post:
    return Post(platform="wechat", account_id="MzA5NDQ0MDcxMw==", post_id=post_id,
                account_name="某市档案馆", title=f"第{post_id}篇", text="正文",
                url=f"https://mp.weixin.qq.com/s/{post_id}", extras={"user_name": user_name})


def _every_row(db) -> dict[str, list[str]]:
    """Every row of every catalog table, row numbers included (order of arrival must match)."""
    from catalog.schema import metadata

    return {t: sorted(repr(r) for r in rows(db, f"SELECT * FROM {t}"))
            for t in metadata.tables if t != "catalog_schema"}  # when each catalog was made


def test_recording_a_batch_leaves_every_table_as_recording_each_capture_alone(catalogs, monkeypatch):
    """``record_versions`` writes first captures of new posts set-wise and sends every other
    capture through ``record_version``: the tables must not tell which way was taken."""
    _, first_posts = timeline(PAGE1, FIRST)
    _, later_posts = timeline(PAGE2, LATER)
    earlier = _captures(first_posts[:6], "run-1", FIRST)
    # Page 2 shows one post more than page 1, second from the top.
    edited = later_posts[3].merged(text="修改后的正文")
    batch = [
        *_captures([later_posts[7].merged(pinned=True), *later_posts[8:10]], "run-2", LATER),  # new
        *_captures([later_posts[2]], "run-2", LATER, outcome="unchanged"),  # held: alone
        *_captures([edited], "run-2", LATER, version=2, outcome="edited"),
        earlier[3],  # recorded before: changes nothing
        *_captures([later_posts[1]], "run-2", LATER),  # new but twice in the batch: alone
        *_captures([later_posts[1]], "run-2b", LATER + dt.timedelta(minutes=1), outcome="unchanged"),
        *_captures([first_posts[9]], "run-2", LATER),  # a status event came first
        *_captures([_wechat_article("2247483650_1", "gh_0123456789ab"),
                    _wechat_article("2247483651_1", "gh_0123456789ab")], "run-2", LATER),
    ]
    # Two posts said to be in one metadata record (a broken caller): the first one counts.
    batch.append(_captures([_wechat_article("2247483652_1", "")], "run-2", LATER)[0]._replace(
        metadata_record_id=batch[-1].metadata_record_id))
    tables, versions_held, alone = [], [], []
    for name in ("alone", "batched"):
        db = catalogs.open(name)
        catalog = PostCatalog(db, "default")
        for capture in earlier:
            catalog.record_version(*capture[:7])
        catalog.record_status("weibo", first_posts[9].post_id, "deleted", "已删除", None,
                              "<urn:status:1>", "run-1", FIRST)
        if name == "alone":
            versions_held.append([catalog.record_version(*c[:7]) for c in batch])
        else:
            monkeypatch.setattr(catalog, "record_version",
                                lambda *c, one=catalog.record_version: alone.append(c) or one(*c))
            versions_held.append(catalog.record_versions(batch))
        tables.append(_every_row(db))
    # Only the captures that need the catalog's answers went alone.
    assert [c[3] for c in alone] == [c.metadata_record_id for c in batch[3:9] + batch[10:]]
    assert versions_held[0] == versions_held[1]
    assert versions_held[0] == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1]
    assert tables[0] == tables[1]
    assert len(tables[1]["captures"]) == len(earlier) + len(batch) - 2
    assert any("linked" in row for row in tables[1]["catalog_events"])


def test_a_batch_with_a_capture_without_a_time_records_nothing(catalogs):
    db = catalogs.open()
    catalog = PostCatalog(db, "default")
    _, posts = timeline(PAGE1, FIRST)
    batch = _captures(posts[:3], "run-1", FIRST)
    batch[2] = batch[2]._replace(post=posts[2].merged(captured_at=None), captured_at=None)
    with pytest.raises(CatalogError, match=f"post weibo:{posts[2].post_id} has no time"):
        catalog.record_versions(batch)
    assert rows(db, "SELECT count(*) FROM captures") == [(0,)]


def test_the_recorder_decides_an_answers_posts_from_one_look_up(setup, monkeypatch):
    _, _, catalog, writer = setup
    body, posts = timeline(PAGE1, FIRST)
    harvest(writer, catalog, posts, body, "run-1")
    _, shown = timeline(PAGE2, LATER)
    shown[3] = shown[3].merged(text="修改后的正文")
    expected = [catalog.decide(p) for p in shown]
    assert expected[1] == Decision("new", 1) and expected[3] == Decision("edited", 2)
    recorder = Recorder(writer, catalog)
    asked = []
    monkeypatch.setattr(catalog, "decide", lambda post, one=catalog.decide: asked.append(post) or one(post))
    recorder.look_up(shown)
    assert [recorder.decide(p) for p in shown] == expected and asked == []
    # A commit changes the catalog: a post it recorded is asked about again, the others not.
    recorder.post_version(shown[1], expected[1], [], "run-2", LATER)
    assert recorder.decide(shown[1]) == Decision("unchanged", 1) and asked == []  # still waiting
    recorder.commit()
    assert recorder.decide(shown[1]) == Decision("unchanged", 1) and asked == [shown[1]]
    assert recorder.decide(shown[2]) == expected[2] and asked == [shown[1]]
    # A later look-up asks only about posts not looked up yet.
    queries = []
    monkeypatch.setattr(catalog, "latest_versions", lambda platform, ids, one=catalog.latest_versions:
                        queries.append(ids) or one(platform, ids))
    recorder.look_up(shown)
    assert queries == [[shown[1].post_id]]
    assert recorder.decide(shown[1]) == Decision("unchanged", 1) and len(asked) == 1
    assert [recorder.decide(p) for p in shown[2:]] == expected[2:] and len(asked) == 1
