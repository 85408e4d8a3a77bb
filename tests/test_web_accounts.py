"""The archivists' accounts pages in process (Flask's test client): adding by address with a
schedule in Chinese, an import with bad rows that changes nothing and names each row in Chinese,
pausing, storing a login (0600, never shown or logged), who may do what, CSRF on every form."""

from __future__ import annotations

import io
import logging
import re
import stat

import pytest
from openpyxl import Workbook

from catalog.accounts import AccountRegistry
from catalog.open_access import current_marks
from catalog.runs import RunLog
from catalog.users import add_user
from weidang.home import Home
from weidang.web import create_app

PASSWORD = "correct horse battery"
SECRET = "SUB=_2AkMRealLookingSessionValue0123456789abcdef"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("web-accounts") / "home")
    flask_app = create_app(home, home.settings(), environ={})
    with flask_app.config["DB"].write() as conn:
        for name, role in (("reader", "researcher"), ("keeper", "archivist"), ("boss", "admin")):
            add_user(conn, name, role, PASSWORD, "test")
    return flask_app


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def client_of(app, name: str):
    client = app.test_client()
    token = token_of(client.get("/login").text)
    assert client.post("/login", data={"name": name, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    client.token = token_of(client.get("/search").text)
    return client


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+">([^<]*)</p>', html)


def registry(app) -> AccountRegistry:
    return AccountRegistry(app.config["DB"], actor="test")


def test_an_archivist_adds_an_account_by_its_address_with_a_schedule_in_chinese(app):
    keeper = client_of(app, "keeper")
    done = keeper.post("/accounts/add", data={
        "csrf_token": keeper.token, "account": "https://m.weibo.cn/u/1669879400?luicode=1",
        "name": "国家档案局", "schedule": "每周一 06:30", "credentials": "gov_weibo_login"},
        follow_redirects=True)
    account = registry(app).get("weibo:1669879400")
    assert account.cron == "30 6 * * 1" and account.name == "国家档案局"
    shown = flashes(done.text)
    assert any("已添加 weibo:1669879400" in f for f in shown), shown
    assert any("gov_weibo_login" in f and "登录" in f for f in shown), shown  # not stored yet
    event = registry(app).events("weibo:1669879400")[-1]
    assert event.actor == "keeper" and event.via == "web"
    before = len(registry(app).list())
    refused = keeper.post("/accounts/add", data={"csrf_token": keeper.token,
                                                 "account": "https://mp.weixin.qq.com/s/AbCdEf"},
                          follow_redirects=True)
    assert any(f.startswith("未添加：") and "没有说明文章来自哪个公众号" in f
               for f in flashes(refused.text)), flashes(refused.text)
    assert len(registry(app).list()) == before


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_import_with_a_bad_row_names_it_in_chinese_and_imports_nothing(app, kind):
    keeper = client_of(app, "keeper")
    before = [a.key for a in registry(app).list()], len(registry(app).events())
    rows = [["账号", "名称", "计划"], ["weibo:2000000001", "甲", "每天"],
            ["weibo:abc", "乙", "每天"], ["weibo:2000000003", "丙", "每星期"]]
    data = ("\n".join(",".join(r) for r in rows).encode("utf-8-sig") if kind == "csv" else _xlsx(rows))
    answer = keeper.post("/accounts/import", data={"csrf_token": keeper.token,
                                                   "file": (io.BytesIO(data), f"名单.{kind}")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422
    problems = re.findall(r"<li>([^<]*)</li>", answer.text)
    assert len(problems) == 2
    assert problems[0].startswith("第 3 行") and "不是有效的 weibo 账号" in problems[0]
    assert problems[1].startswith("第 4 行") and "每星期" in problems[1]
    assert "未导入" in answer.text
    assert ([a.key for a in registry(app).list()], len(registry(app).events())) == before


def test_a_good_import_adds_every_row_and_warns_of_logins_it_does_not_know(app):
    keeper = client_of(app, "keeper")
    data = "账号,名称,凭据,计划\nhttps://weibo.com/u/3000000001,甲,unknown_login,每6小时\n"
    done = keeper.post("/accounts/import", data={"csrf_token": keeper.token,
                                                 "file": (io.BytesIO(data.encode()), "a.csv")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert registry(app).get("weibo:3000000001").interval_seconds == 6 * 3600
    shown = flashes(done.text)
    assert any("已导入 a.csv" in f for f in shown) and any("unknown_login" in f for f in shown)


def test_pause_and_resume_an_account(app):
    registry(app).add("weibo:4000000001")
    keeper = client_of(app, "keeper")
    keeper.post("/accounts/change", data={"csrf_token": keeper.token, "account": "weibo:4000000001",
                                          "action": "pause"})
    assert [p.scope for p in RunLog(app.config["DB"]).active_pauses()] == ["weibo:4000000001"]
    assert "恢复" in keeper.get("/accounts").text
    keeper.post("/accounts/change", data={"csrf_token": keeper.token, "account": "weibo:4000000001",
                                          "action": "resume"})
    assert RunLog(app.config["DB"]).active_pauses() == []


def test_a_stored_login_is_private_and_never_shown_or_logged(app, caplog):
    keeper = client_of(app, "keeper")
    with caplog.at_level(logging.DEBUG):
        done = keeper.post("/accounts/logins", data={"csrf_token": keeper.token, "name": "gov_weibo_login",
                                                     "cookie": SECRET}, follow_redirects=True)
    path = app.config["HOME"].root / "credentials.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET in path.read_text()
    assert SECRET not in done.text and "gov_weibo_login" in done.text
    assert SECRET not in keeper.get("/accounts/logins").text
    assert SECRET not in caplog.text
    assert SECRET.encode() not in (app.config["HOME"].root / "catalog.sqlite").read_bytes()


@pytest.mark.parametrize("method, url", [
    ("get", "/accounts"), ("get", "/accounts/status"), ("get", "/accounts/logins"),
    ("post", "/accounts/add"), ("post", "/accounts/import"), ("post", "/accounts/change"),
    ("post", "/accounts/logins"), ("post", "/admin/open"),
])
def test_a_researcher_is_refused_at_every_accounts_page_and_address(app, method, url):
    reader = client_of(app, "reader")
    data = {"csrf_token": reader.token, "account": "weibo:5000000001", "name": "x", "cookie": SECRET,
            "kind": "account", "subject": "weibo:5000000001", "open": "1"}
    answer = getattr(reader, method)(url, data=data if method == "post" else None)
    assert answer.status_code == 403
    assert registry(app).find("weibo:5000000001") is None


def test_only_an_administrator_opens_an_account_to_other_archives(app):
    registry(app).add("weibo:6000000001")
    keeper = client_of(app, "keeper")
    form = {"kind": "account", "subject": "weibo:6000000001", "open": "1", "next": "/accounts"}
    assert keeper.post("/admin/open", data={**form, "csrf_token": keeper.token}).status_code == 403
    boss = client_of(app, "boss")
    assert boss.post("/admin/open", data={**form, "csrf_token": boss.token}).status_code == 302
    with app.config["DB"].read() as conn:
        [mark] = [m for m in current_marks(conn) if m.subject == "weibo:6000000001"]
    assert mark.open and mark.actor == "boss"


@pytest.mark.parametrize("url", ["/accounts/add", "/accounts/import", "/accounts/change",
                                 "/accounts/logins", "/admin/open"])
def test_every_accounts_form_needs_the_sessions_token(app, url):
    boss = client_of(app, "boss")
    answer = boss.post(url, data={"account": "weibo:7000000009", "name": "x", "cookie": "y",
                                  "kind": "account", "subject": "weibo:7000000009", "open": "1"})
    assert answer.status_code == 400
    assert registry(app).find("weibo:7000000009") is None
