"""Account lists in TOML, CSV (UTF-8, BOM or not, GBK) and XLSX: round trips, all-or-nothing import."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from catalog.account_files import export_accounts, import_accounts, read_account_file
from catalog.accounts import AccountRegistry
from catalog.db import open_catalog
from catalog.errors import AccountFileError

EXAMPLE = Path(__file__).parent.parent / "schedules" / "accounts.example.toml"
HEADER = "account,name,credentials,source,interval,cron,jitter,notes\n"
ROWS = ("weibo:1669879400,国家档案局,gov_weibo_login,,6h,,10m,每六小时\n"
        "wechat:MzAxMzgxNzUxOA==,某县人民政府,county_wechat,backend,,30 6 * * *,,\"早上，六点半\"\n")


@pytest.fixture
def registry(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite") as db:
        yield AccountRegistry(db, actor="archivist")


def _snapshot(registry):
    return [(a.key, a.name, a.credentials, a.source, a.interval_seconds, a.cron, a.jitter_seconds, a.notes)
            for a in registry.list()]


def test_example_file_imports_and_reimport_changes_nothing(registry):
    first = import_accounts(registry, EXAMPLE)
    assert len(first.added) == 3 and first.updated == []
    again = import_accounts(registry, EXAMPLE)
    assert again.added == [] and len(again.unchanged) == 3
    assert len(registry.list()) == 3 and len(registry.events()) == 3
    assert {e.via for e in registry.events()} == {"import accounts.example.toml"}
    assert registry.get("weibo:1669879400").name == "国家档案局"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_from_excel_in_any_of_its_encodings(registry, tmp_path, encoding):
    path = tmp_path / "accounts.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    assert len(import_accounts(registry, path).added) == 2
    wechat = registry.get("wechat:MzAxMzgxNzUxOA==")
    assert (wechat.name, wechat.source, wechat.cron, wechat.notes) == (
        "某县人民政府", "backend", "30 6 * * *", "早上，六点半")


def test_chinese_headings_are_read(registry, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_text("账号,名称,间隔\nweibo:1669879400,国家档案局,1d\n", encoding="gbk")
    import_accounts(registry, path)
    assert registry.get("weibo:1669879400").interval_seconds == 86400


@pytest.mark.parametrize("suffix", [".toml", ".csv", ".xlsx"])
def test_round_trip_keeps_every_field_and_chinese(registry, tmp_path, suffix):
    source = tmp_path / "in.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    import_accounts(registry, source)
    before = _snapshot(registry)
    out = tmp_path / f"out{suffix}"
    assert export_accounts(registry.list(), out) == 2
    with open_catalog(tmp_path / "other.sqlite") as other_db:
        other = AccountRegistry(other_db)
        assert len(import_accounts(other, out).added) == 2
        assert _snapshot(other) == before
    assert len(import_accounts(registry, out).unchanged) == 2  # idempotent on the same catalog


def test_exported_csv_has_a_bom_and_xlsx_keeps_ids_as_text(registry, tmp_path):
    import_accounts(registry, EXAMPLE)
    export_accounts(registry.list(), tmp_path / "a.csv")
    raw = (tmp_path / "a.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfaccount,name,") and "国家档案局".encode() in raw
    export_accounts(registry.list(), tmp_path / "a.xlsx")
    sheet = load_workbook(tmp_path / "a.xlsx").active
    assert [c.value for c in sheet[1]] == ["account", "name", "credentials", "source", "interval",
                                           "cron", "jitter", "notes", "browser", "comments"]
    assert sheet["A2"].number_format == "@"


def test_xlsx_written_by_excel_with_numbers_in_cells(registry, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["account", "name", "interval", "jitter"])
    sheet.append(["weibo:1669879400", "国家档案局", 3600.0, 300])
    sheet.append([None, None, None, None])  # an empty row Excel leaves behind
    sheet.append(["wechat:gh_6bab8b88e75e", "示例档案馆", "12h", None])
    book.save(tmp_path / "list.xlsx")
    result = import_accounts(registry, tmp_path / "list.xlsx")
    assert result.added == ["weibo:1669879400", "wechat:gh_6bab8b88e75e"]
    weibo = registry.get("weibo:1669879400")
    assert (weibo.interval_seconds, weibo.jitter_seconds) == (3600, 300)


def test_bad_rows_are_all_reported_and_nothing_is_written(registry, tmp_path):
    registry.add("weibo:1669879400", name="before")
    path = tmp_path / "list.csv"
    path.write_text(HEADER
                    + "weibo:1669879400,after,,,,,,\n"
                    + "weibo:12ab,坏账号,,,,,,\n"
                    + "wechat:MzAxMzgxNzUxOA==,x,,sogou,,,,\n"
                    + "weibo:1234567,x,SUB=_2A25abcdefgh; SUBP=0033WrSXqPx,,,,,\n"
                    + "weibo:1669879400,again,,,,,,\n", encoding="utf-8-sig")
    with pytest.raises(AccountFileError) as caught:
        import_accounts(registry, path)
    message = str(caught.value)
    assert message.startswith("list.csv was not imported and nothing was changed, because 4 row(s)")
    for expected in ("row 3: '12ab' is not a valid weibo account id",
                     "row 4: 'sogou' is not a wechat listing source",
                     "row 5: the credentials value looks like a secret",
                     "row 6: weibo:1669879400 is listed again (first in row 2)"):
        assert expected in message
    assert "\n" not in message and "2A25abcdefgh" not in message
    assert registry.get("weibo:1669879400").name == "before" and len(registry.list()) == 1
    assert len(registry.events()) == 1


def test_a_column_left_out_keeps_the_field_and_an_empty_cell_clears_it(registry, tmp_path):
    registry.add("weibo:1669879400", name="国家档案局", notes="keep", interval="6h")
    path = tmp_path / "list.csv"
    path.write_text("account,interval\nweibo:1669879400,\n", encoding="utf-8")
    assert import_accounts(registry, path).updated == ["weibo:1669879400"]
    account = registry.get("weibo:1669879400")
    assert (account.name, account.notes, account.interval_seconds) == ("国家档案局", "keep", None)


def test_import_restores_a_removed_account(registry, tmp_path):
    registry.add("weibo:1669879400")
    registry.remove("weibo:1669879400")
    path = tmp_path / "list.toml"
    path.write_text('[[accounts]]\naccount = "weibo:1669879400"\nname = "国家档案局"\n', encoding="utf-8")
    assert import_accounts(registry, path).restored == ["weibo:1669879400"]
    assert registry.get("weibo:1669879400").active


@pytest.mark.parametrize("name, content, message", [
    ("list.txt", "x", "use a file ending in .toml, .csv, .xlsx"),
    ("list.csv", "uid,name\n1,x\n", "first row should name the columns"),
    ("list.csv", "", "empty"),
    ("list.toml", "[settings]\n", "no [[accounts]] entries"),
    ("list.toml", "[[accounts]\n", "not valid UTF-8 TOML"),
    ("list.xlsx", "not a zip", "cannot be read as an Excel workbook"),
])
def test_unreadable_files_say_why(registry, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AccountFileError, match=message.replace("[", r"\[").replace(".", r"\.")):
        read_account_file(path)


def test_the_readme_example_imports(registry, tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Registering accounts")[1].split("```csv\n")[1].split("```")[0]
    (tmp_path / "readme.csv").write_text(example, encoding="utf-8")
    assert len(import_accounts(registry, tmp_path / "readme.csv").added) == 2
    assert registry.get("wechat:MzAxMzgxNzUxOA==").cron == "30 6 * * *"


def test_the_browser_switch_goes_in_and_out_of_account_lists(registry, tmp_path):
    (tmp_path / "in.csv").write_text("账号,浏览器采集\nweibo:1669879400,关\nweibo:1669879401,\n"
                                     "weibo:1669879402,on\n", encoding="utf-8")
    import_accounts(registry, tmp_path / "in.csv")
    assert [a.browser for a in registry.list()] == [False, True, True]
    export_accounts(registry.list(), tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.rsplit(",", 2)[1] for line in lines] == ["browser", "off", "on", "on"]
    (tmp_path / "bad.csv").write_text("account,browser\nweibo:1669879400,maybe\n", encoding="utf-8")
    with pytest.raises(AccountFileError, match="browser 'maybe' is neither on nor off"):
        import_accounts(registry, tmp_path / "bad.csv")


def test_the_comments_switch_is_off_unless_a_list_turns_it_on(registry, tmp_path):
    (tmp_path / "in.csv").write_text("账号,评论采集\nweibo:1669879400,开\nweibo:1669879401,\n"
                                     "weibo:1669879402,off\n", encoding="utf-8")
    import_accounts(registry, tmp_path / "in.csv")
    assert [a.comments for a in registry.list()] == [True, False, False]
    export_accounts(registry.list(), tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines] == ["comments", "on", "off", "off"]
    (tmp_path / "bad.csv").write_text("account,comments\nweibo:1669879400,maybe\n", encoding="utf-8")
    with pytest.raises(AccountFileError, match="comments 'maybe' is neither on nor off"):
        import_accounts(registry, tmp_path / "bad.csv")
