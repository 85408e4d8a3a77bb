"""`weidang index rebuild`: the index recreated from the catalog equals the one harvests built
as they went; a harvest whose index is down keeps its captures, and a rebuild catches up."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from search_archive import Harvested, harvested_archive  # noqa: F401 - the fixture

from catalog.search.sqlite_fts import SqliteSearchIndex

WEIDANG = str(Path(sys.executable).with_name("weidang"))
QUERIES = ("疫情", "档案", "应急管理", "“一网通办”", "疫情 档案", "")


def _answers(index: SqliteSearchIndex) -> dict[str, tuple[int, list[tuple[str, float, str]]]]:
    out = {}
    for query in QUERIES:
        results = index.search(query, limit=1000)
        out[query] = (results.total, sorted((h.doc_id, round(h.score, 6), h.snippet)
                                            for h in results.hits))
    return out


def test_rebuild_gives_what_incremental_indexing_gave(harvested: Harvested):
    before_docs = harvested.indexed()
    index = harvested.index()
    try:
        before = _answers(index)
    finally:
        index.close()
    done = harvested.archive.weidang("index", "rebuild", check=True)
    assert f"from the catalog: {len(before_docs)} post versions" in done.stdout
    assert harvested.indexed() == before_docs
    index = harvested.index()
    try:
        assert _answers(index) == before and before["疫情"][0] > 0
    finally:
        index.close()
    status = harvested.archive.weidang("index", "status", check=True)
    assert f"It holds {len(before_docs)} post versions, as many as the catalog." in status.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _weidang(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WEIDANG, *args], capture_output=True, text=True, timeout=120)


def test_harvest_with_the_index_down_keeps_its_captures_and_rebuild_catches_up(tmp_path):
    home = tmp_path / "demo"
    down = ["--set", "CATALOG_SEARCH_BACKEND=elasticsearch",
            "--set", f"CATALOG_SEARCH_ES_URL=http://127.0.0.1:{_closed_port()}",
            "--set", "CATALOG_SEARCH_ES_MAX_RETRIES=0"]
    demo = _weidang(*down, "demo", "--home", str(home))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "all checks passed" in demo.stdout
    warning = [line for line in demo.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "captures are safe" in warning[0]
    assert "cannot be reached" in warning[0] and "`weidang index rebuild`" in warning[0]

    # the cluster is still down: a rebuild says so in one sentence
    failed = _weidang("--home", str(home), *down, "index", "rebuild")
    errors = [line for line in failed.stderr.splitlines() if line.startswith("Error:")]
    assert failed.returncode == 1 and len(errors) == 1 and "cannot be reached" in errors[0]

    # the embedded index never saw the posts; a rebuild brings them all in
    with sqlite3.connect(home / "catalog.sqlite") as catalog:
        versions = catalog.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert versions >= 20
    behind = _weidang("--home", str(home), "index", "status")
    assert behind.returncode == 1
    assert f"It holds 0 post versions, the catalog {versions}" in behind.stdout
    rebuilt = _weidang("--home", str(home), "index", "rebuild")
    assert rebuilt.returncode == 0 and f" {versions} post versions" in rebuilt.stdout
    assert _weidang("--home", str(home), "index", "status").returncode == 0
    found = _weidang("--home", str(home), "search", "疫情", "--json", "--limit", "100")
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits and all(h["demo"] is True and "疫情" in h["snippet"] for h in hits)
