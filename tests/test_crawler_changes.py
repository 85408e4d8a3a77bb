"""Edits and deletions between two harvests: a new version for an edit, a status event with its
evidence for a deletion, and the archived copy never removed."""

from __future__ import annotations

import json

from crawler_helpers import Archive, emulator_site, wechat_account, wechat_ids

from catalog.metadata import read_metadata
from harvesters.base62 import mid_to_bid
from warc_store import read_record

UID = "7000000001"
BIZ = "MzkwMDAwMDAwMQ=="


site = emulator_site(accounts=1, posts=20)


def _versions(archive: Archive, platform: str, post_id: str) -> list[tuple]:
    return archive.rows("SELECT version, fingerprint, metadata_record_id FROM versions "
                        "WHERE platform = ? AND post_id = ? ORDER BY version", platform, post_id)


def test_weibo_edit_makes_a_version_and_deletion_an_event(site, tmp_path):
    archive = Archive(tmp_path / "home", site)
    key = f"weibo:{UID}"
    archive.add(key)
    first, _ = archive.harvest(key)
    assert first["outcome"] == "ok" and first["posts_new"] >= 20
    ids = archive.post_ids(key)
    edited, deleted = ids[3], ids[5]
    old = _versions(archive, "weibo", edited)
    assert len(old) == 1
    correction = "本条微博已由发布者更正：会议时间改为下午三点。"
    site.control("POST", "/mutate", json.dumps({"op": "edit", "platform": "weibo", "id": edited,
                                                "text": correction}).encode())
    site.control("POST", "/mutate", json.dumps({"op": "delete", "platform": "weibo",
                                                "id": deleted}).encode())
    second, _ = archive.harvest(key)
    assert second["outcome"] == "ok", second
    assert second["posts_edited"] == 1 and second["posts_deleted"] == 1 and second["posts_new"] == 0
    versions = _versions(archive, "weibo", edited)
    assert [v[0] for v in versions] == [1, 2] and versions[0] == old[0]  # the first one kept
    assert versions[0][1] != versions[1][1]
    v2 = read_metadata(read_record(archive.collection(), versions[1][2]).payload)
    assert "会议时间改为下午三点" in v2.post.text and v2.outcome == "edited"
    # the deletion: a status event whose evidence is the platform's answer, in the WARC
    [(status, evidence_id, metadata_id)] = archive.rows(
        "SELECT status, evidence_record_id, metadata_record_id FROM statuses WHERE post_id = ?", deleted)
    assert status == "deleted"
    proof = read_record(archive.collection(), evidence_id)
    # the answer that first said so: its re-check (statuses/show), or the long text asked for it
    # when a repost on the timeline still names it (statuses/extend)
    assert proof.record_type == "response" and "不存在".encode("unicode_escape") in proof.payload
    assert (f"statuses/show?id={mid_to_bid(deleted)}" in proof.uri
            or f"statuses/extend?id={deleted}" in proof.uri), proof.uri
    event = read_metadata(read_record(archive.collection(), metadata_id).payload)
    assert event.outcome == "status" and event.status == "deleted"
    # the archived copy stays: its version and metadata record are still there
    assert len(_versions(archive, "weibo", deleted)) == 1
    assert archive.rows("SELECT status FROM posts WHERE post_id = ?", deleted) == [("deleted",)]
    assert archive.weidang("verify").returncode == 0


def test_wechat_deleted_and_blocked_articles(site, tmp_path):
    account = wechat_account(site, BIZ)
    archive = Archive(tmp_path / "home", site)
    key = f"wechat:{BIZ}"
    archive.add(key, source="backend", credentials={"cookie": account["cookie"], "token": account["token"]})
    first, _ = archive.harvest(key)
    assert first["outcome"] == "ok" and sorted(archive.post_ids(key)) == sorted(wechat_ids(account))
    gone, blocked = wechat_ids(account)[0], wechat_ids(account)[1]
    for op, post in (("delete", gone), ("block", blocked)):
        mid, idx = post.split("_")
        site.control("POST", "/mutate", json.dumps({"op": op, "platform": "wechat", "biz": BIZ,
                                                    "mid": int(mid), "idx": int(idx)}).encode())
    second, _ = archive.harvest(key)
    assert second["posts_deleted"] == 2, second
    statuses = dict(archive.rows("SELECT post_id, status FROM statuses"))
    assert statuses == {gone: "deleted", blocked: "blocked"}
    assert all(len(_versions(archive, "wechat", p)) == 1 for p in (gone, blocked))
