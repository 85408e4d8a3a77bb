"""Harvests against the emulator, full then incremental: what is captured, recorded and kept out.

One emulator and one home for the module: the harvests run once (subprocesses) and every test
looks at what they left. Weibo mobile and desktop, WeChat backend (cookie + token) and API
(AppID + AppSecret).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
from crawler_helpers import (
    ROOT,
    Archive,
    emulator_site,
    every_byte,
    request_key,
    wechat_account,
    wechat_ids,
    weibo_ids,
)

MOBILE, DESKTOP, CAPPED = "weibo:7000000001", "weibo:7000000002", "weibo:6279793937"
BACKEND_BIZ, API_BIZ = "MzkwMDAwMDAwMQ==", "MzkwMDAwMDAwMg=="
DESKTOP_COOKIE = "SUB=_2A25LsecretDesktopCookieValue9Xq; SUBP=0033WrSXqPxfM725Ws9jqgMF55529P9D9W"


site = emulator_site()


@pytest.fixture(scope="module")
def run(site, tmp_path_factory):
    """Every harvest of the module, in order; the summaries and the emulator's request counts."""
    archive = Archive(tmp_path_factory.mktemp("home") / "home", site)
    backend, api = wechat_account(site, BACKEND_BIZ), wechat_account(site, API_BIZ)
    archive.add(MOBILE)
    archive.add(DESKTOP, source="desktop", credentials={"cookie": DESKTOP_COOKIE})
    archive.add(CAPPED)
    archive.add(f"wechat:{BACKEND_BIZ}", source="backend",
                credentials={"cookie": backend["cookie"], "token": backend["token"]})
    archive.add(f"wechat:{API_BIZ}", source="api",
                credentials={"appid": api["appid"], "secret": api["secret"]})
    out: dict[str, object] = {"archive": archive, "backend": backend, "api": api}

    def timeline_requests() -> int:
        return sum(1 for r in site.control("GET", "/requests?host=m.weibo.cn&path=/api/container/getIndex")
                   if "containerid=107603" in r["url"])

    out["mobile1"], _ = archive.harvest(MOBILE)
    # the stop rule alone: with re-checks due, the listing goes on while its pages re-check them
    # (tests/test_crawler_reharvest.py)
    archive.settings.append("CRAWLER_RECHECK_DAYS=0")
    before = timeline_requests()
    out["mobile2"], _ = archive.harvest(MOBILE)
    out["mobile2_pages"] = timeline_requests() - before
    # 12 newer posts: page 1 is the (known) pinned post and 10 new ones; the pinned post must
    # not stop the harvest there
    out["added"] = [site.control("POST", "/mutate", json.dumps(
        {"op": "add", "uid": "7000000001", "text": f"新增第{i}条"}).encode()) for i in range(12)]
    out["mobile3"], _ = archive.harvest(MOBILE)
    archive.settings.pop()
    out["desktop1"], _ = archive.harvest(DESKTOP)
    archive.settings.append("CRAWLER_FULL_MAX_PAGES=1")
    before = timeline_requests()
    out["capped"], out["capped_done"] = archive.harvest(CAPPED, "--full")
    out["capped_pages"] = timeline_requests() - before
    archive.settings.pop()
    for name, biz in (("backend", BACKEND_BIZ), ("api", API_BIZ)):
        out[f"{name}1"], _ = archive.harvest(f"wechat:{biz}")
        out[f"{name}2"], _ = archive.harvest(f"wechat:{biz}")
    return out


def test_every_post_captured_once(run, site):
    archive = run["archive"]
    for account, first in ((MOBILE, "mobile1"), (DESKTOP, "desktop1")):
        assert run[first]["outcome"] == "ok", run[first]
        ids = archive.post_ids(account)
        world = weibo_ids(site, account.split(":")[1])
        assert sorted(ids) == sorted(world)
    for name, biz in (("backend", BACKEND_BIZ), ("api", API_BIZ)):
        assert run[f"{name}1"]["outcome"] == "ok", run[f"{name}1"]
        assert sorted(archive.post_ids(f"wechat:{biz}")) == sorted(wechat_ids(run[name]))
        assert run[f"{name}1"]["posts_new"] == len(run[name]["links"])
    per_post = archive.rows("SELECT platform, post_id, COUNT(*) FROM versions GROUP BY platform, post_id")
    assert per_post and all(n == 1 for _, _, n in per_post)


def test_incremental_run_stops_at_newest_post_held(run):
    for name in ("mobile2", "backend2", "api2"):
        assert run[name]["outcome"] == "ok", run[name]
        assert run[name]["posts_new"] == 0 and run[name]["posts_edited"] == 0, run[name]
    assert run["mobile2_pages"] == 1
    assert run["mobile2"]["pages"] == 1


def test_pinned_post_does_not_stop_an_incremental_run(run):
    archive = run["archive"]
    added = {a["id"] if "id" in a else a.get("post_id") for a in run["added"]}
    assert run["mobile3"]["posts_new"] == 12, run["mobile3"]
    assert run["mobile3"]["pages"] == 2
    ids = set(archive.post_ids(MOBILE))
    assert not {i for i in added if i} - ids


def test_full_harvest_honours_page_limit_and_shows_gap(run):
    capped = run["capped"]
    assert run["capped_pages"] == 1 and capped["pages"] == 1
    # the page limit is one run's share of a backfill, not an error: the next harvest goes on
    assert capped["backfill"]["state"] == "continuing" and not capped["errors"]
    assert capped["reported_total"] and capped["captured_total"] < capped["reported_total"]
    assert capped["gap"] == capped["reported_total"] - capped["captured_total"] > 0
    runs = run["archive"].rows(
        "SELECT reported_total, captured_total FROM runs WHERE account = ? ORDER BY started_at", CAPPED)
    assert runs[0] == (capped["reported_total"], capped["captured_total"])
    assert run["mobile1"]["reported_total"] == 25 and run["mobile1"]["gap"] == 0


def test_metadata_records_refer_to_responses(run):
    records = run["archive"].records()
    by_id = {r.record_id: r for r in records}
    posts = set(run["archive"].rows("SELECT platform, post_id FROM posts"))
    meta = [r for r in records if r.record_type == "metadata" and r.uri.startswith("urn:weidang:post:")
            and ":status:" not in r.uri]
    described = {tuple(r.uri.split(":")[3:5]) for r in meta}
    assert posts <= described
    for record in meta:
        refs = [v for k, v in record.warc_headers if k == "WARC-Refers-To"]
        assert refs, record.uri
        assert all(by_id[ref].record_type in ("response", "revisit") for ref in refs)
        assert any(by_id[ref].record_type == "response" for ref in refs)


def test_media_already_stored_become_revisits(run):
    records = run["archive"].records()
    revisits = [r for r in records if r.record_type == "revisit"]
    assert revisits and sum(run[n]["revisits"] for n in ("mobile1", "desktop1", "backend1")) > 0
    responses = {r.record_id: r for r in records if r.record_type == "response"}
    for revisit in revisits:
        original = responses[revisit.header("WARC-Refers-To")]
        assert original.header("WARC-Payload-Digest") == revisit.header("WARC-Payload-Digest")


def test_every_exchange_recorded_except_token_exchanges(run, site):
    records = run["archive"].records()
    seen = Counter(request_key(r["url"], r["method"]) for r in site.control("GET", "/requests")
                   if r["path"] != "/cgi-bin/token")
    token_calls = [r for r in site.control("GET", "/requests") if r["path"] == "/cgi-bin/token"]
    assert token_calls, "the API source should have exchanged its AppSecret for a token"
    requests = [r for r in records if r.record_type == "request"]
    methods = run["archive"].request_methods()
    kept = Counter(request_key(r.uri, methods[r.record_id]) for r in requests)
    assert seen - kept == Counter()
    assert kept - seen == Counter()
    assert not [r for r in records if "/cgi-bin/token" in r.uri]
    ids = {r.record_id for r in records if r.record_type in ("response", "revisit")}
    assert all(r.header("WARC-Concurrent-To") in ids for r in requests)
    assert len(ids) == len(requests)


def test_bodies_headers_and_status_lines_as_they_arrived(run):
    archive = run["archive"]
    records = archive.records()
    gzipped = [body for headers, body in archive.raw_responses()
               if any(k.lower() == "content-encoding" and v == "gzip" for k, v in headers)]
    assert gzipped and all(body[:2] == b"\x1f\x8b" for body in gzipped)
    two_cookies = [r for r in records if r.record_type == "response"
                   and sum(k.lower() == "set-cookie" for k, _ in r.http_headers) >= 2]
    assert two_cookies
    raw = every_byte(archive.collection_dir / "warcs")
    assert b"HTTP/1.1 200 OK\r\n" in raw


def test_no_secret_in_any_written_byte(run):
    archive = run["archive"]
    secrets = [run["backend"]["cookie"].split(";")[0].split("=", 1)[1], run["backend"]["token"],
               run["api"]["secret"], DESKTOP_COOKIE.split(";")[0].split("=", 1)[1]]
    files = [p for p in archive.root.rglob("*") if p.is_file() and p.name != "credentials.toml"]
    assert files
    data = b"".join(every_byte(p) for p in files)
    for secret in secrets:
        assert secret.encode() not in data, secret


def test_warcio_check_passes(run):
    files = [str(p) for p in run["archive"].warc_files()]
    check = subprocess.run([str(ROOT / ".venv/bin/warcio"), "check", *files], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
