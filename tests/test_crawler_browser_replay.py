"""Proof by independent readers: pywb (its own virtual environment) replays what browser capture
wrote, and headless Chromium loading the replay shows the post's text and every picture.

A WeChat article with lazy pictures and a Weibo post page are captured from the emulator; the
emulator is then stopped, so whatever the replay shows came out of the WARC files.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from pywb_replay import replaying

from crawler.browser import BrowserCapture, BrowserSettings, BrowserUnavailable, find_chromium
from emulator import weibo_desktop
from emulator.server import Emulator
from emulator.weibo_routes import full_mblog
from emulator.world import World
from warc_store import CaptureWriter, Collection

try:
    find_chromium(os.environ.get("WEIDANG_TEST_CHROMIUM", ""))
    NO_CHROMIUM = ""
except BrowserUnavailable as exc:
    NO_CHROMIUM = str(exc)
pytestmark = pytest.mark.skipif(bool(NO_CHROMIUM), reason=NO_CHROMIUM or "-")

# Scroll through the replayed page so its lazy loader asks the archive for every picture, then
# wait until each picture with a source has loaded (or failed).
SETTLE_JS = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
    window.scrollTo(0, y);
    await frame();
  }
}"""
PICTURES_JS = """() => Array.from(document.images).filter((i) => i.getAttribute("src") || i.dataset.src)
  .map((i) => [i.currentSrc || i.src, i.complete, i.naturalWidth])"""


@pytest.fixture(scope="module")
def replay(tmp_path_factory: Any) -> Any:
    """(capture, pywb address, what was captured): captured once, the emulator then stopped."""
    root = tmp_path_factory.mktemp("replay")
    world = World(accounts=1, posts=6, seed=3)
    article = next(a for acc in world.wechat.values() for a in acc.articles()
                   if len(a.images) >= 2 and a.state == "ok")
    post = next(p for p in world.posts.values() if len(p.mblog.get("pics") or []) >= 1)
    pages = {"wechat": (f"https://mp.weixin.qq.com/s?__biz={article.biz}&mid={article.mid}"
                        f"&idx={article.idx}&sn={article.sn}", article.title, len(article.images)),
             "weibo": (f"https://m.weibo.cn/detail/{post.id}", post.id, len(post.mblog["pics"]))}
    emulator = Emulator(world, state_dir=root / "emulator").start()
    capture = BrowserCapture(BrowserSettings(upstream_proxy=emulator.proxy_url,
                                             upstream_ca_file=str(emulator.ca_cert_path)))
    try:
        collection = Collection.create(root / "collection")
        with CaptureWriter(collection) as writer:
            for key, (url, _, _) in pages.items():
                result = capture.capture_post(url, key, writer)
                assert result.ok, result.errors
        emulator.stop()
        with replaying(sorted(collection.warcs.glob("*.warc.gz")), root / "pywb") as base:
            yield capture, base, pages, world
    finally:
        capture.close()
        emulator.stop()


def replayed(capture: BrowserCapture, base: str, url: str) -> tuple[str, list[list[Any]], list[str]]:
    """The replayed page's text and pictures (address, loaded, width), and every address the
    browser fetched. pywb shows a page in its frame; the page is the frame's ``mp_`` document."""
    assert capture.pool is not None
    context = capture.pool.context(None)  # straight to pywb on this machine
    fetched: list[str] = []
    context.on("request", lambda request: fetched.append(request.url))
    try:
        page = context.new_page()
        page.goto(f"{base}mp_/{url}", wait_until="load", timeout=60_000)
        frame = next(f for f in page.frames if "mp_/" in f.url)
        frame.wait_for_load_state("load", timeout=60_000)
        frame.evaluate(SETTLE_JS)
        frame.wait_for_function("() => Array.from(document.images).every((i) => i.complete)",
                                timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        return frame.inner_text("body"), frame.evaluate(PICTURES_JS), fetched
    finally:
        context.close()


def test_pywb_replays_the_wechat_article_with_every_picture(replay):
    capture, base, pages, world = replay
    url, title, count = pages["wechat"]
    text, pictures, fetched = replayed(capture, base, url)
    assert title in text
    assert all(loaded and width > 0 for _, loaded, width in pictures), pictures
    assert sum("mmbiz.qpic.cn" in src for src, _, _ in pictures) == count
    assert all(u.startswith(("http://127.0.0.1:", "data:")) for u in fetched)  # all from pywb


def test_pywb_replays_the_weibo_post_page_with_every_picture(replay):
    capture, base, pages, world = replay
    url, post_id, count = pages["weibo"]
    text, pictures, fetched = replayed(capture, base, url)
    shown = weibo_desktop.plain_text(full_mblog(world.post(post_id))["text"]).split("\n")[0][:12]
    assert shown.strip() and shown in text
    assert all(loaded and width > 0 for _, loaded, width in pictures), pictures
    assert sum("sinaimg.cn" in src for src, _, _ in pictures) >= count
    assert all(u.startswith(("http://127.0.0.1:", "data:")) for u in fetched)


def test_a_page_never_captured_is_not_replayed(replay):
    """The replay shows only what is in the archive: the emulator is gone, pywb says not found."""
    capture, base, pages, world = replay
    page = capture.pool.context(None) if capture.pool else None
    assert page is not None
    try:
        tab = page.new_page()
        tab.goto(f"{base}mp_/https://mp.weixin.qq.com/s?__biz=none&mid=1&idx=1&sn=x")
        text = tab.inner_text("body")
    finally:
        page.close()
    assert "Not Found" in text
