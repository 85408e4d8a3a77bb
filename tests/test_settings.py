"""Every setting declares its type and range, and every value is checked the moment it is read."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from warc_store import StoreConfig
from warc_store.errors import StoreError
from weidang import default_settings
from weidang.cli import main
from weidang.settings import Settings, SettingsError, check, specs


def test_every_setting_declares_its_type_and_rule_and_its_default_keeps_them():
    hints = typing.get_type_hints(default_settings, include_extras=True)
    names = [n for n in dir(default_settings) if n.isupper()]
    undeclared = [n for n in names if n not in hints]
    unruled = [n for n in names if specs()[n].rule is None and specs()[n].kind is not bool]
    assert (undeclared, unruled) == ([], [])
    for name in names:
        assert check(name, getattr(default_settings, name), "default", from_text=False) is not None


@pytest.mark.parametrize("setting, allowed", [
    ("WARC_STORE_PREFIX=../x", "no '/' and not starting with '.'"),
    ("WARC_STORE_PREFIX=/tmp/x", "no '/'"),
    ("WARC_STORE_COMPRESS_LEVEL=42", "a whole number from 0 to 9"),
    ("WARC_STORE_MAX_SIZE=-1", "a whole number of bytes from 1024 to 1099511627776 (1 TiB)"),
    ("CRAWLER_CONCURRENCY_PER_HOST=0", "a whole number from 1 to 16"),
    ("CRAWLER_RETRIES=-3", "a whole number from 0 to 20"),
    ("CRAWLER_RETRIES=2.5", "a whole number from 0 to 20"),
    ("CRAWLER_TIMEOUT_SECONDS=nan", "a number of seconds from 0.1 to 3600 (1 hour)"),
    ("CRAWLER_DELAY_SECONDS=inf", "a number of seconds from 0 to 3600"),
    ("CATALOG_SCHEDULE_INTERVAL_SECONDS=99999999999999", "from 1 to 31622400 (366 days)"),
    ("CATALOG_SEARCH_BACKEND=solr", "one of sqlite, tantivy, elasticsearch"),
    ("CATALOG_SEARCH_ES_VERIFY_CERTS=maybe", "true or false"),
    ("CATALOG_SEARCH_ES_URL=es.example:9200", "an address beginning with http:// or https://"),
    ("WARC_STORE_REDACT_HEADERS=Authorization Cookie", "a list of HTTP header names"),
    ("WARC_STORE_REDACT_PARAMS=[1, 2]", "a list of URL parameter names"),
    ("SCHEDULES_MAX_CONCURRENT=0", "a whole number from 1 to 1024"),
    ("SCHEDULES_JOB_STORE_URL=nonsense", "a database address"),
])
def test_a_bad_value_from_set_is_refused_in_one_sentence(home, capsys, setting, allowed):
    name, _, value = setting.partition("=")
    assert main(["--set", setting, "accounts", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: The setting {name} (from --set) is {value!r}, but it must be ")
    assert allowed in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not Path(home).exists() or not list(Path(home).glob("catalog.sqlite*"))  # refused first


@pytest.mark.parametrize("line, message", [
    ('warc_store_redact_headers = "Cookie"', "WARC_STORE_REDACT_HEADERS (from {file}) is 'Cookie'"),
    ("crawler_timeout_seconds = nan", "CRAWLER_TIMEOUT_SECONDS (from {file}) is nan"),
    ('warc_store_compress_level = "6"', "WARC_STORE_COMPRESS_LEVEL (from {file}) is '6'"),
    ("crawler_retries = true", "CRAWLER_RETRIES (from {file}) is True"),
    ('warc_store_prefix = "../x"', "WARC_STORE_PREFIX (from {file}) is '../x'"),
])
def test_the_home_file_must_hold_values_of_the_right_type(tmp_path, line, message):
    conf = tmp_path / "weidang.toml"
    conf.write_text(f"[settings]\n{line}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        Settings(conf, {})
    assert message.format(file=conf) in str(refused.value)


def test_environment_values_are_checked_and_a_password_in_an_address_is_not_shown():
    with pytest.raises(SettingsError, match=r"environment variable WEIDANG_CRAWLER_RETRIES\) is '-3'"):
        Settings(None, {"WEIDANG_CRAWLER_RETRIES": "-3"})
    with pytest.raises(SettingsError) as refused:
        Settings(None, {"WEIDANG_CRAWLER_PROXY": "socks9://archivist:s3cret-pw@proxy.example"})
    assert "s3cret-pw" not in str(refused.value) and "***@proxy.example" in str(refused.value)


def test_good_values_in_each_form_are_accepted(tmp_path):
    conf = tmp_path / "weidang.toml"
    conf.write_text('[settings]\nwarc_store_redact_headers = ["Cookie", "X-Token"]\n'
                    "crawler_delay_seconds = 1\ncatalog_search_es_verify_certs = false\n")
    s = Settings(conf, {"WEIDANG_WARC_STORE_REDACT_PARAMS": '["token", "sid"]'},
                 ["CRAWLER_PROXY=http://127.0.0.1:8080", "CRAWLER_TIMEOUT_SECONDS=2.5",
                  "SCHEDULES_WEBHOOK_URL=", "WARC_STORE_PREFIX=county-archive.2024",
                  "CATALOG_SEARCH_ES_VERIFY_CERTS=true", "CRAWLER_RETRIES=0"])
    assert s["WARC_STORE_REDACT_HEADERS"] == ["Cookie", "X-Token"]
    assert s["WARC_STORE_REDACT_PARAMS"] == ["token", "sid"] and s["CRAWLER_DELAY_SECONDS"] == 1
    assert (s["CRAWLER_TIMEOUT_SECONDS"], s["CATALOG_SEARCH_ES_VERIFY_CERTS"], s["CRAWLER_RETRIES"]) == (
        2.5, True, 0)
    listed = Settings(None, {}, ["WARC_STORE_REDACT_HEADERS=Cookie, Authorization"])
    assert listed["WARC_STORE_REDACT_HEADERS"] == ["Cookie", "Authorization"]


@pytest.mark.parametrize("prefix", ["../x", "/tmp/x", "a/b", ".hidden", ""])
def test_the_warc_writer_never_takes_a_prefix_that_leaves_its_folder(prefix):
    with pytest.raises(StoreError, match="prefix"):
        StoreConfig(prefix=prefix)
