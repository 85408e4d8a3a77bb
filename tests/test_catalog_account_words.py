"""Accounts given the way archivists have them: profile and article addresses, schedules said in
Chinese (每天, 每6小时, 每周一 06:30), per-row problems an import keeps for a face to tell, and
logins an account list names that are not stored."""

from __future__ import annotations

import pytest

from catalog.account_fields import parse_account, schedule_words
from catalog.account_files import BadRows, import_accounts
from catalog.accounts import AccountRegistry
from catalog.credential_writer import save_login
from catalog.credentials import CredentialStore, unknown_logins
from catalog.db import open_catalog
from catalog.errors import InvalidAccount


@pytest.fixture
def registry(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite") as db:
        yield AccountRegistry(db, actor="archivist")


@pytest.mark.parametrize("given, key", [
    ("https://weibo.com/u/1669879400", ("weibo", "1669879400")),
    ("https://weibo.com/1669879400?refer_flag=1001030103_", ("weibo", "1669879400")),
    ("https://m.weibo.cn/u/1669879400?uid=1669879400&luicode=10000011", ("weibo", "1669879400")),
    ("m.weibo.cn/profile/1669879400", ("weibo", "1669879400")),
    ("https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650&idx=1", ("wechat", "MzAxMzgxNzUxOA==")),
    ("weibo:1669879400", ("weibo", "1669879400")),
    ("wechat:gh_6bab8b88e75e", ("wechat", "gh_6bab8b88e75e")),
])
def test_an_account_is_read_from_its_address_or_its_name(given, key):
    assert parse_account(given) == key


@pytest.mark.parametrize("given, says", [
    ("https://mp.weixin.qq.com/s/AbCdEf", "does not say which account"),
    ("https://weibo.com/u/abc", "not a Weibo profile address"),
    ("https://example.org/u/1669879400", "not a Weibo or WeChat address"),
    ("weibo:abc", "digits only"),
])
def test_an_address_that_names_no_account_is_refused_with_what_to_give(given, says):
    with pytest.raises(InvalidAccount, match=says) as caught:
        parse_account(given)
    assert caught.value.template and caught.value.values  # a face can tell it in Chinese


@pytest.mark.parametrize("words, fields", [
    ("每天", {"interval": 86400}), ("每日", {"interval": 86400}), ("每6小时", {"interval": 21600}),
    ("每 6 小时", {"interval": 21600}), ("每小时", {"interval": 3600}), ("每30分钟", {"interval": 1800}),
    ("每两天", {"interval": 172800}), ("每天 06:30", {"cron": "30 6 * * *"}),
    ("每周一 06:30", {"cron": "30 6 * * 1"}), ("每周日 8：05", {"cron": "5 8 * * 0"}),
    ("工作日 08:00", {"cron": "0 8 * * 1-5"}), ("每周三", {"cron": "0 0 * * 3"}),
])
def test_schedules_said_in_chinese(words, fields):
    assert schedule_words(words) == fields


@pytest.mark.parametrize("words", ["每星期", "每天 25:00", "每0小时", "sometimes", ""])
def test_a_schedule_not_understood_is_refused(words):
    with pytest.raises(InvalidAccount):
        schedule_words(words)


def test_the_registry_takes_a_schedule_in_words_and_it_replaces_the_other_kind(registry):
    added = registry.add("https://weibo.com/u/1669879400", schedule="每周一 06:30")
    assert added.key == "weibo:1669879400" and added.cron == "30 6 * * 1"
    changed = registry.update("weibo:1669879400", schedule="每6小时")
    assert changed.interval_seconds == 21600 and changed.cron is None


def test_a_file_with_bad_rows_changes_nothing_and_names_each_row(registry, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("账号,名称,计划\n"
                    "https://weibo.com/u/1111111111,甲,每天\n"
                    "weibo:abc,乙,每天\n"
                    "weibo:2222222222,丙,每星期\n"
                    "weibo:1111111111,丁,\n", encoding="utf-8-sig")
    with pytest.raises(BadRows) as caught:
        import_accounts(registry, path)
    problems = caught.value.problems
    assert [p.row.number for p in problems] == [3, 4, 5]
    assert problems[0].error is not None and problems[0].error.template
    assert problems[2].repeat_of is not None and problems[2].repeat_of.number == 2
    assert "row 3" in str(caught.value) and registry.list() == [] and registry.events() == []


def test_logins_an_account_list_names_but_the_store_lacks_are_told(tmp_path):
    path = tmp_path / "credentials.toml"
    save_login(path, "kept", {"cookie": "SUB=x"})
    store = CredentialStore(path, environ={})
    assert unknown_logins(store, ["kept", None, "gone", "gone", "other"]) == ["gone", "other"]
