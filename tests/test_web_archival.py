"""The archival half in the web interface: the auditors' pages (verify and the 四性 audit run
from a form, the report, the event log, the seals), appraisal from a post, a search and a 专题,
and transfer packages, on an archive made by real harvests of the emulator
(tests/web_archive.py). In process (Flask's test client), then the same in headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from pathlib import Path

import pytest
import web_archive
from web_archive import PASSWORD, WEIBO

from catalog.appraisal import current_decisions
from catalog.topics import add_members, create_topic
from catalog.transfer.record import transfer_rows
from catalog.users import add_user
from weidang.home import Home
from weidang.web import audit_views, create_app
from weidang.web.security import REPORT_CSP

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.default_language]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    built = web_archive.build(tmp_path_factory)
    archive = next(built)
    run = archive.archive.weidang
    run("accounts", "codes", WEIBO, "--fonds", "0194", "--category", "XM", "--unit", "BGS", check=True)
    run("seal", "--no-timestamp", check=True)  # a seal kept in seals/, without a token
    with flask_app_of(archive).config["DB"].write() as conn:
        add_user(conn, "checker", "auditor", PASSWORD, "test")
    yield archive
    built.close()


def flask_app_of(web):
    home = Home(web.home)
    return create_app(home, home.settings(), environ={})


@pytest.fixture(scope="module")
def app(web):
    return flask_app_of(web)


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def client_of(app, name: str):
    client = app.test_client()
    token = token_of(client.get("/login").text)
    done = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 302, done.text
    return client, token_of(client.get("/search").text)


def flashes(client, answer) -> str:
    assert answer.status_code == 302, answer.text
    page = client.get(answer.headers["Location"]).text
    return " ".join(re.findall(r'<p class="flash [a-z]+">([^<]*)</p>', page))


def worked(client, answer, seconds: float = 600) -> tuple[str, str, str | None]:
    """Follows long work to its end: its page (reloading itself until then), its messages and
    the address of its result."""
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/work/"), answer.text
    deadline = time.monotonic() + seconds
    while True:
        page = client.get(answer.headers["Location"]).text
        if 'http-equiv="refresh"' not in page:
            break
        assert time.monotonic() < deadline, page
        time.sleep(0.2)
    said = " ".join(re.findall(r'<p class="flash [a-z]+">([^<]*)</p>', page))
    result = re.search(r'<a class="result" href="([^"]+)"', page)
    return page, said, result.group(1) if result else None


def decisions(app, *keys: str) -> dict[str, object]:
    pairs = [tuple(k.split(":", 1)) for k in keys]
    with app.config["DB"].read() as conn:
        return {f"{d.platform}:{d.post_id}": d for d in current_decisions(conn, pairs)}


# -- audit ----------------------------------------------------------------------------------------
AUDIT_PAGES = ("/audit", "/audit/default", "/audit/default/events")


@pytest.mark.parametrize("name", ["reader", "keeper"])
def test_researchers_and_archivists_are_refused_the_audit_pages(app, name):
    client, token = client_of(app, name)
    assert "/audit" not in client.get("/search").text  # no link to it either
    for address in AUDIT_PAGES:
        assert client.get(address).status_code == 403, address
    assert client.post("/audit/default/run", data={"csrf_token": token}).status_code == 403


def test_an_auditor_runs_verify_and_the_audit_and_reads_report_events_and_seals(app, web):
    client, token = client_of(app, "checker")
    listing = client.get("/audit").text
    assert "<code>default</code>" in listing and "校验并检测" in listing
    before = len(client.get("/audit/default/events").text)
    assert client.post("/audit/default/run", data={}).status_code == 400  # no CSRF token
    answer = client.post("/audit/default/run", data={"csrf_token": token})
    _page, said, result = worked(client, answer)
    assert "校验" in said and "四性检测" in said, said
    assert result and result.startswith("/audit/default?report=")
    page = client.get(result).text
    reports = re.findall(r'href="(/audit/default/reports/[^"]+)"', page)
    assert reports, page
    report = client.get(reports[0])
    assert report.status_code == 200 and report.headers["Content-Security-Policy"] == REPORT_CSP
    assert "四性检测" in report.text and "真实性" in report.text
    # The seal made by `weidang seal`, shown with its time-stamp status.
    assert re.search(r"seals/seal-\d{8}T\d{6}Z-event\d+\.seal", page) and "没有时间戳" in page
    # The run is in the event log: verify's fixity check, newest first.
    events = client.get("/audit/default/events").text
    assert len(events) != before and "fixity check" in events
    first = re.findall(r"<tr><td>(\d+)</td>", events)
    assert first == sorted(first, key=int, reverse=True)
    assert client.get("/audit/nosuch").status_code == 404
    assert client.get("/audit/default/reports/..%2Fweb-secret.key").status_code == 404


def test_the_event_log_is_paged(app, web, monkeypatch):
    monkeypatch.setattr(audit_views, "EVENTS_PER_PAGE", 2)  # the harvests logged a handful
    client, _token = client_of(app, "boss")  # an administrator may audit too
    count = len((web.home / "collections" / "default" / "events.jsonl").read_text().splitlines())
    assert count > 4
    pages = [client.get(f"/audit/default/events?page={n}").text for n in (1, 2, 3)]
    seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", "".join(pages))]
    assert seqs == list(range(count, count - 6, -1))
    assert "较早" in pages[0] and "较新" not in pages[0] and "较新" in pages[1]
    last = client.get("/audit/default/events?page=999").text  # past the end: the last page
    assert "较早" not in last and re.findall(r"<tr><td>(\d+)</td>", last)[-1] == "1"


def test_a_time_stamped_seal_shows_when_and_by_whom_and_a_bad_token_is_named(web, tmp_path):
    from tsa_helpers import LocalTsa

    tsa = LocalTsa(tmp_path / "tsa")
    try:
        sets = (f"WARC_STORE_SEAL_TSA_URL={tsa.url}", f"WARC_STORE_SEAL_TSA_CA_FILE={tsa.ca}")
        web.archive.weidang("--set", sets[0], "--set", sets[1], "seal", "--timestamp", check=True)
    finally:
        tsa.close()
    home = Home(web.home)
    app = create_app(home, home.settings(sets), environ={})
    client, _token = client_of(app, "checker")
    page = client.get("/audit/default").text
    assert re.search(r"weidang tests.{0,80}于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+08:00 加盖时间戳", page)
    token = next((web.home / "collections" / "default" / "seals").glob("*.tsr"))
    original = token.read_bytes()
    try:
        token.write_bytes(original[:-8] + bytes(8))
        assert "时间戳令牌未通过检验" in client.get("/audit/default").text
    finally:
        token.write_bytes(original)


# -- appraisal ------------------------------------------------------------------------------------
def appraise(client, token, fields: dict[str, str], query: str = ""):
    return client.post("/appraise" + query, data={"csrf_token": token, "back": "/appraise", **fields})


@pytest.mark.parametrize("name", ["reader", "checker"])
def test_only_archivists_and_administrators_appraise(app, web, name):
    client, token = client_of(app, name)
    assert "Record the decision" not in client.get(f"/posts/{web.edited}").text
    assert "记录鉴定决定" not in client.get(f"/posts/{web.edited}").text
    refused = appraise(client, token, {"selection": "post", "post": web.edited, "decision": "keep",
                                       "retention": "永久"})
    assert refused.status_code == 403 and not decisions(app, web.edited)


def test_an_archivist_keeps_a_post_from_its_page_and_sees_its_archival_code(app, web):
    client, token = client_of(app, "keeper")
    key = web.with_pictures
    page = client.get(f"/posts/{key}").text
    assert "记录鉴定决定" in page and "尚未鉴定" in page
    said = flashes(client, appraise(client, token, {"selection": "post", "post": key,
                                                    "decision": "keep", "retention": "定期30年"}))
    made = decisions(app, key)[key]
    assert made.reviewer == "keeper" and made.retention == "定期30年" and made.code
    assert made.code.startswith("0194-XM·") and made.code in said
    assert f'<code class="archival-code">{made.code}</code>' in client.get(f"/posts/{key}").text


def test_a_discard_without_a_reason_is_refused_in_chinese_and_nothing_is_recorded(app, web):
    client, token = client_of(app, "keeper")
    key = spare_post(web)
    said = flashes(client, appraise(client, token, {"selection": "post", "post": key,
                                                    "decision": "discard", "retention": "定期10年"}))
    assert "未鉴定" in said and "理由" in said and not decisions(app, key)
    said = flashes(client, appraise(client, token, {"selection": "post", "post": key,
                                                    "decision": "keep", "retention": "十年"}))
    assert "保管期限" in said and not decisions(app, key)
    assert appraise(client, "x" * 43, {"selection": "post", "post": key, "decision": "keep",
                                       "retention": "永久"}).status_code == 400
    said = flashes(client, appraise(client, token, {"selection": "post", "post": key,
                                                    "decision": "discard", "retention": "定期10年",
                                                    "reason": "重复转发"}))
    made = decisions(app, key)[key]
    assert made.decision == "discard" and made.reason == "重复转发" and made.code is None
    assert "不归档" in client.get(f"/posts/{key}").text
    boss, _token = client_of(app, "boss")  # the decision's event, readable in the event log
    assert "重复转发" in boss.get("/audit/default/events").text


def test_a_search_result_is_appraised_in_bulk_with_its_filters(app, web):
    client, token = client_of(app, "keeper")
    page = client.get("/search?q=疫情&platform=weibo").text
    assert "鉴定本次检索到的全部帖文" in page
    action = re.search(r'<form method="post" action="(/appraise\?[^"]+)"', page)
    assert action, page
    answer = client.post(action.group(1).replace("&amp;", "&"),
                         data={"csrf_token": token, "back": "/search?q=疫情", "selection": "search",
                               "decision": "keep", "retention": "永久"})
    said = flashes(client, answer)
    made = decisions(app, web.edited, web.formula)  # both carry 疫情
    assert set(made) == {web.edited, web.formula} and all(d.code for d in made.values()), said
    assert all(d.reviewer == "keeper" and d.retention == "永久" for d in made.values())
    assert not any(k.startswith("wechat:") for k in decisions(app, *_all_posts(web)))


def spare_post(web) -> str:
    """A Weibo post none of the other tests appraise by name."""
    named = {web.edited, web.deleted, web.hostile, web.formula, web.with_pictures}
    return sorted(set(_all_posts(web)) - named - {k for k in _all_posts(web) if k.startswith("wechat:")})[0]


def _all_posts(web) -> list[str]:
    return [f"{p}:{i}" for p, i in web.archive.rows("SELECT platform, post_id FROM posts")]


def test_a_topic_is_appraised_in_bulk(app, web):
    with app.config["DB"].write() as conn:
        create_topic(conn, "防汛专题", None, "汛期通报", "keeper", dt.datetime.now(dt.UTC))
        add_members(conn, "防汛专题", [tuple(web.hostile.split(":", 1))], "keeper",
                    dt.datetime.now(dt.UTC))
    client, token = client_of(app, "boss")
    assert "防汛专题" in client.get("/appraise").text
    said = flashes(client, appraise(client, token, {"selection": "topic", "topic": "防汛专题",
                                                    "decision": "keep", "retention": "定期10年"}))
    made = decisions(app, web.hostile)[web.hostile]
    assert made.reviewer == "boss" and made.code and made.code in said


# -- transfer -------------------------------------------------------------------------------------
def test_researchers_and_auditors_are_refused_transfers(app):
    for name in ("reader", "checker"):
        client, token = client_of(app, name)
        assert client.get("/transfers").status_code == 403
        assert client.post("/transfers", data={"csrf_token": token, "account": WEIBO}).status_code == 403


def test_an_archivist_creates_a_package_by_account_and_year_and_downloads_its_form(app, web):
    client, token = client_of(app, "keeper")
    appraise(client, token, {"selection": "post", "post": web.edited, "decision": "keep",
                             "retention": "永久"})
    said = flashes(client, client.post("/transfers", data={"csrf_token": token}))
    assert "账号" in said and "专题" in said  # nothing chosen: told what to choose
    said = flashes(client, client.post("/transfers", data={"csrf_token": token, "year": "二〇二四"}))
    assert "年份" in said
    published = web.archive.rows("SELECT published_at FROM posts WHERE platform || ':' || post_id = ?",
                                 web.edited)[0][0]
    year = dt.datetime.fromisoformat(published).astimezone(dt.timezone(dt.timedelta(hours=8))).year
    answer = client.post("/transfers", data={"csrf_token": token, "account": WEIBO, "year": str(year)})
    _page, said, result = worked(client, answer)
    with app.config["DB"].read() as conn:
        rows = transfer_rows(conn)
    assert len(rows) == 1 and rows[0].actor == "keeper", said
    row = rows[0]
    assert Path(row.folder).parent == web.home / "transfers" and Path(row.folder).name == row.transfer_id
    assert web.edited.split(":", 1)[1] in {p[1] for p in row.posts}
    assert result == f"/transfers/{row.transfer_id}" and row.transfer_id in said
    page = client.get(result).text
    assert "全部通过" in page and row.payload_sha256 in page
    assert row.transfer_id in client.get("/transfers").text
    html = client.get(f"/transfers/{row.transfer_id}/form.html")
    assert html.status_code == 200 and "移交登记表" in html.text
    assert html.headers["Content-Security-Policy"] == REPORT_CSP
    pdf = client.get(f"/transfers/{row.transfer_id}/form.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # A package changed after it was written: its page says so.
    payload = next(p for p in sorted((Path(row.folder) / "data").rglob("*")) if p.is_file())
    payload.write_bytes(payload.read_bytes() + b" ")
    assert "发现问题" in client.get(f"/transfers/{row.transfer_id}").text
    assert client.get("/transfers/weidang-transfer-nosuch").status_code == 404


def test_long_work_answers_at_once_and_its_page_follows_it_to_the_end(app, web):
    """The audit is done beside the server: the page answers before it starts (the one work
    thread is held busy here), shows it waiting, is the asker's only, then shows the outcome."""
    held, release = threading.Event(), threading.Event()

    def hold(_work):
        held.set()
        release.wait(600)

    app.config["WORK"].start("held", "nobody", "zh_CN", hold)
    assert held.wait(60)
    client, token = client_of(app, "checker")
    try:
        answer = client.post("/audit/default/run", data={"csrf_token": token})
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/work/")
        waiting = client.get(answer.headers["Location"]).text
        assert 'http-equiv="refresh"' in waiting and "等待" in waiting, waiting
        other, _token = client_of(app, "keeper")
        assert other.get(answer.headers["Location"]).status_code == 404  # not theirs
        assert app.test_client().get(answer.headers["Location"]).status_code == 403  # not logged in
    finally:
        release.set()
    page, said, result = worked(client, answer)
    assert "四性检测" in said and "完成于" in page and result
    assert client_of(app, "boss")[0].get(answer.headers["Location"]).status_code == 200  # an admin


def test_a_transfer_that_cannot_be_made_says_why_on_its_page(app):
    client, token = client_of(app, "keeper")
    answer = client.post("/transfers", data={"csrf_token": token, "account": WEIBO, "year": "1999"})
    page, said, result = worked(client, answer)
    assert "未生成" in said and "失败于" in page and result is None, page


# -- in a browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(web):
    yield from web_archive.serve(web)


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def browser_page(browser, server, name: str, then: str):
    context = browser.new_context(locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.goto(then)
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    return context, page


def test_in_a_browser_an_archivist_appraises_and_an_auditor_audits(browser, server, web):
    context, page = browser_page(browser, server, "keeper", f"/posts/{web.formula}")
    try:
        if not page.is_visible("form.appraise"):  # folded once the post has a decision
            page.click("details.appraise summary")
        page.check("form.appraise input[value=keep]")
        page.select_option("form.appraise select[name=retention]", "定期30年")
        page.click("form.appraise button[type=submit]")
        page.wait_for_load_state()
        assert re.fullmatch(r"0194-XM·\S+", page.inner_text("dd.appraisal code.archival-code"))
        assert "定期30年" in page.inner_text("dd.appraisal")
        assert page.locator("header nav a[href='/audit']").count() == 0
    finally:
        context.close()
    context, page = browser_page(browser, server, "checker", "/audit")
    try:
        page.click("table.audit button[type=submit]")
        # the work's page reloads itself (no script) until the audit is done, then links the result
        page.wait_for_selector("a.result", timeout=600_000)
        assert "四性检测" in page.inner_text("main")
        page.click("a.result")
        page.wait_for_load_state()
        page.click("ul.reports a")
        page.wait_for_load_state()
        assert "四性" in page.inner_text("body")
    finally:
        context.close()


def test_the_search_page_answers_from_the_tantivy_index_as_from_the_default(web):
    web.archive.weidang("--set", "CATALOG_SEARCH_BACKEND=tantivy", "index", "rebuild", check=True)
    home = Home(web.home)
    tantivy = create_app(home, home.settings(["CATALOG_SEARCH_BACKEND=tantivy"]), environ={})
    pages = {}
    for backend, flask_app in (("sqlite", flask_app_of(web)), ("tantivy", tantivy)):
        client, _ = client_of(flask_app, "reader")
        page = client.get("/search?q=疫情").text
        pages[backend] = (sorted(re.findall(r'class="title" href="([^"]+)"', page)),
                          "«疫情»" in page or "<mark>疫情</mark>" in page)
    # every hit fits on the first page, so both pages list the same posts whatever the ranking
    assert pages["tantivy"] == pages["sqlite"] and 0 < len(pages["sqlite"][0]) < 20
    assert pages["sqlite"][1]
