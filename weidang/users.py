"""The face's way to the users of the catalog: a SQLAlchemy engine on the catalog file.

Today's catalog is opened with sqlite3 (``catalog.db``); users are written through SQLAlchemy
Core on the same file, so that they move with the catalog when it moves to SQLAlchemy.
"""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy import Engine, create_engine, event

from catalog.users import create_users_table
from weidang.home import Home
from weidang.settings import Settings
from weidang.store import catalog_db, home_path


def catalog_engine(home: Home, settings: Settings) -> Engine:
    """An engine on the home's catalog file, with the users' tables present."""
    catalog_db(home, settings).close()  # the catalog exists, migrated, in WAL mode
    path = home_path(home, settings, "CATALOG_DB_FILE")
    # timeout: a harvest may hold the write lock for a moment; wait rather than fail a login.
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    event.listen(engine, "connect", _pragmas)
    with engine.begin() as conn:
        create_users_table(conn)
    return engine


def cli_actor() -> str:
    """Who made a change from the command line, for the users' event log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
