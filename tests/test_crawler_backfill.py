"""An account larger than one run's page budget is captured whole over several harvests.

The first harvest walks CRAWLER_FULL_MAX_PAGES pages from the top and saves where it stopped;
each later harvest takes the new posts at the top (stopping at the posts it holds) and goes on
from the saved page, until the listing ends. The summary and `weidang status` say how far it is.
"""

from __future__ import annotations

import json
import os
import signal
import time

from crawler_helpers import Archive, emulator_site, wechat_account, wechat_ids, weibo_ids

UID = "7000000001"
KEY = f"weibo:{UID}"
BIZ = "MzkwMDAwMDAwMQ=="


site = emulator_site(accounts=1, posts=45)


def _timeline(site) -> list[dict]:
    return [r for r in site.control("GET", "/requests?host=m.weibo.cn&path=/api/container/getIndex")
            if "containerid=107603" in r["url"]]


def test_a_large_weibo_account_is_backfilled_over_several_runs(site, tmp_path):
    archive = Archive(tmp_path / "home", site)
    # the pages each walk asks for: no re-checks, which would have the top walk read on through
    # the posts due for one (tests/test_crawler_reharvest.py)
    archive.settings += ["CRAWLER_FULL_MAX_PAGES=2", "CRAWLER_RECHECK_DAYS=0"]
    archive.add(KEY)
    world = set(weibo_ids(site, UID))

    first, _ = archive.harvest(KEY)
    assert first["outcome"] == "ok", first
    assert first["backfill"]["state"] == "continuing" and first["pages"] == 2
    assert 0 < first["captured_total"] < len(world)
    assert f"of {first['reported_total']} posts" in first["backfill"]["note"]
    status = archive.weidang("status")
    assert "continuing at the next harvest" in status.stdout, status.stdout
    first_pages = {r["url"] for r in _timeline(site)}

    added = [site.control("POST", "/mutate", json.dumps(
        {"op": "add", "uid": UID, "text": f"回填期间新增第{i}条"}).encode())["id"] for i in range(3)]
    seen = len(_timeline(site))
    second, _ = archive.harvest(KEY)
    assert second["outcome"] == "ok", second
    assert set(added) <= set(archive.post_ids(KEY))  # the top walk took the new posts
    asked = [r["url"] for r in _timeline(site)[seen:]]
    # the top walk: page 1 only (it holds known posts); the backfill: two pages never asked before
    assert len([u for u in asked if "since_id" not in u]) == 1, asked
    deeper = [u for u in asked if "since_id" in u]
    assert len(deeper) == 2 and not set(deeper) & first_pages, asked
    assert second["backfill"]["state"] == "continuing", second

    third, _ = archive.harvest(KEY)
    assert third["outcome"] == "ok", third
    assert third["backfill"]["state"] == "finished", third
    assert set(archive.post_ids(KEY)) == world | set(added)
    assert archive.rows("SELECT post_id FROM versions GROUP BY post_id HAVING COUNT(*) > 1") == []

    seen = len(_timeline(site))
    fourth, _ = archive.harvest(KEY)  # an ordinary incremental harvest now
    assert fourth["outcome"] == "ok" and fourth["backfill"] is None, fourth
    assert len(_timeline(site)) - seen == 1
    events = [r[0] for r in archive.rows("SELECT action FROM catalog_events WHERE subject = ? "
                                         "ORDER BY seq", KEY) if r[0].startswith("backfill")]
    assert events == ["backfill started", "backfill continued", "backfill finished"]


def test_a_killed_backfill_run_is_walked_again_not_skipped(site, tmp_path):
    """A run that does not end (kill -9) saves no cursor: the next one goes on where it did."""
    archive = Archive(tmp_path / "home", site)
    archive.settings.append("CRAWLER_FULL_MAX_PAGES=2")
    archive.add(KEY)
    archive.harvest(KEY)
    saved = archive.rows("SELECT cursor, pages, runs FROM backfills WHERE account = ?", KEY)
    since_id = json.loads(saved[0][0])["since_id"]
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.5\n')
    try:
        proc = archive.popen("harvest", KEY, "--json")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                f"since_id={since_id}" in r["url"] for r in _timeline(site)):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    finally:
        site.clear_plan()
    assert archive.rows("SELECT cursor, pages, runs FROM backfills WHERE account = ?", KEY) == saved
    seen = len(_timeline(site))
    again, _ = archive.harvest(KEY)
    assert again["outcome"] == "ok", again
    assert any(f"since_id={since_id}" in r["url"] for r in _timeline(site)[seen:])
    while again["backfill"]["state"] != "finished":
        again, _ = archive.harvest(KEY)
    assert set(archive.post_ids(KEY)) >= set(weibo_ids(site, UID))


def test_a_wechat_backend_account_is_backfilled_by_offset(site, tmp_path):
    account = wechat_account(site, BIZ)
    archive = Archive(tmp_path / "home", site)
    archive.settings.append("CRAWLER_FULL_MAX_PAGES=1")
    key = f"wechat:{BIZ}"
    archive.add(key, source="backend",
                credentials={"cookie": account["cookie"], "token": account["token"]})
    summaries = []
    for _ in range(12):
        summary, _ = archive.harvest(key)
        assert summary["outcome"] == "ok", summary
        summaries.append(summary)
        if summary["backfill"] and summary["backfill"]["state"] == "finished":
            break
    assert len(summaries) > 1 and summaries[-1]["backfill"]["state"] == "finished"
    assert sorted(archive.post_ids(key)) == sorted(wechat_ids(account))


def test_the_harvesters_go_on_from_a_cursor_without_any_login_in_it():
    import datetime as dt

    from harvesters import make_harvester

    weibo = make_harvester("weibo")
    page = weibo.timeline_request(UID, since_id="4900000000000001", page=7,
                                  containerid=f"107603{UID}", cookie="SUB=secret")
    cursor = weibo.listing_cursor(page)
    assert cursor == {"since_id": "4900000000000001", "page": 7, "containerid": f"107603{UID}"}
    starts = weibo.start_requests(UID, {"cookie": "SUB=secret"}, resume=cursor)
    assert [s.meta.get("chain") for s in starts] == [None, "backfill"]
    assert "since_id=4900000000000001" in starts[1].url and starts[1].headers["Cookie"] == "SUB=secret"

    backend = make_harvester("wechat", "backend")
    creds = {"cookie": "slave_sid=secret", "token": "123"}
    listing = backend.backend_list_request(BIZ, creds["cookie"], creds["token"], begin=40)
    assert backend.listing_cursor(listing) == {"begin": 40}
    starts = backend.start_requests(BIZ, creds, resume={"begin": 40})
    assert starts[-1].meta["chain"] == "backfill" and starts[-1].meta["begin"] == 35  # a page back

    api = make_harvester("wechat", "api")
    [token] = api.start_requests(BIZ, {"appid": "wx1", "secret": "s"}, resume={"offset": 100})
    answer = json.dumps({"access_token": "TOKEN", "expires_in": 7200}).encode()
    result = api.parse(token, 200, {}, answer, dt.datetime.now(dt.UTC))
    assert [r.meta["offset"] for r in result.next_requests] == [0, 80]
    assert result.next_requests[1].meta["chain"] == "backfill"
    assert "TOKEN" not in json.dumps(api.listing_cursor(result.next_requests[1]))
