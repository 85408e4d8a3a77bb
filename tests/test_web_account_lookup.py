"""Finding an account by its name from the web: the accounts page's form asks the platform's own
account search (the emulator's) with a stored login, lists what it found, and adds the chosen
one with its id, name and login; refusals are said in Chinese, and no login value is shown. The
lookup is a POST with the session's token: no link from another site can make it."""

from __future__ import annotations

from test_web_accounts import PASSWORD, client_of, flashes

from catalog.accounts import AccountRegistry
from catalog.users import add_user
from weidang.home import Home
from weidang.web import create_app


def web_app(tmp_path, emulator, login: dict | None = None):
    home = Home(tmp_path / "home")
    settings = home.settings([f"CRAWLER_PROXY={emulator.proxy_url}", f"CRAWLER_PROXY_CA={emulator.ca_path}"])
    home.root.mkdir(parents=True, exist_ok=True)
    if login:
        path = home.root / "credentials.toml"
        entry = f'[gov]\ncookie = "{login["cookie"]}"\ntoken = "{login["token"]}"\n'
        path.write_text(entry, encoding="utf-8")
        path.chmod(0o600)
    app = create_app(home, settings, environ={})
    with app.config["DB"].write() as conn:
        for name, role in (("keeper", "archivist"), ("reader", "researcher")):
            add_user(conn, name, role, PASSWORD, "test")
    return app


def look_up(client, platform: str, name: str, credentials: str = ""):
    return client.post("/accounts/find?lang=zh_CN", data={
        "csrf_token": client.token, "platform": platform, "name": name, "credentials": credentials})


def asked(emulator) -> int:
    """How many requests the platforms (the emulator) have answered so far."""
    return int(emulator.control("GET", "/counters")["total"])


def test_an_archivist_finds_a_wechat_account_by_name_and_adds_it(tmp_path, emulator):
    wanted = emulator.world()["wechat"][1]
    app = web_app(tmp_path, emulator, login=emulator.world()["wechat"][0])
    keeper = client_of(app, "keeper")
    assert "按名称查找账号" in keeper.get("/accounts?lang=zh_CN").text
    page = look_up(keeper, "wechat", wanted["nickname"], "gov")
    assert page.status_code == 200
    assert f"wechat:{wanted['biz']}" in page.text and wanted["nickname"] in page.text
    assert wanted["token"] not in page.text and "slave_sid" not in page.text

    added = keeper.post("/accounts/add?lang=zh_CN", data={
        "csrf_token": keeper.token, "account": f"wechat:{wanted['biz']}", "name": wanted["nickname"],
        "credentials": "gov"}, follow_redirects=True)
    assert any(f"wechat:{wanted['biz']}" in f for f in flashes(added.text)), added.text
    account = AccountRegistry(app.config["DB"]).get(f"wechat:{wanted['biz']}")
    assert (account.name, account.credentials) == (wanted["nickname"], "gov")


def test_a_weibo_name_is_found_without_a_login_and_a_missing_one_said(tmp_path, emulator):
    wanted = emulator.world()["weibo"][0]
    keeper = client_of(web_app(tmp_path, emulator), "keeper")
    page = look_up(keeper, "weibo", wanted["screen_name"])
    assert f"weibo:{wanted['uid']}" in page.text
    none = look_up(keeper, "weibo", "不存在的账号名称")
    assert "weibo 上没有名为 不存在的账号名称 的账号。" in none.text


def test_a_wechat_lookup_without_a_login_or_with_an_ended_one_is_said_in_chinese(tmp_path, emulator):
    login = dict(emulator.world()["wechat"][0], token="999")
    keeper = client_of(web_app(tmp_path, emulator, login=login), "keeper")
    page = look_up(keeper, "wechat", "档案").text
    assert "查找微信公众号需要公众号后台登录" in page
    page = look_up(keeper, "wechat", "档案", "gov").text
    assert "mp.weixin.qq.com 的登录会话已过期（ret 200003）" in page and "重新登录" in page, page
    assert "token=999" not in page
    page = look_up(keeper, "wechat", "档案", "nobody").text
    assert 'class="error"' in page and "nobody" in page


def test_a_researcher_cannot_look_accounts_up(tmp_path, emulator):
    reader = client_of(web_app(tmp_path, emulator), "reader")
    assert look_up(reader, "weibo", "x").status_code == 403


def test_a_link_or_a_form_from_another_site_never_asks_the_platform(tmp_path, emulator):
    wanted = emulator.world()["wechat"][1]["nickname"]
    keeper = client_of(web_app(tmp_path, emulator, login=emulator.world()["wechat"][0]), "keeper")
    before = asked(emulator)
    # a link: the form comes back filled in, nothing is asked
    page = keeper.get(f"/accounts/find?platform=wechat&credentials=gov&name={wanted}&lang=zh_CN")
    assert page.status_code == 200 and f'value="{wanted}"' in page.text
    assert 'class="found"' not in page.text
    # a form posted from elsewhere carries no token of this session
    forged = keeper.post("/accounts/find", data={"platform": "wechat", "credentials": "gov",
                                                 "name": wanted})
    assert forged.status_code == 400
    assert asked(emulator) == before
    assert 'class="found"' in look_up(keeper, "wechat", wanted, "gov").text
    assert asked(emulator) == before + 1
