"""One identity per account: a WeChat account registered by its gh_ id has its posts (stored
under its __biz) counted and found, and every account filter takes the registered id, a
linked id, the registered name or the name the platform shows."""

from __future__ import annotations

import json

import pytest
from crawler_helpers import Archive, wechat_ids

from catalog.identity import LINKED


@pytest.fixture(scope="module")
def registered_by_gh(emulator, tmp_path_factory):
    """A home whose WeChat account was registered as wechat:gh_... and harvested twice."""
    account = emulator.world()["wechat"][0]
    archive = Archive(tmp_path_factory.mktemp("identity") / "home", emulator)
    key = f"wechat:{account['user_name']}"
    archive.add(key, source="api", credentials={"appid": account["appid"],
                                                 "secret": account["secret"]})
    first, _ = archive.harvest(key)
    second, _ = archive.harvest(key)
    return archive, account, key, first, second


def _found(archive: Archive, *args: str) -> tuple[set[str], set[int]]:
    done = archive.weidang("search", *args, "--json", "--limit", "1000")
    assert done.returncode == 0, done.stdout + done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    return {h["post_id"] for h in hits}, {h["total"] for h in hits}


def test_posts_stored_under_the_biz_count_for_the_gh_registration(registered_by_gh):
    archive, account, key, first, second = registered_by_gh
    assert account["user_name"].startswith("gh_")
    expected = sorted(wechat_ids(account))
    assert sorted(archive.post_ids(f"wechat:{account['biz']}")) == expected  # stored under __biz
    assert first["outcome"] == "ok" and first["posts_new"] == len(expected), first
    assert first["captured_total"] == len(expected)
    assert second["captured_total"] == len(expected) and second["posts_new"] == 0, second
    runs = archive.rows("SELECT captured_total FROM runs WHERE account = ?", key)
    assert runs == [(len(expected),), (len(expected),)]


def test_the_link_is_recorded_once_with_an_event(registered_by_gh):
    archive, account, key, _, _ = registered_by_gh
    links = archive.rows("SELECT account_id, value FROM account_identities WHERE kind = 'user_name'")
    assert links == [(account["biz"], account["user_name"])]
    events = archive.rows("SELECT subject, details FROM catalog_events WHERE action = ?", LINKED)
    assert len(events) == 1 and events[0][0] == key
    assert json.loads(events[0][1])["biz"] == account["biz"]


@pytest.mark.parametrize("which", ["registered id", "bare gh_ id", "biz", "registered name",
                                   "platform name"])
def test_every_name_of_the_account_finds_all_its_posts(registered_by_gh, which):
    archive, account, key, _, _ = registered_by_gh
    value = {"registered id": key, "bare gh_ id": account["user_name"],
             "biz": f"wechat:{account['biz']}", "registered name": "测试账号",
             "platform name": account["nickname"]}[which]
    assert account["nickname"] != "测试账号"
    posts, totals = _found(archive, "--account", value)
    assert posts == set(wechat_ids(account)) and totals == {len(posts)}


def test_another_account_is_not_found_through_the_link(registered_by_gh, emulator):
    archive, _, _, _, _ = registered_by_gh
    other = emulator.world()["wechat"][1]
    posts, _ = _found(archive, "--account", f"wechat:{other['user_name']}")
    assert posts == set()


def test_an_account_filter_on_a_home_that_never_harvested(tmp_path, capsys):
    from weidang.cli import main

    home = str(tmp_path / "home")
    assert main(["--home", home, "accounts", "add", "weibo:1669879400", "--name", "国家档案局"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "search", "档案", "--account", "国家档案局"]) == 0
    out = capsys.readouterr()
    assert "search index is empty" in out.out and "Error" not in out.err
