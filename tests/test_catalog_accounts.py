"""The catalog database and the account registry: validation, history, secrets kept out, credentials."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from catalog_helpers import execute, rows, stored_bytes
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from catalog import schema
from catalog.accounts import AccountRegistry
from catalog.credentials import CredentialStore
from catalog.db import Database
from catalog.errors import (
    CredentialsError,
    DatabaseError,
    DuplicateAccount,
    InvalidAccount,
    UnknownAccount,
)
from catalog.schema import AUTHORITATIVE_TABLES, DERIVED_TABLES, MIGRATIONS

COOKIE = "SUB=_2A25LkDqFDeRhGeFK7VoR9SjJzTuIHXVo5n1NrDV8PUNbmtAGLRfDkW9NQ2vE3uT; SUBP=0033WrSXqPxfM725Ws9"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture
def db(catalogs):
    return catalogs.open()


@pytest.fixture
def registry(db):
    return AccountRegistry(db, clock=Clock(), actor="archivist", via="test")


def test_database_has_every_table_and_its_schema_recorded(db, catalogs):
    if db.dialect == "sqlite":
        assert rows(db, "PRAGMA journal_mode") == [("wal",)]
        assert rows(db, "PRAGMA foreign_keys") == [(1,)]
    parts = dict(rows(db, "SELECT part, version FROM catalog_schema"))
    assert parts == {"migrations": len(MIGRATIONS), "derived": schema.DERIVED_LAYOUT,
                     "derived_generation": 1}
    db.close()
    again = catalogs.open()  # reopening applies nothing twice
    assert dict(rows(again, "SELECT part, version FROM catalog_schema")) == parts
    for table in (*AUTHORITATIVE_TABLES, *DERIVED_TABLES):
        assert rows(again, f"SELECT COUNT(*) FROM {table}") == [(0,)]


def test_a_later_migration_is_applied_forward_and_a_newer_catalog_refused(db, catalogs, monkeypatch):
    db.close()
    later = (len(MIGRATIONS) + 1, "a later table", lambda conn: conn.execute(
        text("CREATE TABLE later (x INTEGER)")))
    monkeypatch.setattr(schema, "MIGRATIONS", [*MIGRATIONS, later])
    assert rows(catalogs.open(), "SELECT COUNT(*) FROM later") == [(0,)]
    monkeypatch.undo()
    with pytest.raises(DatabaseError, match="newer weidang") as refused:
        catalogs.open()
    assert "upgrade weidang" in str(refused.value) and "password" not in str(refused.value)


def test_add_get_list_with_validated_fields(registry):
    added = registry.add(" Weibo:1669879400 ", name="国家档案局", interval="6h", jitter=600,
                         credentials="gov_weibo_login", notes="每六小时")
    assert added.key == "weibo:1669879400" and added.interval_seconds == 21600
    assert added.jitter_seconds == 600 and added.created_at == "2024-05-01T08:01:00.000000Z"
    registry.add("wechat:MzAxMzgxNzUxOA==", name="示例县", source="BACKEND", cron="30 6 * * *")
    registry.add("wechat:gh_6bab8b88e75e")
    assert [a.key for a in registry.list()] == [
        "wechat:MzAxMzgxNzUxOA==", "wechat:gh_6bab8b88e75e", "weibo:1669879400"]
    assert [a.key for a in registry.list(platform="weibo")] == ["weibo:1669879400"]
    got = registry.get("wechat:MzAxMzgxNzUxOA==")
    assert got.source == "backend" and got.schedule().cron == "30 6 * * *"
    default = registry.get("wechat:gh_6bab8b88e75e").schedule(3600, 60)
    assert (default.interval_seconds, default.jitter_seconds, default.is_default) == (3600, 60, True)
    with pytest.raises(DuplicateAccount, match="already registered"):
        registry.add("weibo:1669879400")


@pytest.mark.parametrize("name, message", [
    ("1669879400", "not an account name; write platform:id"),
    ("twitter:12345", "'twitter' in 'twitter:12345' is not a platform"),
    ("weibo:abc123", "Weibo uid is digits only"),
    ("wechat:MzAxMzgxNzUxOA", "__biz"),  # padding lost when copied from a URL
    ("wechat:aGVsbG8=", "__biz"),  # base64, but not of an account number
])
def test_bad_names_are_refused_with_one_sentence(registry, name, message):
    with pytest.raises(InvalidAccount, match=message) as caught:
        registry.add(name)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("fields, message", [
    ({"source": "sogou"}, "not a wechat listing source; use one of api, backend, feed, urls"),
    ({"interval": "often"}, "not a duration"),
    ({"interval": "99999999999999d"}, "interval '99999999999999d' is too long; give from 1s to 366d"),
    ({"interval": "367d"}, "too long; give from 1s to 366d"),
    ({"interval": "9" * 5000}, "is too long"),
    ({"interval": 0}, "interval 0 is too short"),
    ({"interval": -60}, "too short"),
    ({"jitter": "8d"}, "jitter '8d' is too long; give from 0s to 7d"),
    ({"jitter": 1e300}, r"jitter 1e\+300 is too long"),
    ({"interval": "1h", "cron": "0 * * * *"}, "not both"),
    ({"cron": "61 * * * *"}, "cannot be used"),
    ({"cron": "daily"}, "five fields"),
    ({"credentials": "has space"}, "not a credentials name"),
    ({"colour": "red"}, "unknown account field colour"),
])
def test_bad_fields_are_refused(registry, fields, message):
    with pytest.raises(InvalidAccount, match=message):
        registry.add("wechat:MzAxMzgxNzUxOA==", **fields)
    assert registry.find("wechat:MzAxMzgxNzUxOA==") is None


@pytest.mark.parametrize("field, value", [
    ("credentials", COOKIE),
    ("credentials", "wx8f3a9b2c4d5e6f70"),  # an appid-shaped key
    ("credentials", "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"),  # an AppSecret
    ("notes", "cookie: " + COOKIE),
    ("notes", "token=a81b3c9d0e2f"),
    ("name", "SUB=_2A25LkD; SUBP=0033WrSXq"),
])
def test_secrets_are_refused_and_never_reach_the_catalog_file(registry, db, field, value):
    with pytest.raises(InvalidAccount, match="secret"):
        registry.add("weibo:1669879400", **{field: value})
    raw = stored_bytes(db)
    assert value.encode() not in raw and b"2A25LkD" not in raw


@pytest.mark.parametrize("value", [
    "AppSecret 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",  # a 32-hex AppSecret, unlabelled
    "后台 slave_sid=SzVxcUdrNmF3T2hLQmRmN0JQa3ZmWEFzUnBLa1p3",
    "slave_sid：SzVxcUdrNmF3T2hLQmRmN0JQa3ZmWEFzUnBLa1p3",  # full-width colon
    "登录用 SUB _2A25LkDmXdeRhGeNH7VMV9izEzzuIHXVqRmRrDV8PUNbmtANLWXfhkW1NSnHA5y3",  # no =
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PSR5ycjhQw",
    "令牌 80_AEztaGY5FXNV2h9SZM82h3CSBsqytjcChmhSW9JmvjGdj7XB3blNKvBVYRijwym7HBao",  # access token
    "后台 slave_sid Sz1xcU5rNm3wT2hL9mRmQa7v",  # a space, not =
    "备用 password Gz7kQ2mW9x",
])
def test_notes_holding_a_key_session_or_token_are_refused(registry, db, value):
    with pytest.raises(InvalidAccount, match="secret"):
        registry.add("wechat:MzAxMzgxNzUxOA==", notes=value)
    assert value.split()[-1][-12:].encode() not in stored_bytes(db)


@pytest.mark.parametrize("note", [
    "见 https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650&idx=1&sn=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "图 https://wx1.sinaimg.cn/large/0069qZtGgy1hlqoz7c7o2j30u01hc1kx.jpg",
    "政务公开 电话 0311-12345678，地址 https://www.gov.cn/zhengce/content/2024-01/content_6926045.htm",
    "Subject: 关于开展2024年档案工作的通知; token 由办公室保管",
    "导出包 md5 d41d8cd98f00b204e9800998ecf8427e，sha256: 9f86d081884c7d659a2feaa0c55ad015",
    "password changed yesterday; key 由办公室保管",
])
def test_notes_may_hold_links_numbers_and_the_words_for_secrets(registry, note):
    assert registry.add("wechat:MzAxMzgxNzUxOA==", notes=note).notes == note


def test_notes_may_hold_an_article_address(registry):
    note = "见 https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650&idx=1"
    assert registry.add("wechat:MzAxMzgxNzUxOA==", notes=note).notes == note


def test_every_change_is_an_event_and_remove_keeps_history(registry, db):
    registry.add("weibo:1669879400", name="国家档案局", interval=3600)
    registry.update("weibo:1669879400", cron="0 7 * * *", name="国家档案局")  # name unchanged
    registry.update("weibo:1669879400", notes="")  # nothing changes: no event
    removed = registry.remove("weibo:1669879400")
    assert not removed.active and removed.removed_at == "2024-05-01T08:03:00.000000Z"
    assert registry.list() == [] and [a.key for a in registry.list(include_removed=True)] == [
        "weibo:1669879400"]
    with pytest.raises(UnknownAccount, match="already removed"):
        registry.remove("weibo:1669879400")
    with pytest.raises(UnknownAccount, match="was removed"):
        registry.update("weibo:1669879400", name="x")
    restored = registry.add("weibo:1669879400", notes="恢复")
    assert restored.active and restored.removed_at is None and restored.cron == "0 7 * * *"
    events = registry.events("weibo:1669879400")
    assert [e.action for e in events] == ["add", "update", "remove", "restore"]
    assert events[0].changes == {"interval_seconds": [None, 3600], "name": [None, "国家档案局"]}
    assert events[1].changes == {"cron": [None, "0 7 * * *"], "interval_seconds": [3600, None]}
    assert events[2].changes == {"active": [True, False]}
    assert events[3].changes == {"active": [False, True], "notes": ["", "恢复"]}
    assert {(e.actor, e.via) for e in events} == {("archivist", "test")}
    # The trail and the accounts cannot be erased, even by hand.
    for sql in ("DELETE FROM account_events", "UPDATE account_events SET actor='x'",
                "DELETE FROM accounts"):
        with pytest.raises(DBAPIError, match="append-only|never deleted"):
            execute(db, sql)
    with pytest.raises(UnknownAccount, match="not registered"):
        registry.get("weibo:1234567")


def test_a_failed_batch_changes_nothing(registry):
    with pytest.raises(InvalidAccount):
        with registry.batch():
            registry.add("weibo:1669879400")
            registry.add("weibo:bad")
    assert registry.list(include_removed=True) == [] and registry.events() == []


def test_backup_copies_accounts_and_events(registry, db, tmp_path):
    registry.add("weibo:1669879400", name="国家档案局")
    if db.dialect != "sqlite":
        with pytest.raises(DatabaseError, match="pg_dump"):
            db.backup(tmp_path / "copy.sqlite")
        return
    db.backup(tmp_path / "copy.sqlite")
    copy = AccountRegistry(Database(tmp_path / "copy.sqlite"))
    assert copy.get("weibo:1669879400").name == "国家档案局" and len(copy.events()) == 1


def _credentials_file(tmp_path, text, mode=0o600):
    path = tmp_path / "credentials.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_credentials_by_reference_from_file_and_environment(tmp_path):
    path = _credentials_file(tmp_path, f'[gov_weibo_login]\ncookie = "{COOKIE}"\n\n[county_wechat_api]\n'
                                       'appid = "wx8f3a9b2c4d5e6f70"\nsecret = "s3cr3t-value"\n')
    env = {"WEIDANG_CRED_COUNTY_WECHAT_API_SECRET": "from-env-secret",
           "WEIDANG_CRED_ARCHIVE_FEED_FEED_URL": "https://rss.example.org/feed.xml",
           "WEIDANG_CRED_LIST_URLS": "https://mp.weixin.qq.com/s/a https://mp.weixin.qq.com/s/b"}
    store = CredentialStore(path, env)
    weibo = store.get("gov_weibo_login")
    assert weibo.fields == {"cookie": COOKIE}
    assert COOKIE in weibo.secrets and "0033WrSXqPxfM725Ws9" in weibo.secrets
    assert COOKIE not in repr(weibo) and "cookie" in repr(weibo)
    api = store.get("county_wechat_api")
    assert api.fields == {"appid": "wx8f3a9b2c4d5e6f70", "secret": "from-env-secret"}
    assert api.secrets == ("from-env-secret",)  # the appid names the account, it is no secret
    assert store.get("archive_feed").fields == {"feed_url": "https://rss.example.org/feed.xml"}
    assert store.get("list").fields["urls"] == ["https://mp.weixin.qq.com/s/a", "https://mp.weixin.qq.com/s/b"]
    assert store.names() == ["archive_feed", "county_wechat_api", "gov_weibo_login", "list"]
    with pytest.raises(CredentialsError, match=r"no credentials named nobody .* add a \[nobody\] table"):
        store.get("nobody")


def test_credentials_file_readable_by_others_is_refused(tmp_path):
    path = _credentials_file(tmp_path, f'[gov]\ncookie = "{COOKIE}"\n', mode=0o644)
    with pytest.raises(CredentialsError, match="chmod 600") as caught:
        CredentialStore(path, {}).get("gov")
    assert COOKIE not in str(caught.value)
    with pytest.warns(UserWarning, match="chmod 600"):
        assert CredentialStore(path, {}, strict=False).get("gov").fields["cookie"] == COOKIE


def test_broken_credentials_file_is_reported_without_its_content(tmp_path):
    path = _credentials_file(tmp_path, f'[gov]\ncookie = "{COOKIE}\n')
    with pytest.raises(CredentialsError, match="not valid TOML") as caught:
        CredentialStore(path, {}).get("gov")
    assert "2A25" not in str(caught.value) and caught.value.__cause__ is None


def test_the_change_mark_moves_with_every_change_and_only_then(registry):
    assert registry.change_mark() is None  # no account ever
    registry.add("weibo:1669879400", name="县融媒体中心")
    first = registry.change_mark()
    registry.list()
    assert registry.change_mark() == first  # reading changes nothing
    registry.update("weibo:1669879400", interval="2h")
    second = registry.change_mark()
    registry.remove("weibo:1669879400")
    assert first is not None and second is not None and first < second < (registry.change_mark() or 0)


def test_messages_keep_checksums_and_lose_spaced_and_keyed_secrets():
    from catalog.secret_shapes import scrub_secrets

    checksum = "export md5 d41d8cd98f00b204e9800998ecf8427e; MD5: 0cc175b9c0f1b6a831c399e269772661"
    assert scrub_secrets(checksum) == checksum
    said = ("slave_sid SzVxcUdrNmF3T2hLQmRmN0JQa3ZmWEFzUnBLa1p3 refused at "
            "https://mp.weixin.qq.com/cgi-bin/x?key=8a7b6c5d4e3f2a1b&uin=MTIzNDU2Nzg5")
    assert scrub_secrets(said) == ("slave_sid REDACTED refused at "
                                   "https://mp.weixin.qq.com/cgi-bin/x?key=REDACTED&uin=REDACTED")
    key = "AppSecret 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
    assert scrub_secrets(key) == "AppSecret REDACTED"
