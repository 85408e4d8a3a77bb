"""Browser capture with real Chromium against the emulator: every exchange in the WARC as it
crossed the wire, lazy pictures loaded, screenshot/DOM/PDF records referring to the page, a stuck
page abandoned, a crashed or bloated browser restarted, and a missing Chromium said in a sentence.

One browser for the whole module (the machine is shared); skipped only where no Chromium is found.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.browser import BrowserCapture, BrowserSettings, BrowserUnavailable, find_chromium
from crawler.browser.pool import _descendants, _is_chromium
from emulator.faults import FaultPlan
from emulator.server import Emulator
from emulator.wechat_world import Article
from emulator.weibo_world import WeiboPost
from emulator.world import World
from warc_store import CaptureWriter, Collection
from warc_store.verify import verify_collection

STUCK_SECONDS = 600  # the emulator's answer to the stuck page comes after this long

try:
    find_chromium(os.environ.get("WEIDANG_TEST_CHROMIUM", ""))
    NO_CHROMIUM = ""
except BrowserUnavailable as exc:
    NO_CHROMIUM = str(exc)
needs_chromium = pytest.mark.skipif(bool(NO_CHROMIUM), reason=NO_CHROMIUM or "-")


@dataclasses.dataclass
class Site:
    emulator: Emulator
    world: World
    stuck_url: str

    def article(self, pictures: int = 2) -> Article:
        return next(a for acc in self.world.wechat.values() for a in acc.articles()
                    if len(a.images) >= pictures and a.state == "ok")

    def article_url(self, a: Article) -> str:
        return f"https://mp.weixin.qq.com/s?__biz={a.biz}&mid={a.mid}&idx={a.idx}&sn={a.sn}"

    def weibo_posts(self) -> list[WeiboPost]:
        return [p for p in self.world.posts.values()
                if p.mblog.get("pics") and not p.deleted and f"/detail/{p.id}" not in self.stuck_url]


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Any:
    world = World(accounts=2, posts=8, seed=1)
    stuck = next(p for p in world.posts.values() if p.mblog.get("pics"))
    plan = FaultPlan.from_text(f'[[rule]]\nhost = "m.weibo.cn"\npath = "/detail/{stuck.id}"\n'
                               f'fault = "delay"\nseconds = {STUCK_SECONDS}\n')
    emulator = Emulator(world, plan, state_dir=tmp_path_factory.mktemp("emulator")).start()
    try:
        yield Site(emulator, world, f"https://m.weibo.cn/detail/{stuck.id}")
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def capture(site: Site) -> Any:
    browser = BrowserCapture(BrowserSettings(
        executable=os.environ.get("WEIDANG_TEST_CHROMIUM", ""), page_budget_seconds=60,
        upstream_proxy=site.emulator.proxy_url, upstream_ca_file=str(site.emulator.ca_cert_path)))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def writer(tmp_path: Path) -> Any:
    with CaptureWriter(Collection.create(tmp_path / "collection")) as w:
        yield w


@dataclasses.dataclass
class Rec:
    type: str
    headers: dict[str, str]
    http: list[tuple[str, str]]
    status: str
    body: bytes  # the block's payload as stored (an HTTP body still in its content coding)


def stored(writer: CaptureWriter) -> list[Rec]:
    writer.close()
    out = []
    for path in sorted((writer.collection.warcs).glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for r in ArchiveIterator(fh):
                http = r.http_headers
                out.append(Rec(r.rec_type, dict(r.rec_headers.headers),
                               list(http.headers) if http else [],
                               http.get_statuscode() if http and r.rec_type != "request" else "",
                               r.raw_stream.read()))
    return out


def header(rec: Rec, name: str) -> str:
    return next((v for k, v in rec.http if k.lower() == name.lower()), "")


def warcio_check(writer: CaptureWriter) -> None:
    """warcio's own reader accepts every record and its digests, and so does `weidang verify`."""
    writer.close()
    assert verify_collection(writer.collection).ok
    files = [str(p) for p in sorted(writer.collection.warcs.glob("*.warc.gz"))]
    done = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *files],
                          capture_output=True, text=True)
    assert files and done.returncode == 0, done.stdout + done.stderr
    assert "digest fail" not in done.stdout and "digest pass" in done.stdout


def check_renditions(records: list[Rec], result: Any) -> Rec:
    """The page's response is stored whole, and the three renditions refer to it."""
    by_id = {r.headers["WARC-Record-ID"]: r for r in records}
    page = by_id[result.page_response_id]
    assert page.type == "response" and page.status == "200"
    kinds = {}
    for rid in result.rendition_ids:
        rec = by_id[rid]
        assert rec.type == "resource"
        assert rec.headers["WARC-Refers-To"] == result.page_response_id
        assert rec.headers["WARC-Weidang-Post"] == result.post_key
        kinds[rec.headers["Content-Type"].split(";")[0]] = rec.body
    assert set(kinds) == {"image/png", "text/html", "application/pdf"}
    assert kinds["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert kinds["application/pdf"].startswith(b"%PDF-")
    return page


@needs_chromium
def test_wechat_article_every_lazy_picture_and_exchange_recorded(site, capture, writer):
    article = site.article(pictures=2)
    result = capture.capture_post(site.article_url(article), "wechat:test", writer)
    assert result.ok, result.errors
    assert result.images_loaded == result.images_total >= len(article.images)
    records = stored(writer)
    page = check_renditions(records, result)
    # wire bytes: the page came gzip-encoded and is stored so, with its Content-Encoding
    assert header(page, "Content-Encoding") == "gzip"
    assert article.title in gzip.decompress(page.body).decode("utf-8")
    dom = next(r.body.decode() for r in records if r.headers["WARC-Record-ID"] == result.dom_id)
    assert article.title in dom
    responses = {r.headers["WARC-Target-URI"]: r for r in records if r.type in ("response", "revisit")}
    for picture in article.images:  # requested by the browser with WeChat's lazy-load parameters
        found = [r for u, r in responses.items() if u.startswith(picture + "&wxfrom=5")]
        assert found and found[0].status == "200", picture
        assert header(found[0], "Content-Type").startswith("image/")
    # every response has its request, and all the page's scripts were recorded as well
    requests = {r.headers["WARC-Concurrent-To"] for r in records if r.type == "request"}
    assert {r.headers["WARC-Record-ID"] for r in responses.values()} <= requests
    assert any("res.wx.qq.com" in u and u.endswith(".js") for u in responses)
    warcio_check(writer)


@needs_chromium
@pytest.mark.parametrize("page", ["mobile", "desktop"])
def test_weibo_post_page_rendered_with_its_pictures(site, capture, writer, page):
    post = site.weibo_posts()[0 if page == "mobile" else 1]
    url = (f"https://m.weibo.cn/detail/{post.id}" if page == "mobile"
           else f"https://weibo.com/{post.uid}/{post.bid}")
    result = capture.capture_post(url, f"weibo:{post.id}", writer)
    assert result.ok, result.errors
    assert result.images_loaded == result.images_total >= len(post.mblog["pics"])
    records = stored(writer)
    check_renditions(records, result)
    uris = {r.headers["WARC-Target-URI"] for r in records if r.type in ("response", "revisit")}
    for pic in post.mblog["pics"]:  # each picture, in the size that page shows
        assert any(u.endswith(f"/{pic['pid']}.jpg") and "sinaimg.cn" in u for u in uris), pic
    if page == "desktop":  # the post itself came by ajax, and that answer is in the WARC too
        assert f"https://weibo.com/ajax/statuses/show?id={post.bid}" in uris
    dom = next(r.body.decode() for r in records if r.headers["WARC-Record-ID"] == result.dom_id)
    assert 'class="weibo-text"' in dom
    warcio_check(writer)


@needs_chromium
def test_payloads_already_stored_become_revisits(site, capture, writer):
    url = site.article_url(site.article(pictures=1))
    first = capture.capture_post(url, "wechat:again", writer)
    second = capture.capture_post(url, "wechat:again", writer)
    assert first.ok and second.ok, first.errors + second.errors
    assert not any(e.revisit_of for e in first.exchanges if "mmbiz.qpic.cn" in e.url)
    pictures = [e for e in second.exchanges if "mmbiz.qpic.cn" in e.url]
    assert pictures and all(e.revisit_of for e in pictures)
    # the page itself is stored whole both times: the renditions refer to a full response
    assert second.page_response_id not in {e.response_id for e in second.exchanges if e.revisit_of}
    warcio_check(writer)


@needs_chromium
def test_a_stuck_page_is_abandoned_and_the_next_one_captures(site, capture, writer):
    stuck = capture.capture_post(site.stuck_url, "weibo:stuck", writer, budget_seconds=3)
    assert stuck.errors == [f"the page {site.stuck_url} did not finish within 3 seconds "
                            "and was abandoned"]
    assert stuck.page_response_id is None and stuck.rendition_ids == []
    assert stuck.seconds < STUCK_SECONDS  # it did not wait for the emulator's late answer
    post = site.weibo_posts()[0]
    after = capture.capture_post(f"https://m.weibo.cn/detail/{post.id}", "weibo:next", writer)
    assert after.ok, after.errors


@needs_chromium
def test_a_crashed_browser_is_restarted_for_the_next_page(site, capture, writer):
    url = site.article_url(site.article(pictures=1))
    assert capture.capture_post(url, "wechat:before", writer).ok
    pool = capture.pool
    restarts = pool.restarts
    chromium = [pid for pid in _descendants(os.getpid()) if _is_chromium(pid)]
    assert chromium
    for pid in chromium:  # Chromium processes this test's pool started
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result = capture.capture_post(url, "wechat:after", writer)
    assert result.ok, result.errors
    assert pool.restarts == restarts + 1


@needs_chromium
def test_a_browser_over_its_memory_cap_is_restarted(site, capture, writer):
    pool = capture.pool
    restarts, settings = pool.restarts, pool.settings
    pool.settings = dataclasses.replace(settings, memory_cap_mb=1)
    try:
        result = capture.capture_post(site.article_url(site.article(pictures=1)), "wechat:m", writer)
    finally:
        pool.settings = settings
    assert result.ok, result.errors
    assert pool.restarts == restarts + 1 and pool.peak_memory > 1024 * 1024


def test_no_chromium_is_one_sentence_and_nothing_written(writer):
    missing = BrowserCapture(BrowserSettings(executable="/nowhere/chromium"))
    result = missing.capture_post("https://mp.weixin.qq.com/s/x", "wechat:x", writer)
    assert result.skipped == ("Browser capture is off: there is no Chromium at /nowhere/chromium "
                              "(CRAWLER_BROWSER_EXECUTABLE); install the chromium package or "
                              "correct the setting.")
    assert not result.ok and result.exchanges == [] and result.errors == []
    missing.close()
    assert list(writer.collection.warcs.glob("*.warc.gz*")) == []


def test_switched_off_starts_no_browser(writer):
    off = BrowserCapture(BrowserSettings(enabled=False))
    assert off.pool is None
    result = off.capture_post("https://mp.weixin.qq.com/s/x", "wechat:x", writer)
    assert result.skipped == "Browser capture is off (CRAWLER_BROWSER_ENABLED is false)."


def test_a_rendered_dom_goes_through_the_same_redaction(writer):
    writer.learn_secrets(["s3cr3t-session-value"])
    dom = (b'<html><body><a href="https://mp.weixin.qq.com/s?__biz=x&amp;key=abc123&amp;uin=42">'
           b"a</a><p>s3cr3t-session-value</p></body></html>")
    written = writer.write_resource("urn:weidang:dom:https://mp.weixin.qq.com/s?key=abc123", dom,
                                    "text/html; charset=utf-8", refers_to="<urn:uuid:x>")
    rec = next(r for r in stored(writer) if r.type == "resource")
    assert rec.headers["WARC-Record-ID"] == written.record_id
    assert b"abc123" not in rec.body and b"s3cr3t-session-value" not in rec.body
    assert "abc123" not in rec.headers["WARC-Target-URI"]
    assert rec.headers["WARC-Refers-To"] == "<urn:uuid:x>"
