"""The web interface in a real browser: headless Chromium (Debian's) driven by Playwright,
against `weidang web` serving an archive made by real harvests of the emulator.

One archive, one server and one browser for the module (each test opens its own context, so
cookies never leak between tests).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import web_archive
from web_archive import EDITED_TEXT, FORMULA_TEXT, PASSWORD

from weidang.home import Home
from weidang.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.default_language]

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    yield from web_archive.build(tmp_path_factory)


@pytest.fixture(scope="module")
def server(web):
    yield from web_archive.serve(web)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    # A Chinese archivist's browser: zh-CN first.
    context = browser.new_context(locale="zh-CN", base_url=server.url)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page, name: str, then: str = "/search") -> None:
    page.goto(then)
    assert "/login" in page.url  # every page asks who you are first
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()


def loaded_pictures(page) -> tuple[int, int]:
    """(pictures on the page, pictures the browser decoded), once each has loaded or failed."""
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    return page.evaluate("() => [document.images.length, "
                         "[...document.images].filter(i => i.naturalWidth > 0).length]")


def test_log_in_and_search_in_chinese_shows_highlighted_hits(page):
    log_in(page, "reader", "/search?q=疫情")
    assert page.url.endswith("/search?q=%E7%96%AB%E6%83%85")  # back where the shared link pointed
    marks = page.locator("ol.hits mark").all_inner_texts()
    assert marks and set(marks) == {"疫情"}
    assert "个帖文版本符合" in page.inner_text("p.total")
    page.fill("input[name=q]", "档案")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    assert "q=%E6%A1%A3%E6%A1%88" in page.url  # a plain address to share
    marks = page.locator("ol.hits mark").all_inner_texts()
    assert marks and set(marks) == {"档案"}
    page.select_option("select[name=status]", "deleted")
    page.click("form.search button[type=submit]")
    page.wait_for_load_state()
    statuses = page.locator("ol.hits .status").all_inner_texts()
    assert statuses and set(statuses) == {"已删除"}


def test_a_post_shows_its_pictures_from_the_archive_its_versions_and_its_evidence(page, web):
    log_in(page, "reader", f"/posts/{web.with_pictures}")
    shown, decoded = loaded_pictures(page)
    assert shown > 0 and decoded == shown
    sources = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.getAttribute('src'))")
    assert all(s.startswith(f"/posts/{web.with_pictures}/v") for s in sources)  # never the platform
    page.goto(f"/posts/{web.edited}")
    assert page.locator("section.version").count() == 2
    assert page.locator("section#v2 .diff ins").count() > 0
    # What the diff shows without its deletions is the new text; without its insertions, the old.
    new, old = (page.evaluate(f"""() => {{
        const p = document.querySelector('section#v2 .diff-text').cloneNode(true);
        p.querySelectorAll('{drop}').forEach(e => e.remove());
        return p.textContent; }}""") for drop in ("del", "ins"))
    assert new == EDITED_TEXT and old.strip() and old != new
    assert page.locator("section#v1 .diff").count() == 0
    assert "WARC" in (page.text_content("section#v2 .citation pre") or "")  # folded: not inner_text
    page.goto(f"/posts/{web.deleted}")
    status = page.inner_text("dd.status")
    assert "已删除" in status and "发现于" in status and "urn:uuid:" in status


def test_a_researcher_is_refused_archivist_pages_by_link_and_by_address(page, browser, server):
    log_in(page, "reader")
    assert page.locator("header nav a[href='/accounts']").count() == 0
    for address in ("/accounts", "/accounts/status", "/accounts/logins", "/admin/users"):
        refused = page.goto(address)
        assert refused is not None and refused.status == 403, address
        assert "无权访问" in page.inner_text("main")
    keeper = browser.new_context(locale="zh-CN", base_url=server.url).new_page()
    try:
        log_in(keeper, "keeper")
        keeper.click("header nav a[href='/accounts']")
        keeper.wait_for_load_state()
        assert "weibo:7000000001" in keeper.inner_text("table.accounts")
        keeper.click("a[href='/accounts/status']")
        keeper.wait_for_load_state()
        assert "weibo:7000000001" in keeper.inner_text("table.accounts")
    finally:
        keeper.context.close()


def test_an_archivist_adds_an_account_and_a_bad_import_changes_nothing(page, tmp_path):
    log_in(page, "keeper", "/accounts")
    page.fill("form.add-account input[name=account]", "https://weibo.com/u/1669879400")
    page.fill("form.add-account input[name=name]", "国家档案局")
    page.fill("form.add-account input[name=schedule]", "每6小时")
    page.click("form.add-account button[type=submit]")
    page.wait_for_load_state()
    assert "已添加 weibo:1669879400；采集计划：每 6h" in page.inner_text("main")
    assert "国家档案局" in page.inner_text("table.accounts")
    listing = tmp_path / "名单.csv"
    listing.write_text("账号,名称,计划\nweibo:2000000001,甲,每天\nweibo:abc,乙,每天\n", encoding="utf-8-sig")
    page.set_input_files("form.import input[type=file]", str(listing))
    page.click("form.import button[type=submit]")
    page.wait_for_load_state()
    shown = page.inner_text("main")
    assert "导入被拒绝" in shown and "名单.csv 未导入，没有任何改动" in shown
    assert "第 3 行：'abc' 不是有效的 weibo 账号" in shown
    page.goto("/accounts")
    assert "weibo:2000000001" not in page.inner_text("table.accounts")


def test_the_core_pages_work_with_javascript_off(browser, server, web):
    context = browser.new_context(locale="zh-CN", base_url=server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "reader", "/search")
        page.fill("input[name=q]", "疫情通报已更新")  # only the edited post says this
        page.click("form.search button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("ol.hits mark").count() > 0
        page.click(f"ol.hits a.title[href^='/posts/{web.edited}']")
        page.wait_for_load_state()
        assert page.url.startswith(f"{server.url}/posts/{web.edited}")
        assert page.locator("section.version").count() == 2
        page.click("header form button[type=submit]")  # log out: a form, no script
        page.wait_for_load_state()
        assert "/login" in page.url and "你已退出登录" in page.inner_text("main")
    finally:
        context.close()


def test_english_on_request_and_kept_for_the_next_pages(page, web):
    log_in(page, "reader", "/search?q=档案&lang=en")
    assert page.inner_text("h1") == "Search the archive"
    assert page.get_attribute("html", "lang") == "en"
    page.goto(f"/posts/{web.edited}")
    assert "Version 2" in page.inner_text("section#v2 h2")
    assert "China time (UTC+08:00)" in page.inner_text("footer")
    page.click("a.lang")  # back to Chinese
    page.wait_for_load_state()
    assert "第 2 版" in page.inner_text("section#v2 h2")


def test_hostile_html_in_a_captured_post_never_runs(page, web):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, "reader", f"/posts/{web.hostile}")
    body = page.locator("section#v2 .body")
    assert "档案安全提示" in body.inner_text()
    assert page.evaluate("() => document.scripts.length") == 0
    assert page.locator("[onerror], [onload], [onclick]").count() == 0
    assert page.evaluate("() => [...document.links].filter(a => "
                         "a.href.startsWith('javascript:')).length") == 0
    body.get_by_text("点此查看").click()
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    # The policy is a second wall: script put into the page anyway is refused by the browser.
    page.evaluate("""() => {
        window.__violations = 0;
        document.addEventListener('securitypolicyviolation', () => window.__violations++);
        const s = document.createElement('script');
        s.textContent = 'window.__pwned = "inserted script"';
        document.body.append(s);
        const i = document.createElement('img');
        i.setAttribute('onerror', 'window.__pwned = "inserted onerror"');
        i.src = '/no-such-picture';
        document.body.append(i);
    }""")
    page.wait_for_function("() => window.__violations >= 2")
    assert page.evaluate("() => window.__pwned") is None


def test_a_form_sent_without_its_token_is_refused(page, server):
    log_in(page, "boss")
    refused = page.request.post(server.url + "/admin/users",
                                form={"action": "add", "name": "mallory", "role": "admin",
                                      "password": PASSWORD})
    assert refused.status == 400
    page.goto("/admin/users")
    assert "mallory" not in page.inner_text("table.users")


@pytest.fixture(scope="module")
def client(web):
    """The same archive in process (Flask's test client), logged in as a researcher."""
    app = create_app(Home(web.home), Home(web.home).settings(), environ={})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": "reader", "password": PASSWORD, "csrf_token": token})
    return client


def hits_of(html: str) -> list[str]:
    return re.findall(r'<a class="title" href="/posts/([^"#]+)', html)


def test_paging_and_filters(client, web):
    first = client.get("/search").text  # no words: every version, newest first
    total = int(re.search(r"共 (\d+) 个", first).group(1))
    assert total > 20 and len(hits_of(first)) == 20
    assert 'href="/search?page=2"' in first
    second = client.get("/search?page=2").text
    assert len(hits_of(second)) == total - 20 and not set(hits_of(second)) & set(hits_of(first))
    wechat = hits_of(client.get("/search?account=wechat:MzkwMDAwMDAwMQ%3D%3D").text)
    assert wechat and all(h.startswith("wechat:") for h in wechat)
    deleted = hits_of(client.get("/search?status=deleted").text)
    assert web.deleted in deleted and all(not h.startswith("weibo:") or h == web.deleted
                                          for h in deleted)
    assert hits_of(client.get("/search?q=疫情&until=2000-01-01").text) == []


def test_exports_have_chinese_headers_the_full_text_and_no_live_formula(client, web):
    answer = client.get("/search/export.csv?q=疫情")
    assert answer.status_code == 200 and answer.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["平台", "账号标识", "账号名称"] and header[-1] == "全文"
    assert len(body) == int(re.search(r"共 (\d+) 个", client.get("/search?q=疫情").text).group(1))
    texts = {(row[header.index("帖文标识")], row[header.index("版本")]): row[-1] for row in body}
    assert texts[(web.edited.split(":")[1], "2")] == EDITED_TEXT  # the whole text, not a snippet
    # Whole, and quoted so that Excel and WPS show it as text rather than run it.
    assert texts[(web.formula.split(":")[1], "2")] == "'" + FORMULA_TEXT
    xlsx = client.get("/search/export.xlsx?q=疫情&platform=weibo")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == ["平台", "账号标识"]
