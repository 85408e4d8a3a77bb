"""Looking an account up by its name (crawler.account_search) against the emulator's account
searches, and reading the platforms' answers (harvesters.account_search)."""

from __future__ import annotations

import json

import pytest

from crawler.account_search import AccountLookupError, find_accounts
from emulator import Emulator, World, samples
from harvesters.account_search import parse_candidates, search_url
from harvesters.errors import LoginExpired, RateLimited


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    world = World(accounts=3, posts=2, seed=4)
    with Emulator(world, state_dir=tmp_path_factory.mktemp("emulator")) as running:
        yield running


def _ask(emu, platform, name, login=None):
    return find_accounts(platform, name, login, proxy=emu.proxy_url, proxy_ca=str(emu.ca_cert_path),
                         timeout=10)


def test_a_wechat_name_finds_the_accounts_biz_with_a_backend_login(emu):
    accounts = emu.world.summary()["wechat"]
    wanted, other = accounts[1], accounts[0]
    found = _ask(emu, "wechat", wanted["nickname"], {"cookie": other["cookie"], "token": other["token"]})
    assert found[0].key == f"wechat:{wanted['biz']}"  # any live backend session may search
    assert found[0].name == wanted["nickname"]


def test_a_weibo_name_finds_the_uid_without_a_login(emu):
    wanted = emu.world.summary()["weibo"][2]
    found = _ask(emu, "weibo", f"  {wanted['screen_name']} ")
    assert found[0].key == f"weibo:{wanted['uid']}"
    assert found[0].name == wanted["screen_name"]
    assert found[0].followers


def test_a_name_nobody_has_finds_nothing(emu):
    assert _ask(emu, "weibo", "不存在的账号名称") == []
    login = emu.world.summary()["wechat"][0]
    assert _ask(emu, "wechat", "不存在的账号名称", {"cookie": login["cookie"], "token": login["token"]}) == []


def test_an_ended_wechat_login_is_told_without_its_token(emu):
    login = emu.world.summary()["wechat"][0]
    with pytest.raises(AccountLookupError) as caught:
        _ask(emu, "wechat", "档案", {"cookie": login["cookie"], "token": "999"})
    assert "200003" in str(caught.value) and "weidang login" in str(caught.value)
    assert "999" not in str(caught.value).replace("200003", "")


def test_a_wechat_lookup_without_a_login_says_what_it_needs(emu):
    with pytest.raises(AccountLookupError, match="backend login"):
        _ask(emu, "wechat", "档案", None)
    with pytest.raises(AccountLookupError, match="name"):
        _ask(emu, "weibo", "   ", None)


def test_an_unreachable_platform_is_said_plainly():
    with pytest.raises(AccountLookupError, match="could not be reached"):
        find_accounts("weibo", "档案", None, proxy="http://127.0.0.1:9", timeout=2)


def test_the_recorded_empty_answer_is_no_account():
    assert parse_candidates("weibo", samples.raw(samples.EMPTY_LISTING)) == []


def test_refusals_are_the_harvests_problems():
    with pytest.raises(RateLimited):
        parse_candidates("wechat", b'{"base_resp":{"ret":200013,"err_msg":"freq control"}}')
    with pytest.raises(LoginExpired):
        parse_candidates("weibo", json.dumps({"ok": -100, "url": "https://passport.weibo.com/"}).encode())


def test_the_search_addresses_quote_the_name():
    assert "containerid=100103type%3D3%26q%3D%E5%9B%BD%E5%AE%B6" in search_url("weibo", "国家")
    assert "query=%E5%9B%BD%E5%AE%B6&token=12" in search_url("wechat", "国家", "12")


def _weidang(emulator, *args, env=None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).with_name("weidang")), "--set", f"CRAWLER_PROXY={emulator.proxy_url}",
               "--set", f"CRAWLER_PROXY_CA={emulator.ca_path}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_the_command_line_finds_a_wechat_account_by_name_and_registers_it(emulator, home):
    wanted = emulator.world()["wechat"][0]
    home.mkdir(parents=True)
    credentials = home / "credentials.toml"
    login = f'[gov]\ncookie = "{wanted["cookie"]}"\ntoken = "{wanted["token"]}"\n'
    credentials.write_text(login, encoding="utf-8")
    credentials.chmod(0o600)

    find = ["accounts", "find", wanted["nickname"], "--platform", "wechat", "--credentials", "gov"]
    shown = _weidang(emulator, *find, env={"WEIDANG_LANG": "zh_CN"})
    assert shown.returncode == 0, shown.stderr
    assert f"wechat:{wanted['biz']}" in shown.stdout and wanted["nickname"] in shown.stdout
    assert "账号" in shown.stdout  # the table speaks Chinese
    assert wanted["token"] not in shown.stdout + shown.stderr

    added = _weidang(emulator, *find, "--add", "1")
    assert added.returncode == 0, added.stderr
    listed = json.loads(_weidang(emulator, "accounts", "list", "--json").stdout)
    assert [(a["account"], a["name"], a["credentials"]) for a in listed] == [
        (f"wechat:{wanted['biz']}", wanted["nickname"], "gov")]


def test_the_command_line_says_in_chinese_what_a_wechat_lookup_needs(emulator, home):
    out = _weidang(emulator, "accounts", "find", "档案", "--platform", "wechat",
                   env={"WEIDANG_LANG": "zh_CN"})
    assert out.returncode != 0
    assert "weidang login" in out.stderr and "登录" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_the_command_line_finds_a_weibo_account_and_says_when_there_is_none(emulator, home):
    wanted = emulator.world()["weibo"][0]
    found = _weidang(emulator, "accounts", "find", wanted["screen_name"], "--platform", "weibo", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["account"] == f"weibo:{wanted['uid']}"
    none = _weidang(emulator, "accounts", "find", "不存在的账号名称", "--platform", "weibo",
                    env={"WEIDANG_LANG": "zh_CN"})
    assert none.returncode == 1 and "不存在的账号名称" in none.stdout
