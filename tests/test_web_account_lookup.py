"""Finding an account by its name from the web: the accounts page's form asks the platform's own
account search (the emulator's) with a stored login, lists what it found, and adds the chosen
one with its id, name and login; refusals are said in Chinese, and no login value is shown."""

from __future__ import annotations

from urllib.parse import quote

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


def test_an_archivist_finds_a_wechat_account_by_name_and_adds_it(tmp_path, emulator):
    wanted = emulator.world()["wechat"][1]
    app = web_app(tmp_path, emulator, login=emulator.world()["wechat"][0])
    keeper = client_of(app, "keeper")
    assert "按名称查找账号" in keeper.get("/accounts?lang=zh_CN").text
    page = keeper.get(f"/accounts/find?platform=wechat&credentials=gov&name={quote(wanted['nickname'])}"
                      "&lang=zh_CN")
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
    page = keeper.get(f"/accounts/find?platform=weibo&name={quote(wanted['screen_name'])}&lang=zh_CN")
    assert f"weibo:{wanted['uid']}" in page.text
    none = keeper.get(f"/accounts/find?platform=weibo&name={quote('不存在的账号名称')}&lang=zh_CN")
    assert "weibo 上没有名为 不存在的账号名称 的账号。" in none.text


def test_a_wechat_lookup_without_a_login_or_with_an_ended_one_is_said_in_chinese(tmp_path, emulator):
    login = dict(emulator.world()["wechat"][0], token="999")
    keeper = client_of(web_app(tmp_path, emulator, login=login), "keeper")
    page = keeper.get(f"/accounts/find?platform=wechat&name={quote('档案')}&lang=zh_CN").text
    assert "查找微信公众号需要公众号后台登录" in page
    page = keeper.get(f"/accounts/find?platform=wechat&credentials=gov&name={quote('档案')}&lang=zh_CN").text
    assert "mp.weixin.qq.com 的登录会话已过期（ret 200003）" in page and "重新登录" in page, page
    assert "token=999" not in page
    page = keeper.get(f"/accounts/find?platform=wechat&credentials=nobody&name={quote('档案')}"
                      "&lang=zh_CN").text
    assert 'class="error"' in page and "nobody" in page


def test_a_researcher_cannot_look_accounts_up(tmp_path, emulator):
    reader = client_of(web_app(tmp_path, emulator), "reader")
    assert reader.get("/accounts/find?platform=weibo&name=x").status_code == 403
