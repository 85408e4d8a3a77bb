"""What a harvest says it did: never `ok` when it captured nothing, each cause said once, in words.

One emulator for the module; each test uses its own home. Unreachable platforms are a proxy
address that refuses, does not resolve (`.invalid` fails locally) or never answers: no test
reaches a network.
"""

from __future__ import annotations

import errno
import shutil
import socket
import time

import pytest
from crawler_helpers import (
    WEIDANG,
    archive_fixture,
    emulator_site,
    wechat_account,
    wechat_ids,
    weibo_ids,
)
from emulator_client import ROOT
from store_helpers import StepClock, json_exchange, private_mounts_available, run_with_private_mounts

from crawler.job import HarvestJob, HarvestSummary
from crawler.outcome import Ending, judge
from crawler.reachability import in_words
from warc_store import CaptureWriter, Collection

UID = "7000000001"  # reposts other accounts' posts: their originals are captured too
BIZ = "MzkwMDAwMDAwMQ=="
RAW = ("twisted", "Failure", "Errno", "<")
needs_mounts = pytest.mark.skipif(not private_mounts_available(),
                                  reason="needs `unshare -rm` (a private mount namespace)")


site = emulator_site(posts=20)


archive = archive_fixture()


def test_urls_source_captures_the_listed_articles(site, archive):
    account = wechat_account(site, BIZ)
    archive.add(f"wechat:{BIZ}", source="urls", credentials={"urls": account["links"][:3]})
    summary, done = archive.harvest(f"wechat:{BIZ}")
    assert summary["outcome"] == "ok" and done.returncode == 0, summary
    assert summary["posts_new"] == 3
    assert sorted(archive.post_ids(f"wechat:{BIZ}")) == sorted(wechat_ids(account)[:3])


def test_a_harvest_that_can_ask_nothing_fails_and_says_why(site, archive):
    archive.add("weibo:7000000002", source="desktop")  # weibo.com needs a cookie; none given
    summary, done = archive.harvest("weibo:7000000002")
    assert summary["outcome"] == "failed" and done.returncode == 1, summary
    assert "cookie" in summary["reason"] and summary["advice"]
    assert archive.rows("SELECT outcome, reason FROM runs") == [("failed", summary["reason"])]
    status = archive.weidang("status", check=True).stdout
    assert "failing" in status and summary["reason"] in status


def test_an_empty_listing_of_an_account_with_posts_fails(site, archive):
    archive.add(f"weibo:{UID}")
    empty = '{"ok": 1, "data": {"cardlistInfo": {"total": 20}, "cards": []}}'
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   'query = { containerid = "107603*" }\nfault = "body"\n'
                   f"content_type = \"application/json\"\nbody = '{empty}'\n")
    summary, done = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "failed" and done.returncode == 1, summary
    assert summary["pages"] == 1 and "reports 20 posts" in summary["reason"]


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# The closed port is picked when the test runs (a port picked at collection could be taken by
# then), and the test's name stays the same in every xdist worker's collection.
@pytest.mark.parametrize("proxy,cause", [(_closed_port, "the proxy 127.0.0.1:"),
                                         (lambda: "http://proxy.invalid:3128", "(DNS)")],
                         ids=["closed-port", "unknown-host"])
def test_an_unreachable_platform_fails_at_once_saying_why(archive, proxy, cause):
    # Retries that would go on for hours: only giving up after a set time ends the harvest.
    archive.settings += [f"CRAWLER_PROXY={proxy()}", "CRAWLER_RETRIES=20",
                         "CRAWLER_UNREACHABLE_GIVE_UP_SECONDS=1"]
    archive.add(f"weibo:{UID}")
    summary, done = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "failed" and done.returncode == 1, summary
    assert summary["reason"].startswith("Weibo could not be reached: ") and cause in summary["reason"]
    assert "CRAWLER_PROXY" in summary["advice"] and "--full" not in summary["advice"]
    assert not [w for w in RAW if w in summary["reason"] + " ".join(summary["errors"])]
    printed = archive.weidang("harvest", f"weibo:{UID}").stdout
    assert printed.count(summary["reason"].partition(": ")[2]) == 1, printed  # said once


def test_a_proxy_that_never_answers_is_a_timeout(archive):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        archive.settings += [f"CRAWLER_PROXY=http://127.0.0.1:{silent.getsockname()[1]}",
                             "CRAWLER_TIMEOUT_SECONDS=1", "CRAWLER_RETRIES=20",
                             "CRAWLER_UNREACHABLE_GIVE_UP_SECONDS=2"]
        archive.add(f"weibo:{UID}")
        summary, _ = archive.harvest(f"weibo:{UID}")
    assert summary["outcome"] == "failed", summary
    assert "could not be reached" in summary["reason"] and "(timeout)" in summary["reason"]


@pytest.mark.parametrize("wait", ["CRAWLER_BACKOFF_SECONDS=300", "CRAWLER_TIMEOUT_SECONDS=3600"])
def test_giving_up_bounds_backoff_and_timeouts(archive, wait):
    # Backoff doubling from 300 s, or a 3600 s timeout, would keep it asking for an hour: the
    # give-up time bounds both (a generous bound: about 2 s are expected).
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        proxy = _closed_port() if "BACKOFF" in wait else f"http://127.0.0.1:{silent.getsockname()[1]}"
        archive.settings += [f"CRAWLER_PROXY={proxy}", wait, "CRAWLER_RETRIES=20",
                             "CRAWLER_UNREACHABLE_GIVE_UP_SECONDS=2"]
        archive.add(f"weibo:{UID}")
        began = time.monotonic()
        summary, _ = archive.harvest(f"weibo:{UID}")
        took = time.monotonic() - began
    assert summary["outcome"] == "failed" and "could not be reached" in summary["reason"], summary
    assert took < 90, took


def test_a_dropped_connection_is_said_in_words(site, archive):
    archive.settings.append("CRAWLER_RETRIES=0")
    archive.add(f"weibo:{UID}")
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                   'query = { containerid = "107603*" }\nnth = [1, 2]\nfault = "drop"\n')
    summary, _ = archive.harvest(f"weibo:{UID}")
    # the first listing page is lost (a fresh connection after Twisted's own retry is dropped too)
    assert summary["outcome"] == "failed", summary
    assert "was dropped before the answer was complete" in summary["reason"]
    assert not [w for w in RAW if w in summary["reason"] + " ".join(summary["errors"])], summary


def test_a_full_disk_while_harvesting_is_said_in_words():
    why = in_words(OSError(errno.ENOSPC, "No space left on device"), "https://m.weibo.cn/x")
    assert "disk is full" in why


@needs_mounts
def test_a_harvest_on_a_full_disk_says_so(site, archive, tmp_path):
    archive.add(f"weibo:{UID}")
    warcs = archive.root / "collections"
    warcs.mkdir()
    sets = " ".join(f"--set {s}" for s in (f"CRAWLER_PROXY={site.proxy_url}",
                                            "CRAWLER_DELAY_SECONDS=0"))
    # the collection on a disk too small for the harvest: its WARC and index writes fail
    done = run_with_private_mounts(
        f"mount -t tmpfs -o size=100k tmpfs {warcs} && cd {ROOT} && "
        f"WEIDANG_HOME={archive.root} {' '.join(WEIDANG)} {sets} harvest weibo:{UID} --full")
    said = done.stdout + done.stderr
    assert done.returncode == 1 and said.count("disk is full") == 1, said
    assert "Traceback" not in said, said
    [(outcome, reason, advice)] = archive.rows("SELECT outcome, reason, advice FROM runs")
    assert outcome == "partial" and reason.startswith("the disk is full"), reason  # some were stored
    assert "free some space" in advice.lower()


def test_each_post_is_counted_once_in_its_own_account(site, archive):
    archive.add(f"weibo:{UID}")
    first, _ = archive.harvest(f"weibo:{UID}", "--full")
    held = archive.post_ids(f"weibo:{UID}")
    others = archive.rows("SELECT COUNT(*) FROM posts WHERE account != ?", f"weibo:{UID}")[0][0]
    assert others > 0  # the reposted originals, kept in their own accounts
    assert first["posts_new"] == len(held) == len(weibo_ids(site, UID)), first
    # the second run sees each post in the listing and again in its re-check
    again, _ = archive.harvest(f"weibo:{UID}", "--full")
    assert again["posts_unchanged"] == len(held) and again["posts_new"] == 0, again


def test_a_refused_weibo_login_gets_weibo_advice_said_once(site, archive):
    archive.add(f"weibo:{UID}")
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\nnth = [2]\n'
                   'fault = "weibo_captcha"\nurl = "https://passport.weibo.cn/signin/login"\n')
    printed = archive.weidang("harvest", f"weibo:{UID}").stdout
    [(outcome, reason, advice)] = archive.rows("SELECT outcome, reason, advice FROM runs")
    assert outcome == "stopped", printed
    assert "weibo.com" in advice and advice not in reason
    assert "AppSecret" not in advice and "WeChat" not in advice
    assert printed.count(advice) == 1, printed


def test_a_platform_pause_is_said_once_in_status(site, archive):
    for uid in (UID, "7000000002"):
        archive.add(f"weibo:{uid}")
    site.load_plan('[[rule]]\nhost = "m.weibo.cn"\nnth = [1]\nfault = "status"\nstatus = 418\n')
    stopped, _ = archive.harvest(f"weibo:{UID}")  # pauses the whole platform: both accounts
    assert stopped["outcome"] == "stopped", stopped
    status = archive.weidang("status", check=True).stdout
    assert status.count(stopped["advice"]) == 1, status
    assert status.count(stopped["reason"]) == 1, status
    assert f"weibo:{UID}, weibo:7000000002: " in status


def _judged(ending: Ending, source: str | None = None, **summary: object) -> tuple[str, str, str]:
    job = HarvestJob("weibo", UID, "h1", source=source)
    return judge(HarvestSummary(job.account, "h1", **summary), job, ending)  # type: ignore[arg-type]


def test_a_stop_while_retrying_an_unanswered_request_is_cut_short_not_failed():
    refused = "127.0.0.1 refused the connection"
    outcome, reason, _ = _judged(Ending(closed="shutdown", no_answer=refused))
    assert outcome == "partial" and "stopped before it finished" in reason
    # having given up first, it is the platform that could not be reached
    outcome, reason, _ = _judged(Ending(closed="shutdown", no_answer=refused, gave_up=True))
    assert outcome == "failed" and "could not be reached" in reason


def test_a_full_disk_is_the_reason_whatever_else_failed():
    outcome, reason, advice = _judged(Ending(closed="disk full", disk_full=True), exchanges=3,
                                      pages=1, errors=["https://x failed: the disk is full"])
    assert outcome == "partial" and reason.startswith("the disk is full")
    assert advice.startswith("Free some space")
    assert _judged(Ending(disk_full=True), exchanges=0)[0] == "failed"


def test_a_urls_harvest_where_every_article_failed_fails():
    ending = Ending(closed="finished", posts_seen=0)
    outcome, reason, _ = _judged(ending, "urls", exchanges=2, requests=2,
                                 errors=["https://mp.weixin.qq.com/s?x answered HTTP 500"])
    assert outcome == "failed" and "none of the listed articles" in reason
    assert _judged(Ending(closed="finished", posts_seen=1), "urls", exchanges=2)[0] == "ok"


def test_a_urls_harvest_of_articles_that_all_fail_says_failed(site, archive):
    account = wechat_account(site, BIZ)
    archive.settings.append("CRAWLER_RETRIES=0")
    archive.add(f"wechat:{BIZ}", source="urls", credentials={"urls": account["links"][:2]})
    site.load_plan('[[rule]]\nhost = "mp.weixin.qq.com"\npath = "/s"\nfault = "status"\nstatus = 404\n')
    summary, done = archive.harvest(f"wechat:{BIZ}")
    assert summary["outcome"] == "failed" and done.returncode == 1, summary
    assert "none of the listed articles" in summary["reason"], summary


def test_a_foreign_open_file_is_a_warning_in_the_summary(site, archive, tmp_path):
    archive.add(f"weibo:{UID}")
    archive.harvest(f"weibo:{UID}")
    other = CaptureWriter(Collection.create(tmp_path / "elsewhere" / "default", StepClock()))
    other.write_exchange(*json_exchange(1))
    other.flush()
    assert other._current is not None
    foreign = other._current.path  # another collection's interrupted file, copied in
    shutil.copy(foreign, archive.collection_dir / "warcs" / foreign.name)
    summary, done = archive.harvest(f"weibo:{UID}")
    [warning] = summary["warnings"]
    assert warning.startswith(str(archive.collection_dir / "warcs" / foreign.name)), warning
    assert "quarantine" in warning and f"Warning: {warning}" in done.stderr
