"""The web interface in process (Flask's test client): logins, roles, CSRF, sessions, languages,
security headers. No harvest needed: a home with users and an empty catalog."""

from __future__ import annotations

import re

import pytest

from catalog.users import add_user, set_disabled, set_password
from weidang.home import Home
from weidang.web import create_app
from weidang.web.security import CSP

pytestmark = pytest.mark.default_language  # the web chooses by request; the server default is Chinese

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One home for the module: argon2 is slow by design, so its users are made once; tests
    that change a user make their own."""
    home = Home(tmp_path_factory.mktemp("web") / "home")
    flask_app = create_app(home, home.settings(), environ={})
    with flask_app.config["DB"].write() as conn:
        for name, role in (("reader", "researcher"), ("keeper", "archivist"), ("boss", "admin")):
            add_user(conn, name, role, PASSWORD, "test")
    return flask_app


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def log_in(client, name: str, password: str = PASSWORD):
    token = token_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def test_every_page_asks_for_a_login_first_and_comes_back_after_it(app):
    client = app.test_client()
    answer = client.get("/search?q=疫情")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")
    token = token_of(client.get(answer.headers["Location"]).text)
    done = client.post("/login", data={"name": "reader", "password": PASSWORD, "csrf_token": token,
                                       "next": "/search?q=疫情"})
    assert done.status_code == 302 and done.headers["Location"] == "/search?q=%E7%96%AB%E6%83%85"
    assert client.get("/search?q=疫情").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_a_login_never_sends_the_browser_to_another_site(app, target):
    client = app.test_client()
    token = token_of(client.get("/login").text)
    done = client.post("/login", data={"name": "reader", "password": PASSWORD, "csrf_token": token,
                                       "next": target})
    assert done.headers["Location"] == "/search"


def test_a_wrong_password_an_unknown_user_and_a_disabled_user_get_the_same_answer(app):
    with app.config["DB"].write() as conn:
        add_user(conn, "gone", "researcher", PASSWORD, "test")
        set_disabled(conn, "gone", True, "test")
    answers = [log_in(app.test_client(), name, password) for name, password in
               (("reader", "wrong password!"), ("nobody", PASSWORD), ("gone", PASSWORD))]
    assert {a.status_code for a in answers} == {401}
    assert len({re.sub(r'value="[^"]+"', "", a.text) for a in answers}) == 1
    assert "用户名或密码错误" in answers[0].text


def test_a_form_without_the_sessions_token_is_refused(app):
    client = app.test_client()
    client.get("/login")  # a session with a token exists; the form just does not carry it
    refused = client.post("/login", data={"name": "reader", "password": PASSWORD})
    assert refused.status_code == 400 and "安全令牌" in refused.text
    wrong = client.post("/login", data={"name": "reader", "password": PASSWORD, "csrf_token": "x" * 43})
    assert wrong.status_code == 400
    assert log_in(client, "boss").status_code == 302
    forged = client.post("/admin/users", data={"action": "add", "name": "mallory", "role": "admin",
                                               "password": PASSWORD})
    assert forged.status_code == 400
    page = client.get("/admin/users").text
    assert "mallory" not in page


def test_roles_researcher_archivist_admin(app):
    reader, keeper, boss = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((reader, "reader"), (keeper, "keeper"), (boss, "boss")):
        log_in(client, name)
    assert reader.get("/accounts/status").status_code == 403
    assert reader.get("/admin/users").status_code == 403
    assert keeper.get("/accounts/status").status_code == 200
    assert keeper.get("/admin/users").status_code == 403
    assert boss.get("/admin/users").status_code == 200
    assert "/accounts/status" not in reader.get("/search").text  # no link to what is refused


def test_disabling_a_user_or_changing_their_password_ends_their_sessions(app):
    with app.config["DB"].write() as conn:
        add_user(conn, "leaving", "researcher", PASSWORD, "test")
        add_user(conn, "forgetful", "researcher", PASSWORD, "test")
    leaving, forgetful = app.test_client(), app.test_client()
    log_in(leaving, "leaving")
    log_in(forgetful, "forgetful")
    assert leaving.get("/search").status_code == forgetful.get("/search").status_code == 200
    with app.config["DB"].write() as conn:
        set_disabled(conn, "leaving", True, "test")
        set_password(conn, "forgetful", "another good password", "test")
    assert leaving.get("/search").status_code == 302
    assert forgetful.get("/search").status_code == 302


def test_an_admin_adds_and_disables_users_in_the_page_and_each_change_is_recorded(app):
    boss = app.test_client()
    log_in(boss, "boss")
    token = token_of(boss.get("/admin/users").text)
    boss.post("/admin/users", data={"action": "add", "name": "newbie", "role": "auditor",
                                    "password": PASSWORD, "csrf_token": token})
    boss.post("/admin/users", data={"action": "disable", "name": "newbie", "csrf_token": token})
    page = boss.get("/admin/users").text
    assert "newbie" in page and "审计员" in page and "已停用" in page
    assert re.search(r"<code>boss</code></td><td><code>newbie</code></td><td>disabled", page)
    refused = boss.post("/admin/users", data={"action": "disable", "name": "boss", "csrf_token": token},
                        follow_redirects=True)
    assert "不能停用自己" in refused.text


def test_session_cookie_is_httponly_and_samesite_and_pages_carry_a_strict_policy(app):
    client = app.test_client()
    answer = client.get("/login")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP  # no script can run at all
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in answer.text


def test_chinese_by_default_english_on_request_and_the_choice_is_kept(app):
    client = app.test_client()
    log_in(client, "reader")
    assert "检索档案" in client.get("/search").text
    english = client.get("/search?lang=en")
    assert "Search the archive" in english.text and 'lang="en"' in english.text
    assert "weidang_lang=en" in english.headers["Set-Cookie"]
    assert "Search the archive" in client.get("/search").text  # the cookie keeps it
    assert "检索档案" in client.get("/search?lang=zh_CN").text


def test_the_browsers_language_and_the_servers_default(app):
    home = app.config["HOME"]
    plain = create_app(home, home.settings(), environ={"LANG": "C.UTF-8"}).test_client()
    assert "登录" in plain.get("/login").text
    assert "Log in" in plain.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "登录" in plain.get("/login", headers={"Accept-Language": "zh-CN,en;q=0.5"}).text
    server_en = create_app(home, home.settings(), environ={"LANG": "en_GB.UTF-8"}).test_client()
    assert "Log in" in server_en.get("/login").text
    forced = create_app(home, home.settings(), environ={"WEIDANG_LANG": "zh_CN"}).test_client()
    assert "登录" in forced.get("/login", headers={"Accept-Language": "en-US"}).text
    assert "Log in" in forced.get("/login?lang=en").text


def test_an_empty_index_says_how_to_build_it_and_a_bad_filter_is_explained(app):
    client = app.test_client()
    log_in(client, "reader")
    assert "weidang index rebuild" in client.get("/search?q=档案").text
    bad = client.get("/search?q=档案&since=yesterday")
    assert bad.status_code == 200 and "无法执行检索：yesterday 不是日期" in bad.text
    assert "没有名为 twitter 的平台" in client.get("/search?platform=twitter").text
    assert "没有 gone 这种状态" in client.get("/search?status=gone").text


def test_an_unknown_post_is_not_found(app):
    client = app.test_client()
    log_in(client, "reader")
    assert client.get("/posts/weibo:1").status_code == 404
    assert client.get("/posts/nothing").status_code == 404
    assert client.get("/posts/weibo:1/v1/media/0").status_code == 404


def test_repeated_failed_logins_for_one_name_are_refused_for_a_while(app):
    with app.config["DB"].write() as conn:
        add_user(conn, "targeted", "researcher", PASSWORD, "test")
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, "targeted", "a wrong guess!").status_code == 401
    refused = log_in(client, "targeted")  # even the right password, for now
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text
    assert log_in(app.test_client(), "reader").status_code == 302  # other names are not affected
