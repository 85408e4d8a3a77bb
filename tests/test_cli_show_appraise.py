"""`weidang show`, `appraise` and `topics` on a real harvest through the emulator: an edited post
shows its versions and what changed, a deleted one its evidence (read back from the WARC), and
appraisal gives 档号, supersedes, logs each decision in the event chain `weidang verify` checks."""

from __future__ import annotations

import json

import pytest
from crawler_helpers import Archive, emulator_site

from warc_store import read_record

UID = "7000000001"
ACCOUNT = f"weibo:{UID}"
CORRECTION = "本条微博已由发布者更正：会议时间改为下午三点。"

site = emulator_site(accounts=1, posts=8)


@pytest.fixture(scope="module")
def harvested(site, tmp_path_factory):
    """Two harvests: between them one post is edited and another deleted."""
    site.clear_plan()
    archive = Archive(tmp_path_factory.mktemp("show") / "home", site)
    archive.add(ACCOUNT)
    first, _ = archive.harvest(ACCOUNT)
    assert first["outcome"] == "ok"
    ids = archive.post_ids(ACCOUNT)
    edited, deleted = ids[1], ids[2]
    for change in ({"op": "edit", "platform": "weibo", "id": edited, "text": CORRECTION},
                   {"op": "delete", "platform": "weibo", "id": deleted}):
        site.control("POST", "/mutate", json.dumps(change).encode())
    second, _ = archive.harvest(ACCOUNT)
    assert second["posts_edited"] == 1 and second["posts_deleted"] == 1, second
    return archive, ids, edited, deleted


def _show(archive: Archive, post_id: str) -> dict:
    return json.loads(archive.weidang("show", f"weibo:{post_id}", "--json", check=True).stdout)


def test_show_lists_versions_with_what_changed(harvested):
    archive, _ids, edited, _deleted = harvested
    shown = _show(archive, edited)
    assert [v["version"] for v in shown["versions"]] == [1, 2] and shown["versions"][0]["diff"] == ""
    diff = shown["versions"][1]["diff"]
    assert "--- version 1" in diff and any(line.startswith("+") and "下午三点" in line
                                           for line in diff.splitlines())
    for version in shown["versions"]:
        place = version["metadata_record"]
        record = read_record(archive.collection(), place["record_id"])
        assert record.record_type == "metadata" and record.filename == place["warc_file"]
        assert record.offset == place["offset"]
    assert len(shown["sightings"]) == 2 and shown["statuses"] == []
    citation = shown["citation"]
    assert citation["warc_file"] in citation["text"] and citation["record_id"] in citation["text"]
    assert citation["warc_file"].endswith((".warc.gz", ".warc.gz.open"))
    text = archive.weidang("show", f"weibo:{edited}", check=True).stdout
    assert "Versions (2):" in text and "下午三点" in text and "Cite as:" in text


def test_show_gives_the_deletion_evidence_that_reads_back_from_the_warc(harvested):
    archive, _ids, _edited, deleted = harvested
    shown = _show(archive, deleted)
    [status] = shown["statuses"]
    assert status["status"] == "deleted" and status["found_at"]
    evidence = status["evidence"]
    proof = read_record(archive.collection(), evidence["record_id"])
    assert proof.record_type == "response" and proof.filename == evidence["warc_file"]
    assert status["answer"]["uri"] == proof.uri and status["answer"]["http_status"] == proof.http_status
    text = archive.weidang("show", f"weibo:{deleted}", check=True).stdout
    assert "deleted" in text and evidence["record_id"] in text and evidence["warc_file"] in text


def test_show_names_a_post_it_does_not_hold(harvested):
    archive, *_ = harvested
    done = archive.weidang("show", "weibo:123456")
    assert done.returncode != 0 and "weibo:123456 is not in the catalog" in done.stderr + done.stdout
    done = archive.weidang("show", "123456")
    assert done.returncode != 0 and "platform:post_id" in done.stderr + done.stdout


def test_appraise_in_bulk_then_supersede_and_topics(harvested):
    archive, ids, edited, deleted = harvested
    refused = archive.weidang("appraise", f"weibo:{edited}", "--keep", "--retention", "永久")
    assert refused.returncode != 0 and "fonds, category and unit codes are set" in refused.stderr
    archive.weidang("accounts", "codes", ACCOUNT, "--fonds", "0194", "--category", "XM",
                    "--unit", "BGS", check=True)
    done = archive.weidang("appraise", "--account", ACCOUNT, "--keep", "--retention", "永久",
                           "--reviewer", "张三", "--json", check=True)
    decisions = [json.loads(line) for line in done.stdout.splitlines()]
    items = sorted(int(d["code"].rsplit("-", 1)[1]) for d in decisions)
    assert len(decisions) == len(ids) and items == list(range(1, len(ids) + 1))
    assert all(d["code"].startswith("0194-XM·") and "-Y-BGS-" in d["code"] for d in decisions)

    archive.weidang("topics", "create", "删除的", "--description", "已被删除的微博", check=True)
    archive.weidang("topics", "add", "删除的", f"weibo:{deleted}", check=True)
    missing = archive.weidang("appraise", f"weibo:{deleted}", "--discard", "--retention", "永久")
    assert missing.returncode != 0 and "--reason" in missing.stderr + missing.stdout
    archive.weidang("appraise", "--topic", "删除的", "--discard", "--retention", "定期10年",
                    "--reason", "已删除且无保存价值", "--reviewer", "李四", check=True)
    shown = _show(archive, deleted)
    assert [d["decision"] for d in shown["decisions"]] == ["keep", "discard"]
    assert [c["current"] for c in shown["codes"]] == [False]  # its 档号 stays reserved
    listed = archive.weidang("topics", "show", "删除的", check=True).stdout
    assert f"weibo:{deleted}  discard" in listed

    events = [e for e in archive.collection().events.entries() if e.get("type") == "appraisal"]
    assert len(events) == len(ids) + 1 and events[-1]["detail"]["decision"] == "discard"
    verify = archive.weidang("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_topic_can_be_a_saved_search(harvested):
    archive, _ids, edited, _deleted = harvested
    archive.weidang("topics", "create", "更正", "--query", "下午三点", check=True)
    listed = archive.weidang("topics", "show", "更正", "--json", check=True).stdout
    assert [p["post"] for p in json.loads(listed)["posts"]] == [f"weibo:{edited}"]
    assert "更正" in archive.weidang("topics", "list", check=True).stdout
    # A search appraised at once; the codes come from the settings when the account sets none.
    done = archive.weidang("--set", "CATALOG_ARCHIVE_FONDS=0194", "--set", "CATALOG_ARCHIVE_CATEGORY=XM",
                           "--set", "CATALOG_ARCHIVE_UNIT=BGS", "appraise", "--query", "下午三点",
                           "--keep", "--retention", "永久", "--json", check=True)
    [decision] = [json.loads(line) for line in done.stdout.splitlines()]
    assert decision["post_id"] == edited and decision["code"].startswith("0194-XM·")
