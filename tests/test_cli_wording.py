"""What the command line says and takes: an identifier is quoted as written, never capitalised;
a schedule is given by one option name everywhere."""

from __future__ import annotations

import json

import pytest

from weidang.cli import main
from weidang.errors import sentence


def _error(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    return err.removeprefix("Error: ").strip()


def test_an_account_is_quoted_as_written(home, capsys):
    said = _error(capsys, ["accounts", "remove", "wechat:MzAxMzgxNzUxOA=="])
    assert said.startswith("wechat:MzAxMzgxNzUxOA== is not registered")


def test_a_file_name_is_quoted_as_written(home, tmp_path, capsys):
    listed = tmp_path / "accounts_try1_gbk.csv"
    listed.write_bytes(b"account,name\nweibo:1669879400,\xff\xfe\xff\n")
    said = _error(capsys, ["accounts", "import", str(listed)])
    assert said.startswith("accounts_try1_gbk.csv is neither UTF-8 nor GBK text")


@pytest.mark.parametrize("message,said", [
    ("the disk is full", "The disk is full."),
    ("cannot read x.warc.gz", "Cannot read x.warc.gz."),
    ("weibo:1669879400 is not registered", "weibo:1669879400 is not registered."),
    ("gh_6bab8b88e75e was removed", "gh_6bab8b88e75e was removed."),
    ("x.toml has no entries", "x.toml has no entries."),
    ("/srv/archive is not a home", "/srv/archive is not a home."),
    ("sm3 digests differ", "sm3 digests differ."),
    ("Elasticsearch is down", "Elasticsearch is down."),
])
def test_only_a_plain_first_word_is_capitalised(message, said):
    assert sentence(ValueError(message)) == said


def _schedule(capsys: pytest.CaptureFixture[str], account: str) -> str:
    assert main(["accounts", "list", "--json"]) == 0
    return {a["account"]: a for a in json.loads(capsys.readouterr().out)}[account]["schedule"]


@pytest.mark.parametrize("option", ["--interval", "--every"])
def test_add_and_schedule_take_the_same_interval_option(home, capsys, option):
    """--interval is the name (as in account lists); --every, the old name of `accounts schedule`,
    still works in both so that existing scripts keep running."""
    assert main(["accounts", "add", "weibo:1669879400", option, "6h", "--jitter", "0"]) == 0
    capsys.readouterr()
    assert _schedule(capsys, "weibo:1669879400") == "every 6h ± 0s"
    assert main(["accounts", "schedule", "weibo:1669879400", option, "2h"]) == 0
    assert "now harvested every 2h" in capsys.readouterr().out
    assert _schedule(capsys, "weibo:1669879400") == "every 2h ± 0s"


def test_help_shows_one_interval_option(home, capsys):
    for command in ("add", "schedule"):
        assert main(["accounts", command, "--help"]) == 0
        shown = capsys.readouterr().out
        assert "--interval" in shown and "--every" not in shown


def test_schedule_without_a_field_names_the_options(home, capsys):
    assert main(["accounts", "add", "weibo:1669879400"]) == 0
    capsys.readouterr()
    assert main(["accounts", "schedule", "weibo:1669879400"]) == 2
    assert "--interval, --cron or --jitter" in capsys.readouterr().err
