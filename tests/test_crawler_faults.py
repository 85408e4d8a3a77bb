"""The platform refusing us, failing, or answering badly: each fault from a fault plan, one harvest each.

One emulator for the module; each test loads its own plan (rule counts start again) and uses its
own home, so the tests do not depend on each other.
"""

from __future__ import annotations

import re

import pytest
from crawler_helpers import (
    archive_fixture,
    emulator_site,
    every_byte,
    wechat_account,
    weibo_ids,
)

UID = "7000000001"
BIZ = "MzkwMDAwMDAwMQ=="


site = emulator_site(posts=20)


archive = archive_fixture()


REFUSAL_DELAY = 0.3  # seconds between a host's requests in the refusal tests


def _after(site, seq: int, host: str) -> list[dict]:
    return [r for r in site.control("GET", f"/requests?host={host}") if r["seq"] > seq]


def _faulted(site) -> dict:
    return next(r for r in site.control("GET", "/requests") if r["fault"])


WEIBO_REFUSALS = {
    "418": 'fault = "status"\nstatus = 418',
    "432": 'fault = "status"\nstatus = 432',
    "captcha": 'fault = "weibo_captcha"',
}


@pytest.mark.parametrize("kind", sorted(WEIBO_REFUSALS))
def test_weibo_refusal_stops_pauses_and_does_not_hammer(site, archive, kind):
    archive.add(f"weibo:{UID}")
    site.load_plan(f'[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   f'query = {{ containerid = "107603*" }}\nnth = [2]\n{WEIBO_REFUSALS[kind]}\n')
    summary, done = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "stopped" and done.returncode == 1
    assert summary["advice"] and summary["reason"]
    pauses = archive.rows("SELECT scope, reason, advice FROM pauses WHERE cleared_at IS NULL")
    assert [p[0] for p in pauses] == ["platform:weibo"] and pauses[0][2]
    last = site.control("GET", "/requests")[-1]["seq"]
    refused = archive.weidang("harvest", f"weibo:{UID}")
    assert refused.returncode == 1 and "paused" in refused.stderr + refused.stdout
    assert not _after(site, last, "m.weibo.cn")
    site.clear_plan()
    forced, _ = archive.harvest(f"weibo:{UID}", "--force")
    assert forced["outcome"] == "ok", forced
    assert sorted(archive.post_ids(f"weibo:{UID}")) == sorted(weibo_ids(site, UID))
    if kind == "418":
        raw = every_byte(archive.collection_dir / "warcs")
        # the phrase as the emulator sent it (Python's http.server: "I'm a Teapot")
        assert re.search(rb"HTTP/1\.1 418 I'm a teapot\r\n", raw, re.IGNORECASE)


@pytest.mark.parametrize("ret,scope,word", [(200013, "platform:wechat", ""),
                                            (200003, "login:", "cookie")])
def test_wechat_refusals(site, archive, ret, scope, word):
    account = wechat_account(site, BIZ)
    archive.add(f"wechat:{BIZ}", source="backend",
                credentials={"cookie": account["cookie"], "token": account["token"]})
    site.load_plan(f'[[rule]]\nhost = "mp.weixin.qq.com"\npath = "/cgi-bin/appmsg*"\nnth = [2]\n'
                   f'fault = "wechat_ret"\nret = {ret}\n')
    summary, _ = archive.harvest(f"wechat:{BIZ}")
    assert summary["outcome"] == "stopped", summary
    assert word in summary["advice"]
    pauses = archive.rows("SELECT scope FROM pauses WHERE cleared_at IS NULL")
    assert len(pauses) == 1 and pauses[0][0].startswith(scope)
    secrets = [account["token"], account["cookie"].split(";")[0].split("=", 1)[1]]
    files = [p for p in archive.root.rglob("*") if p.is_file() and p.name != "credentials.toml"]
    data = b"".join(every_byte(p) for p in files)
    assert not [s for s in secrets if s.encode() in data]


@pytest.mark.parametrize("host,rule", [
    ("m.weibo.cn", 'host = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   'query = { containerid = "107603*" }\nnth = [2]\nfault = "status"\nstatus = 418'),
    ("mp.weixin.qq.com", 'host = "mp.weixin.qq.com"\npath = "/cgi-bin/appmsg*"\nnth = [2]\n'
                         'fault = "wechat_ret"\nret = 200013')])
def test_no_request_after_a_refusal(site, archive, host, rule):
    # With politeness on (any delay), Scrapy hands a host's requests to the downloader one at a
    # time; with no delay at all it hands over every queued request at once (scrapy 2.19's
    # Downloader._process_queue), so they are on the wire before any answer is read. The refusal
    # stops the harvest once it is read, which on a loaded machine came two 0.05 s delays after
    # it arrived (a request went out at each): the delay is long against such a stall.
    archive.settings.append(f"CRAWLER_DELAY_SECONDS={REFUSAL_DELAY}")
    if host == "m.weibo.cn":
        archive.add(f"weibo:{UID}")
        key = f"weibo:{UID}"
    else:
        account = wechat_account(site, BIZ)
        archive.add(f"wechat:{BIZ}", source="backend",
                    credentials={"cookie": account["cookie"], "token": account["token"]})
        key = f"wechat:{BIZ}"
    site.load_plan(f"[[rule]]\n{rule}\n")
    summary, _ = archive.harvest(key)
    assert summary["outcome"] == "stopped"
    fault = _faulted(site)
    # what was already on the wire may finish (2 per host); nothing new is asked of the platform
    assert len(_after(site, fault["seq"], host)) <= 1


def test_5xx_retried_with_backoff_then_succeeds(site, archive):
    archive.add(f"weibo:{UID}")
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   'query = { containerid = "107603*" }\nnth = [2, 3]\nfault = "status"\nstatus = 503\n')
    summary, _ = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "ok", summary
    assert sorted(archive.post_ids(f"weibo:{UID}")) == sorted(weibo_ids(site, UID))
    hits = [r for r in site.control("GET", "/requests?host=m.weibo.cn&path=/api/container/getIndex")
            if "containerid=107603" in r["url"]]
    failed = [r for r in hits if r["status"] == 503]
    assert len(failed) == 2
    retry = hits[hits.index(failed[-1]) + 1]
    assert retry["url"] == failed[-1]["url"] and retry["time"] - failed[-1]["time"] >= 0.1
    # the 503 answers are evidence too (the second, with the same body, as a revisit of the first)
    assert sorted(r.record_type for r in archive.records() if r.http_status == 503) == [
        "response", "revisit"]


def test_slow_answers_still_complete(site, archive):
    archive.add(f"weibo:{UID}")
    site.load_plan('[[rule]]\nhost = "*.sinaimg.cn"\nfault = "delay"\nseconds = 0.3\ntimes = 4\n')
    summary, _ = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "ok" and not summary["errors"]
    assert sorted(archive.post_ids(f"weibo:{UID}")) == sorted(weibo_ids(site, UID))


@pytest.mark.parametrize("fault", ['fault = "truncate"\nkeep = 0.5', pytest.param(
    'fault = "invalid_utf8"')])
def test_bad_bodies_are_errors_and_nothing_else_is_lost(site, archive, fault):
    archive.settings.append("CRAWLER_RETRIES=0")  # a retry would mend the cut body
    archive.add(f"weibo:{UID}")
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/statuses/extend"\nnth = [1]\n'
                   f"{fault}\n")
    summary, _ = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "partial", summary
    assert summary["errors"]
    held = set(archive.post_ids(f"weibo:{UID}"))
    missing = set(weibo_ids(site, UID)) - held
    assert len(missing) <= 1, missing
