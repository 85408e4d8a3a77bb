"""Commands that only read the catalog answer while another process holds its write lock (a
harvest writing): ``weidang status``, a search with an account filter, ``weidang index status``."""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from catalog.accounts import AccountRegistry
from catalog.runs import RunLog
from catalog.schema import metadata
from weidang.cli import main


@pytest.fixture
def busy_home(catalogs, tmp_path):
    """A home with an account and a run, its catalog write-locked by another connection for the
    length of the test; yields the command line's first arguments."""
    target = catalogs.target()
    db = catalogs.open()
    AccountRegistry(db).add("weibo:1669879400", name="国家档案局")
    RunLog(db).finish(RunLog(db).start("weibo:1669879400"), "ok", posts_new=3)
    db.close()
    home = ["--home", str(tmp_path / "home")]
    if db.dialect == "sqlite":
        (tmp_path / "home").mkdir()
        args = [*home, "--set", f"CATALOG_DB_FILE={target}"]
        holder = sqlite3.connect(target, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # what a harvest's write takes
        holder.execute("INSERT INTO pauses (scope, reason, advice, since) "
                       "VALUES ('platform:weibo', 'x', '', '2026-01-01T00:00:00.000000Z')")
        yield args
        holder.execute("ROLLBACK")
        holder.close()
        return
    # A write would wait for the lock: let it give up after 5 s, so a regression fails.
    args = [*home, "--set", f"CATALOG_URL={target}{quote(' -clock_timeout=5000')}"]
    engine = create_engine(str(target))
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(2718281828)"))  # a writer's turn
        holder.execute(text(f"LOCK TABLE {', '.join(metadata.tables)} IN EXCLUSIVE MODE"))
        yield args
        holder.rollback()
    engine.dispose()


def test_read_only_commands_answer_while_a_harvest_holds_the_write_lock(busy_home, capsys):
    assert main([*busy_home, "status"]) == 0
    out = capsys.readouterr()
    assert "weibo:1669879400" in out.out and "国家档案局" in out.out and "ok" in out.out, out
    assert main([*busy_home, "search", "档案", "--account", "国家档案局"]) == 0
    out = capsys.readouterr()
    assert "Error" not in out.err, out
    main([*busy_home, "index", "status"])
    out = capsys.readouterr()
    assert "locked" not in out.err and "cannot be opened" not in out.err, out
