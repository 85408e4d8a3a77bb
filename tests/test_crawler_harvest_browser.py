"""Browser capture inside real harvests against the emulator: each new post's page rendered in
Chromium and recorded into the harvest's own WARC, its screenshot, DOM and PDF referring to the
page's response, all linked from the post's metadata record and shown by `weidang show`; an
account switched off, a missing Chromium, a page that never finishes and a Chromium that dies
each leave the harvest ok with the API capture kept.

Skipped only where no Chromium is found (the rest of the suite runs harvests with the browser off).
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest
from crawler_helpers import Archive, archive_fixture, emulator_site, wechat_account

from catalog.metadata import is_post_metadata, read_metadata
from crawler.browser import BrowserCapture, BrowserSettings, BrowserUnavailable, find_chromium
from crawler.browser.pool import _descendants, _is_chromium
from crawler.rendering import OFF_FOR_ACCOUNT, STOPPED

try:
    find_chromium()
    NO_CHROMIUM = ""
except BrowserUnavailable as exc:
    NO_CHROMIUM = str(exc)
pytestmark = pytest.mark.skipif(bool(NO_CHROMIUM), reason=NO_CHROMIUM or "-")

WEIBO, BIZ = "weibo:7000000001", "MzkwMDAwMDAwMQ=="
site = emulator_site(accounts=1, posts=3)
archive = archive_fixture()


def browser_on(archive: Archive, *more: str) -> Archive:
    archive.settings += ["CRAWLER_BROWSER_ENABLED=true", f"CRAWLER_PROXY_CA={archive.client.ca_path}",
                         *more]
    return archive


def post_records(archive: Archive) -> dict[str, Any]:
    """The post metadata records of new versions, read, by post id."""
    out = {}
    for r in archive.records():
        if r.record_type == "metadata" and is_post_metadata(r.header("Content-Type")):
            meta = read_metadata(r.payload)
            if meta.outcome in ("new", "edited"):
                out[meta.post_id] = meta
    return out


def _is_renderer(pid: int) -> bool:
    try:
        return b"--type=renderer" in open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False


@pytest.fixture(scope="module")
def harvested(site, tmp_path_factory):
    """A Weibo and a WeChat account harvested with browser capture: (archive, summaries)."""
    site.clear_plan()
    archive = browser_on(Archive(tmp_path_factory.mktemp("home") / "home", site))
    backend = wechat_account(site, BIZ)
    archive.add(WEIBO)
    archive.add(f"wechat:{BIZ}", source="backend",
                credentials={"cookie": backend["cookie"], "token": backend["token"]})
    weibo, _ = archive.harvest(WEIBO)
    wechat, _ = archive.harvest(f"wechat:{BIZ}")
    return archive, weibo, wechat


def test_each_new_post_is_rendered_into_the_harvest_warc_and_linked_from_its_record(harvested):
    archive, weibo, wechat = harvested
    for summary in (weibo, wechat):
        assert summary["outcome"] == "ok", summary
        assert summary["posts_new"] > 0
        assert summary["browser_pages"] == summary["posts_new"], summary
        assert summary["browser_failed"] == 0 and summary["browser_note"] == ""
    records = {r.record_id: r for r in archive.records()}
    metas = post_records(archive)
    assert len(metas) == weibo["posts_new"] + wechat["posts_new"]
    for post_id, meta in metas.items():
        links = meta.browser
        assert links is not None, post_id
        page = records[links.page_record_id]
        assert page.record_type == "response" and page.uri == links.url
        if meta.platform == "weibo":
            assert links.url == f"https://m.weibo.cn/detail/{post_id}"
        else:
            assert links.url.startswith("https://mp.weixin.qq.com/s")
        for record_id, ctype, start in ((links.screenshot_record_id, "image/png", b"\x89PNG"),
                                        (links.dom_record_id, "text/html", b"<"),
                                        (links.pdf_record_id, "application/pdf", b"%PDF")):
            rendition = records[record_id]
            assert rendition.record_type == "resource"
            assert rendition.header("Content-Type").startswith(ctype)
            assert rendition.header("WARC-Refers-To") == links.page_record_id
            assert rendition.payload.startswith(start)
        assert links.images_loaded == links.images_total
        # the metadata record names them among the records it refers to
        holder = next(r for r in records.values() if r.record_type == "metadata"
                      and is_post_metadata(r.header("Content-Type"))
                      and read_metadata(r.payload).post_id == post_id)
        assert all(i in (holder.header("WARC-Weidang-Refers-To-All") or "")
                   for i in links.record_ids)
    post_id = next(p for p, m in metas.items() if m.platform == "weibo")
    shown = archive.weidang("show", f"weibo:{post_id}", check=True).stdout
    assert f"browser capture of https://m.weibo.cn/detail/{post_id}" in shown
    for label in ("page response", "screenshot (PNG)", "rendered DOM (HTML)", "PDF rendition"):
        assert label in shown
    as_json = json.loads(archive.weidang("show", f"weibo:{post_id}", "--json", check=True).stdout)
    assert as_json["versions"][0]["browser"]["pdf"]["warc_file"]


def test_pywb_replays_a_harvested_article_from_the_harvest_warc(harvested, tmp_path):
    """An independent reader: pywb replays the article page the harvest's browser recorded, with
    the emulator out of the way (pywb serves only what the WARC files hold)."""
    from pywb_replay import replaying
    from test_crawler_browser_replay import replayed

    archive, _, _ = harvested
    # an article with pictures: which article comes first depends on the order records were written
    meta = next(m for m in post_records(archive).values() if m.platform == "wechat"
                and m.browser is not None and m.browser.images_total > 0)
    capture = BrowserCapture(BrowserSettings())
    try:
        with replaying(archive.warc_files(), tmp_path / "pywb") as base:
            text, pictures, fetched = replayed(capture, base, meta.browser.url)
    finally:
        capture.close()
    assert meta.post is not None and meta.post.title in text
    assert len(pictures) == meta.browser.images_total
    assert all(loaded and width > 0 for _, loaded, width in pictures), pictures
    assert all(u.startswith(("http://127.0.0.1:", "data:")) for u in fetched)  # all from pywb


def test_an_unchanged_reharvest_renders_nothing(archive):
    browser_on(archive)
    archive.add(WEIBO)
    first, _ = archive.harvest(WEIBO)
    again, _ = archive.harvest(WEIBO, "--full")
    assert first["browser_pages"] == first["posts_new"] > 0
    assert again["posts_new"] == 0 and again["browser_pages"] == 0, again


def test_an_account_switched_off_is_not_rendered(archive):
    browser_on(archive)
    archive.add(WEIBO)
    said = archive.weidang("accounts", "browser", WEIBO, "off", check=True).stdout
    assert "not rendered" in said
    summary, _ = archive.harvest(WEIBO)
    assert summary["outcome"] == "ok" and summary["posts_new"] > 0
    assert summary["browser_note"] == OFF_FOR_ACCOUNT and summary["browser_pages"] == 0
    assert not [r for r in archive.records() if r.record_type == "resource"]
    assert all(m.browser is None for m in post_records(archive).values())


def test_a_missing_chromium_is_one_sentence_and_the_harvest_is_ok(archive):
    browser_on(archive, "CRAWLER_BROWSER_EXECUTABLE=/nonexistent/chromium")
    archive.add(WEIBO)
    done = archive.weidang("harvest", WEIBO)
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stdout.splitlines() if "Chromium" in line]
    assert said == ["  Browser capture is off: there is no Chromium at /nonexistent/chromium "
                    "(CRAWLER_BROWSER_EXECUTABLE); install the chromium package or correct the "
                    "setting."], done.stdout
    assert "Traceback" not in done.stderr
    assert post_records(archive) and all(m.browser is None for m in post_records(archive).values())


def test_a_page_that_never_finishes_is_abandoned_and_its_post_kept(archive):
    ids = next(a["post_ids"] for a in archive.client.world()["weibo"] if str(a["uid"]) == "7000000001")
    stuck = ids[0]
    archive.client.load_plan(f'[[rule]]\nhost = "m.weibo.cn"\npath = "/detail/{stuck}"\n'
                             'fault = "delay"\nseconds = 600\n')
    browser_on(archive, "CRAWLER_BROWSER_PAGE_SECONDS=8")
    archive.add(WEIBO)
    summary, _ = archive.harvest(WEIBO)
    assert summary["outcome"] == "ok", summary
    assert summary["browser_failed"] == 1
    assert summary["browser_pages"] == summary["posts_new"] - 1
    assert any(f"/detail/{stuck} did not finish within 8 seconds" in p
               for p in summary["browser_problems"]), summary["browser_problems"]
    metas = post_records(archive)
    assert metas[stuck].browser is not None and metas[stuck].browser.page_record_id is None
    assert metas[stuck].browser.problems
    assert all(m.browser.page_record_id for p, m in metas.items() if p != stuck)


def test_a_chromium_that_dies_is_restarted_for_the_next_page(archive):
    ids = next(a["post_ids"] for a in archive.client.world()["weibo"] if str(a["uid"]) == "7000000001")
    # the first page rendered waits: time enough to find Chromium and kill it meanwhile
    archive.client.load_plan("".join(f'[[rule]]\nhost = "m.weibo.cn"\npath = "/detail/{i}"\n'
                                     'fault = "delay"\nseconds = 600\n' for i in ids))
    browser_on(archive, "CRAWLER_BROWSER_PAGE_SECONDS=30")
    archive.add(WEIBO)
    harvest = archive.popen("harvest", WEIBO, "--json")
    killed = None
    deadline = time.monotonic() + 100
    while killed is None and time.monotonic() < deadline and harvest.poll() is None:
        found = [p for p in _descendants(harvest.pid) if _is_chromium(p)]
        browsers = [p for p in found if p not in {c for q in found for c in _descendants(q)}]
        if browsers and any(_is_renderer(p) for p in found):  # a page is loading (and waits)
            time.sleep(2)
            killed = browsers[0]
            archive.client.clear_plan()  # the pages after it load at once
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    out, err = harvest.communicate(timeout=300)
    assert killed is not None, err
    summary = json.loads(out)[0]
    assert summary["outcome"] == "ok", summary
    assert summary["browser_failed"] == 1, summary
    assert summary["browser_pages"] == summary["posts_new"] - 1 > 0, summary
    assert len(post_records(archive)) == summary["posts_new"]


def test_a_stop_during_the_browser_stage_keeps_every_post(archive):
    """SIGTERM while a page is rendered: that page ends within its time, the others are not
    begun, and every post's record is written (without a page)."""
    ids = next(a["post_ids"] for a in archive.client.world()["weibo"] if str(a["uid"]) == "7000000001")
    archive.client.load_plan("".join(f'[[rule]]\nhost = "m.weibo.cn"\npath = "/detail/{i}"\n'
                                     'fault = "delay"\nseconds = 600\n' for i in ids))
    browser_on(archive, "CRAWLER_BROWSER_PAGE_SECONDS=10")
    archive.add(WEIBO)
    harvest = archive.popen("harvest", WEIBO, "--json")
    deadline = time.monotonic() + 100
    while time.monotonic() < deadline and harvest.poll() is None:
        if any(_is_renderer(p) for p in _descendants(harvest.pid) if _is_chromium(p)):
            harvest.send_signal(signal.SIGTERM)
            break
        time.sleep(0.2)
    out, err = harvest.communicate(timeout=300)
    summary = json.loads(out)[0]
    assert summary["browser_note"] == STOPPED, summary
    assert summary["browser_pages"] + summary["browser_failed"] == 1, summary
    assert len(post_records(archive)) == summary["posts_new"] > 1
