"""A real harvest through the emulator with the catalog on SQLite and on PostgreSQL
(``CATALOG_URL``), then a rebuild from the WARC files that gives the same rows."""

from __future__ import annotations

from catalog_helpers import derived_tables
from crawler_helpers import Archive


def test_a_harvest_and_a_rebuild_give_the_same_rows_on_either_database(emulator, catalogs, tmp_path):
    account = f"weibo:{emulator.world()['weibo'][0]['uid']}"
    url = "" if catalogs.dialect == "sqlite" else str(catalogs.target())
    archive = Archive(tmp_path / "home", emulator, catalog_url=url)
    archive.add(account)
    summary, done = archive.harvest(account)
    assert done.returncode == 0 and summary["outcome"] == "ok", done.stderr
    assert summary["posts_new"] == 25
    with archive.catalog() as db:
        assert db.dialect == catalogs.dialect
        live = derived_tables(db)
    assert len(live["posts"]) == 25 and len(live["captures"]) == 25
    assert archive.rows("SELECT outcome, posts_new FROM runs WHERE account = ?", account) == [("ok", 25)]
    # On a server, the home holds no catalog file.
    assert (archive.root / "catalog.sqlite").exists() == (catalogs.dialect == "sqlite")

    archive.weidang("catalog", "rebuild", check=True)
    with archive.catalog() as db:
        assert derived_tables(db) == live
    status = archive.weidang("status", check=True)
    assert account in status.stdout and "ok" in status.stdout
    found = archive.weidang("search", "--account", account, "--json", "--limit", "100", check=True)
    assert len(found.stdout.splitlines()) == 25
