"""`weidang search` on the demo's archive: citations, the demo mark, filters, exports, errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from weidang.cli import main
from weidang.home import Home
from weidang.indexing import search_example

WEIDANG = str(Path(sys.executable).with_name("weidang"))
CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    """The demo's home: its harvests indexed their posts as they went."""
    home = tmp_path_factory.mktemp("search-demo") / "demo"
    done = subprocess.run([WEIDANG, "demo", "--home", str(home)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return home


def search(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--home", str(home), "search", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def as_json(capsys, home: Path, *args: str) -> list[dict]:
    code, out, err = search(capsys, home, *args, "--json", "--limit", "1000")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_human_output_carries_every_citation_and_says_demo(demo_home, capsys):
    code, out, _ = search(capsys, demo_home, "应急管理", "--limit", "3")
    assert code == 0
    first = as_json(capsys, demo_home, "应急管理")
    assert out.startswith(f"{len(first)} post versions match 应急管理; the best 3:")
    assert "DEMO DATA" in out and "never cite them" in out
    block = out.split("\n\n1. ")[1].split("\n\n")[0]
    hit = first[0]
    for value in (hit["platform"], hit["account_name"], hit["account_id"], hit["url"],
                  hit["warc_file"], hit["warc_record_id"], hit["payload_sha256"]):
        assert value and value in block
    published = dt.datetime.fromisoformat(hit["published_at"]).astimezone(CHINA)
    captured = dt.datetime.fromisoformat(hit["captured_at"]).astimezone(dt.UTC)
    assert f"published {published.isoformat(timespec='seconds')}" in block
    assert f"captured {captured.strftime('%Y-%m-%dT%H:%M:%S')}Z" in block
    assert "«应急管理»" in block and "DEMO DATA" in block.splitlines()[0]
    assert f"{len(first) - 3} more: raise --limit, or --export FILE for all." in out


def test_json_prints_one_result_per_line(demo_home, capsys):
    code, out, _ = search(capsys, demo_home, "档案", "--json", "--limit", "2")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    for line in lines:
        hit = json.loads(line)
        assert hit["demo"] is True and "档案" in hit["snippet"] and hit["highlights"]
        assert hit["platform"] in ("weibo", "wechat") and len(hit["payload_sha256"]) == 64
    everything = as_json(capsys, demo_home, "档案")
    assert len(everything) > 2 and all("档案" in h["snippet"] for h in everything)


def test_filters_narrow_the_results(demo_home, capsys):
    every = as_json(capsys, demo_home, "疫情")
    platforms = {h["platform"] for h in every}
    assert platforms == {"weibo", "wechat"}
    wechat = as_json(capsys, demo_home, "疫情", "--platform", "wechat")
    assert wechat and {h["platform"] for h in wechat} == {"wechat"}
    assert len(wechat) == sum(h["platform"] == "wechat" for h in every)
    name = wechat[0]["account_name"]
    assert {h["doc_id"] for h in as_json(capsys, demo_home, "疫情", "--account", name)} == \
        {h["doc_id"] for h in wechat}
    weibo_key = next(f"weibo:{h['account_id']}" for h in every if h["platform"] == "weibo")
    by_key = as_json(capsys, demo_home, "疫情", "--account", weibo_key)
    assert by_key and len(by_key) == len(every) - len(wechat)
    days = sorted(dt.datetime.fromisoformat(h["published_at"]).astimezone(CHINA).date()
                  for h in every)
    middle = days[len(days) // 2]
    since = as_json(capsys, demo_home, "疫情", "--since", middle.isoformat())
    until = as_json(capsys, demo_home, "疫情", "--until", middle.isoformat())
    assert since and until and len(since) + len(until) == len(every) + days.count(middle)
    assert all(dt.datetime.fromisoformat(h["published_at"]).astimezone(CHINA).date() >= middle
               for h in since)
    # the demo deletes one WeChat article and edits one Weibo post between its scheduled runs
    deleted = as_json(capsys, demo_home, "", "--status", "deleted")
    assert [(h["platform"], h["status"]) for h in deleted] == [("wechat", "deleted")]
    live = as_json(capsys, demo_home, "疫情", "--status", "live")
    edited = as_json(capsys, demo_home, "疫情", "--status", "edited")
    gone = [h for h in every if h["status"] == "deleted"]
    assert len(live) + len(edited) + len(gone) == len(every)
    assert {h["status"] for h in live} == {"live"} and {h["status"] for h in edited} <= {"edited"}
    code, out, _ = search(capsys, demo_home, "--status", "blocked")
    assert code == 0 and out.strip() == "0 post versions match the filters."


def test_export_writes_every_result_in_each_format(demo_home, capsys, tmp_path):
    every = as_json(capsys, demo_home, "档案")
    ids = {h["doc_id"] for h in every}
    assert len(ids) > 20  # more than one page of the default --limit
    code, out, _ = search(capsys, demo_home, "档案", "--export", str(tmp_path / "r.csv"))
    assert code == 0 and out.strip() == f"Wrote {len(ids)} results to {tmp_path / 'r.csv'}."
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Chinese
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert {r["doc_id"] for r in rows} == ids and {r["demo"] for r in rows} == {"yes"}
    assert all("«档案»" in r["snippet"] and r["warc_record_id"] for r in rows)

    assert search(capsys, demo_home, "档案", "--export", str(tmp_path / "r.json"))[0] == 0
    lines = [json.loads(line) for line in (tmp_path / "r.json").read_text("utf-8").splitlines()]
    assert {r["doc_id"] for r in lines} == ids and all(r["demo"] is True for r in lines)

    assert search(capsys, demo_home, "档案", "--export", str(tmp_path / "r.xlsx"))[0] == 0
    sheet = load_workbook(tmp_path / "r.xlsx", read_only=True).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    header = list(table[0])
    assert {row[header.index("doc_id")] for row in table[1:]} == ids
    by_id = {h["doc_id"]: h for h in every}
    for row in table[1:]:
        hit = by_id[row[header.index("doc_id")]]
        assert row[header.index("payload_sha256")] == hit["payload_sha256"]
        assert row[header.index("url")] == hit["url"]


@pytest.mark.parametrize("args, words", [
    (["x", "--since", "2024-13-01"], "--since 2024-13-01 is not a date"),
    (["x", "--until", "yesterday"], "--until yesterday is not a date"),
    (["x", "--status", "gone"], "Status 'gone' is unknown; use one of live, edited"),
    (["x", "--platform", "douyin"], "platform 'douyin' is unknown"),
    (["x", "--since", "2024-03-02", "--until", "2024-03-01"], "since date comes after the until"),
    (["x", "--export", "out.pdf"], "Cannot export to out.pdf: use a .csv"),
    (["x", "--limit", "0"], "--limit must be between 1 and"),
])
def test_errors_are_one_sentence(demo_home, capsys, args, words):
    code, out, err = search(capsys, demo_home, *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("Error: ") and err.rstrip().endswith(".")
    assert words in err


def test_an_unreachable_cluster_is_one_sentence(demo_home, capsys):
    capsys.readouterr()
    code = main(["--home", str(demo_home), "--set", "CATALOG_SEARCH_BACKEND=elasticsearch",
                 "--set", "CATALOG_SEARCH_ES_URL=http://127.0.0.1:9",
                 "--set", "CATALOG_SEARCH_ES_MAX_RETRIES=0", "search", "疫情"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("Error: The Elasticsearch cluster at http://127.0.0.1:9 cannot be reached")


def test_an_empty_index_says_how_to_build_it(tmp_path, capsys):
    code, out, _ = search(capsys, tmp_path / "fresh", "疫情")
    assert code == 0 and "The search index is empty: run `weidang index rebuild`" in out


def test_search_example_for_the_demo(demo_home, capsys):
    lines = search_example(Home(demo_home), Home(demo_home).settings(), "应急管理")
    total = len(as_json(capsys, demo_home, "应急管理"))
    assert lines[0] == f"weidang search 应急管理: {total} post versions match 应急管理; the best 3:"
    assert sum(line.startswith(("1. ", "2. ", "3. ")) for line in lines) == 3
    assert any("«应急管理»" in line for line in lines)
    assert any(line.strip().startswith("payload SHA-256 ") for line in lines)


def test_a_total_beyond_the_cap_says_at_least(demo_home, capsys, tmp_path, monkeypatch):
    from catalog.search import sqlite_fts

    every = as_json(capsys, demo_home, "档案")
    assert every[0]["total"] == len(every) and every[0]["total_is_exact"] is True
    monkeypatch.setattr(sqlite_fts, "TOTAL_CAP", 5)
    code, out, _ = search(capsys, demo_home, "档案", "--limit", "2")
    assert code == 0 and out.startswith("5+ post versions match 档案; the best 2:")
    assert "\nAt least 3 more: raise --limit, or --export FILE for all." in out
    capped = as_json(capsys, demo_home, "档案")
    assert {(h["total"], h["total_is_exact"]) for h in capped} == {(5, False)}
    assert search(capsys, demo_home, "档案", "--export", str(tmp_path / "r.json"))[0] == 0
    assert len((tmp_path / "r.json").read_text("utf-8").splitlines()) == len(every)


def test_the_tantivy_index_answers_as_the_default_one(demo_home, capsys):
    def weidang(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["--home", str(demo_home), "--set", "CATALOG_SEARCH_BACKEND=tantivy", *args])
        return code, capsys.readouterr().out

    assert weidang("index", "rebuild")[0] == 0
    assert (demo_home / "index" / "search.tantivy" / "current").is_symlink()
    code, out = weidang("index", "status")
    assert code == 0 and "as many as the catalog" in out
    for query in ("应急管理", "档案", "疫情 通知", "档"):
        default = as_json(capsys, demo_home, query)
        code, out = weidang("search", query, "--json", "--limit", "1000")
        other = [json.loads(line) for line in out.splitlines()]
        assert default and {h["doc_id"] for h in other} == {h["doc_id"] for h in default}, query
        assert {h["total"] for h in other} == {len(default)}
        assert [h["score"] for h in other] == sorted((h["score"] for h in other), reverse=True)
    code, out = weidang("search", "应急管理", "--limit", "3")
    assert code == 0 and "«应急管理»" in out and "DEMO DATA" in out
