"""Logging in by QR code from the web: the server's headless Chromium opens the emulator's login
page, the work's page shows the QR code to its owner alone, the scan stores the login in
credentials.toml (0600) under the name given, and no secret appears on any page or in any log."""

from __future__ import annotations

import re
import stat
import time
import tomllib

import pytest
from test_web_accounts import PASSWORD, client_of, flashes

from catalog.users import add_user
from crawler.login import CHROMIUM, qr_text
from weidang.home import Home
from weidang.web import create_app

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: "
                                "apt-get install -y chromium fonts-noto-cjk")


def web_app(tmp_path, emulator, wait_seconds: int):
    home = Home(tmp_path / "home")
    settings = home.settings([f"CRAWLER_PROXY={emulator.proxy_url}",
                              f"CRAWLER_PROXY_CA={emulator.ca_path}",
                              f"CRAWLER_LOGIN_WAIT_SECONDS={wait_seconds}"])
    app = create_app(home, settings, environ={})
    with app.config["DB"].write() as conn:
        for name, role in (("keeper", "archivist"), ("other", "archivist"), ("boss", "admin"),
                           ("reader", "researcher")):
            add_user(conn, name, role, PASSWORD, "test")
    return app, home


def start_login(client, name: str, platform: str) -> str:
    """The work page's address the QR form leads to."""
    answer = client.post("/accounts/logins/qr?lang=zh_CN", data={
        "csrf_token": client.token, "name": name, "platform": platform})
    assert answer.status_code == 302 and "/work/" in answer.location, answer.text
    return answer.location


def work_page(client, address: str, until: str, seconds: float = 90) -> str:
    """The work's page once it shows ``until`` (a bound on waiting, not a timing)."""
    deadline = time.monotonic() + seconds
    while True:
        page = client.get(address + "?lang=zh_CN").text
        if until in page or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


@pytest.mark.slow
def test_an_archivist_logs_in_by_scanning_the_qr_code_shown_on_the_page(tmp_path, emulator):
    app, home = web_app(tmp_path, emulator, wait_seconds=60)
    keeper = client_of(app, "keeper")
    assert "扫码登录" in keeper.get("/accounts/logins?lang=zh_CN").text
    address = start_login(keeper, "web_weibo", "weibo")
    page = work_page(keeper, address, 'class="work-picture"')
    assert "请用手机扫描此二维码并确认登录" in page, page
    picture = re.search(r'<img class="work-picture" src="([^"]+)"', page).group(1)
    png = keeper.get(picture)
    assert png.headers["Cache-Control"] == "no-store" and qr_text(png.data), "a QR code one can scan"
    # whoever scans it gives the archive their login: no one else sees it, not even an admin
    assert client_of(app, "other").get(picture).status_code == 404
    assert client_of(app, "boss").get(picture).status_code == 404
    assert 'class="work-picture"' not in client_of(app, "boss").get(address).text

    emulator.control("POST", "/login/scan", b'{"platform": "weibo"}')
    page = work_page(keeper, address, "已登录")
    assert "已登录" in page and "[web_weibo]" in page, page
    assert keeper.get(picture).status_code == 404  # the used QR code is gone
    assert not list(home.root.glob("login-qr-*.png"))
    credentials = home.root / "credentials.toml"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    cookie = tomllib.loads(credentials.read_text(encoding="utf-8"))["web_weibo"]["cookie"]
    secrets = [pair.split("=", 1)[1] for pair in cookie.split("; ")]
    assert any(len(s) > 6 for s in secrets)
    logs = "".join(p.read_text(errors="replace") for p in home.root.rglob("*.log"))
    shown = page + keeper.get("/accounts/logins").text + logs
    assert not [s for s in secrets if len(s) > 6 and s in shown]
    assert "web_weibo" in keeper.get("/accounts/logins").text  # listed by name


@pytest.mark.slow
def test_a_qr_code_nobody_scans_ends_the_work_in_plain_chinese(tmp_path, emulator):
    app, home = web_app(tmp_path, emulator, wait_seconds=10)
    keeper = client_of(app, "keeper")
    page = work_page(keeper, start_login(keeper, "nobody_scans", "wechat"), "失败", seconds=120)
    assert "10 秒内无人扫描 wechat 的二维码；请重新登录" in page, page
    assert 'class="work-picture"' not in page
    assert not (home.root / "credentials.toml").exists()


def test_the_qr_form_refuses_a_bad_name_or_platform_and_a_researcher(tmp_path, emulator):
    app, _ = web_app(tmp_path, emulator, wait_seconds=60)
    keeper = client_of(app, "keeper")
    for name, platform, says in (("bad name!", "weibo", "不是登录名"),
                                 ("fine_name", "douyin", "请选择微博或微信公众号")):
        answer = keeper.post("/accounts/logins/qr?lang=zh_CN", data={
            "csrf_token": keeper.token, "name": name, "platform": platform}, follow_redirects=True)
        assert any(says in f for f in flashes(answer.text)), flashes(answer.text)
    reader = client_of(app, "reader")
    assert reader.post("/accounts/logins/qr", data={"csrf_token": reader.token, "name": "x",
                                                    "platform": "weibo"}).status_code == 403
    no_token = keeper.post("/accounts/logins/qr", data={"name": "fine_name", "platform": "weibo"})
    assert no_token.status_code in (400, 403)
