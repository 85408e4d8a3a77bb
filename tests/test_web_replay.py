"""Replay on the post page: `weidang web` starts pywb (its own virtual environment) and shows
an archived WeChat article through the replay origin, a second port that only logged-in readers
get through. The article was harvested with browser capture from the emulator, which is stopped
before the replay: whatever the frame shows came out of the WARC files.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawler_helpers import WEIDANG, Archive, start_emulator, wechat_account
from emulator_client import ROOT
from playwright import sync_api as playwright_api
from reader_venvs import PYWB, reader_venv
from web_archive import PASSWORD, _wait_for

from catalog.post_record import VersionBrowser, browser_links, post_record
from crawler.browser import BrowserUnavailable, find_chromium
from crawler.browser.pool import _descendants
from weidang.home import Home
from weidang.indexing import collections_of
from weidang.store import catalog_db

try:
    CHROMIUM = find_chromium()
except BrowserUnavailable as exc:
    CHROMIUM = ""
    pytestmark = pytest.mark.skip(reason=str(exc))

BIZ = "MzkwMDAwMDAwMQ=="
PICTURES_JS = """() => Array.from(document.images).filter((i) => i.dataset.src)
  .map((i) => [i.currentSrc || i.src, i.complete, i.naturalWidth])"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """A home that harvested one WeChat account with browser capture; the emulator then stopped."""
    site = start_emulator(tmp_path_factory.mktemp("replay-emulator"), accounts=1, posts=3)
    try:
        archive = Archive(tmp_path_factory.mktemp("replay-home") / "home", site)
        archive.settings += ["CRAWLER_BROWSER_ENABLED=true", f"CRAWLER_PROXY_CA={site.ca_path}"]
        account = wechat_account(site, BIZ)
        archive.add(f"wechat:{BIZ}", source="backend",
                    credentials={"cookie": account["cookie"], "token": account["token"]})
        archive.weidang("harvest", f"wechat:{BIZ}", check=True)
        subprocess.run([*WEIDANG, "users", "add", "reader", "--role", "researcher", "--password-stdin"],
                       input=PASSWORD + "\n", env=archive.env, capture_output=True, text=True,
                       timeout=60, cwd=ROOT, check=True)
    finally:
        site.stop()
    yield archive


def two_ports() -> tuple[int, int]:
    """Two free ports, surely different (both held while the second is chosen)."""
    with socket.socket() as one, socket.socket() as two:
        one.bind(("127.0.0.1", 0))
        two.bind(("127.0.0.1", 0))
        return int(one.getsockname()[1]), int(two.getsockname()[1])


def served(archive: Archive) -> dict[str, str]:
    """The server's environment: its language comes from the browser, not from this machine."""
    return {k: v for k, v in archive.env.items() if k not in ("WEIDANG_LANG", "LANG")}


@pytest.fixture(scope="module")
def server(archive: Archive) -> Iterator[tuple[str, str]]:
    """(pages, replay origin) of `weidang web` with pywb from the tests' own pywb environment."""
    wayback = reader_venv(PYWB) / "wayback"
    port, replay_port = two_ports()
    env = dict(served(archive), WEIDANG_WEB_PYWB=str(wayback))
    process = subprocess.Popen([*WEIDANG, "web", "--port", str(port), "--replay-port", str(replay_port)],
                               env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_for(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{replay_port}"
    finally:
        pywb = _descendants(process.pid)
        process.terminate()  # as systemd stops it: no clean-up code of its own runs
        process.wait(timeout=30)
    assert pywb, "weidang web started pywb before serving"
    # pywb does not outlive the server (a bound on waiting, not a timing)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pywb) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pywb)



@pytest.fixture(scope="module")
def article(archive: Archive) -> tuple[str, str, int]:
    """(post key, title, pictures) of an article whose page the harvest rendered with pictures."""
    rows = archive.rows("SELECT v.post_id, v.title, COUNT(m.record_id) FROM versions v "
                        "JOIN media m ON m.platform = v.platform AND m.post_id = v.post_id "
                        "WHERE v.platform = 'wechat' AND m.kind = 'picture' AND m.record_id IS NOT NULL "
                        "GROUP BY v.post_id, v.title ORDER BY 3 DESC LIMIT 1")
    assert rows, "the emulator's articles should have pictures"
    return f"wechat:{rows[0][0]}", rows[0][1], int(rows[0][2])


@pytest.fixture
def page(server: tuple[str, str]) -> Iterator[playwright_api.Page]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(base_url=server[0], locale="zh-CN")
            context.set_default_timeout(60_000)
            yield context.new_page()
        finally:
            browser.close()


def log_in(page: playwright_api.Page, then: str) -> None:
    page.goto(then)
    page.fill("input[name=name]", "reader")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()


def test_the_post_page_replays_the_archived_article_with_every_picture(page, server, article):
    key, title, pictures = article
    log_in(page, f"/posts/{key}")
    replay = page.locator("iframe.replay")
    assert replay.count() == 1
    src = replay.get_attribute("src") or ""
    assert src.startswith(server[1] + "/")  # another origin than the pages
    assert "mp.weixin.qq.com/s" in src
    replay.scroll_into_view_if_needed()  # Chromium does not draw a frame from another origin out of view
    frame = replay.element_handle().content_frame()
    frame.wait_for_load_state("load")
    assert title in frame.inner_text("body")
    # scroll through the frame so the archived page's own loader asks pywb for every picture
    # (from here, step by step: a script awaiting the frame's timers would have no time bound)
    height, step = frame.evaluate("() => [document.documentElement.scrollHeight, window.innerHeight]")
    for y in range(0, height + step, step):
        frame.evaluate("(y) => window.scrollTo(0, y)", y)
        page.wait_for_timeout(100)
    frame.wait_for_function("() => Array.from(document.images).every((i) => i.complete)")
    shown = frame.evaluate(PICTURES_JS)
    assert all(loaded and width > 0 for _, loaded, width in shown), shown
    assert sum("mmbiz.qpic.cn" in src for src, _, _ in shown) == pictures
    assert all(src.startswith(server[1]) for src, _, _ in shown)  # each from the archive
    # the page allows frames from the replay origin and nothing else
    csp = page.request.get(f"/posts/{key}").headers["content-security-policy"]
    assert f"frame-src {server[1]}" in csp and "script-src" not in csp


def test_the_screenshot_and_the_pdf_come_from_the_archive(page, article):
    key, _, _ = article
    log_in(page, f"/posts/{key}")
    shot = page.request.get(page.get_attribute("a[href$='/screenshot']", "href"))
    assert shot.ok and shot.headers["content-type"] == "image/png" and shot.body()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = page.request.get(page.get_attribute("a[href$='/pdf']", "href"))
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"
    assert pdf.headers["content-disposition"].startswith("attachment")  # saved, never shown here


def test_the_post_page_finds_the_browser_capture_the_whole_record_names(archive, article):
    """The post page reads only each version's browser links; they are the full record's."""
    home = Home(archive.root)
    platform, post_id = article[0].split(":", 1)
    db = catalog_db(home, home.settings())
    try:
        with db.read() as conn:
            whole = post_record(conn, platform, post_id, collections_of(home)).versions
            links = browser_links(conn, platform, post_id, collections_of(home))
    finally:
        db.close()
    assert links == {v.version: VersionBrowser(v.collection, v.browser) for v in whole}
    assert all(v.browser and v.browser["screenshot"]["warc_file"] for v in links.values())


def test_the_replay_origin_lets_no_one_in_without_a_login(server, article):
    _, replay = server
    for path in ("/", "/collection/2026/https://mp.weixin.qq.com/s"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(replay + path, timeout=30)
        assert refused.value.code == 403
        assert "请先登录" in refused.value.read().decode()
    with pytest.raises(urllib.error.HTTPError) as posted:
        urllib.request.urlopen(urllib.request.Request(replay + "/", data=b"x", method="POST"), timeout=30)
    assert posted.value.code == 405


def test_without_pywb_the_post_page_says_so_in_a_sentence(archive, article, tmp_path):
    """A server whose WEB_PYWB names no program still shows the post, and says why no replay."""
    key, title, _ = article
    port, replay_port = two_ports()
    env = dict(served(archive), WEIDANG_WEB_PYWB=str(tmp_path / "no-pywb" / "wayback"))
    process = subprocess.Popen([*WEIDANG, "web", "--port", str(port), "--replay-port", str(replay_port)],
                               env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_for(f"http://127.0.0.1:{port}", process)
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                tab = browser.new_context(base_url=f"http://127.0.0.1:{port}", locale="zh-CN").new_page()
                log_in(tab, f"/posts/{key}")
                assert title in tab.inner_text("h1, h3")
                assert tab.locator("iframe.replay").count() == 0
                note = tab.inner_text("section.rendered p.note")
                assert "不回放" in note and "install-replay.sh" in note
            finally:
                browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_install_script_installs_the_pywb_the_tests_prove():
    script = (Path(ROOT) / "install-replay.sh").read_text(encoding="utf-8")
    assert f"'{PYWB}'" in script
