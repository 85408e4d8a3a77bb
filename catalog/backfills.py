"""How far each account's backfill has walked its listing: authoritative, every change logged.

The first harvest of an account (and every ``--full`` one) is a backfill: it walks the account's
listing from the top, at most ``CRAWLER_FULL_MAX_PAGES`` pages per run, and the next harvests go
on from where it stopped (the cursor: the next page's paging parameters, never a login) until the
listing ends. Nothing else knows where a backfill stands, so this table is kept through rebuilds
and every change is written to ``catalog_events`` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.db import Database
from catalog.store import ensure_schema, iso, utc_now, write

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Backfill:
    account: str
    origin_run_id: str
    started_at: str
    updated_at: str
    finished_at: str | None
    cursor: dict[str, Any] | None
    pages: int
    runs: int
    last_run_id: str | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class Backfills:
    """Backfill progress over an open catalog connection."""

    def __init__(self, conn: sqlite3.Connection | Database, clock: Clock = utc_now) -> None:
        self.conn = conn.conn if isinstance(conn, Database) else conn
        self.clock = clock
        ensure_schema(self.conn)

    def get(self, account: str) -> Backfill | None:
        row = self.conn.execute(
            "SELECT account, origin_run_id, started_at, updated_at, finished_at, cursor, pages, "
            "runs, last_run_id FROM backfills WHERE account = ?", (account,)).fetchone()
        if row is None:
            return None
        return Backfill(row[0], row[1], row[2], row[3], row[4],
                        json.loads(row[5]) if row[5] else None, int(row[6]), int(row[7]), row[8])

    def record(self, account: str, run_id: str, *, begun: bool, cursor: dict[str, Any] | None,
               finished: bool, pages: int) -> Backfill:
        """What one run did: ``begun`` from the top (a new backfill) or went on from the cursor;
        ``cursor`` is where the next run goes on; ``pages`` the listing pages it walked."""
        now = iso(self.clock())
        encoded = json.dumps(cursor, sort_keys=True) if cursor and not finished else None
        details = {"run_id": run_id, "cursor": cursor if encoded else None, "pages": pages,
                   "finished": finished}
        with write(self.conn) as conn:
            if begun:
                conn.execute(
                    "INSERT INTO backfills (account, origin_run_id, started_at, updated_at, "
                    "finished_at, cursor, pages, runs, last_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) "
                    "ON CONFLICT (account) DO UPDATE SET origin_run_id = excluded.origin_run_id, "
                    "started_at = excluded.started_at, updated_at = excluded.updated_at, "
                    "finished_at = excluded.finished_at, cursor = excluded.cursor, "
                    "pages = excluded.pages, runs = 1, last_run_id = excluded.last_run_id",
                    (account, run_id, now, now, now if finished else None, encoded, pages, run_id))
            else:
                conn.execute(
                    "UPDATE backfills SET updated_at = ?, finished_at = ?, cursor = ?, "
                    "pages = pages + ?, runs = runs + 1, last_run_id = ? WHERE account = ?",
                    (now, now if finished else None, encoded, pages, run_id, account))
            action = "backfill finished" if finished else (
                "backfill started" if begun else "backfill continued")
            conn.execute("INSERT INTO catalog_events (at, subject, action, details) "
                         "VALUES (?, ?, ?, ?)",
                         (now, account, action, json.dumps(details, ensure_ascii=False,
                                                           sort_keys=True)))
        found = self.get(account)
        assert found is not None
        return found


def progress_note(state: Backfill, captured: int | None, reported: int | None) -> str:
    """One sentence on where a backfill stands, for the harvest summary and ``weidang status``."""
    walked = (f"{state.pages:,} listing page{'s' if state.pages != 1 else ''} in {state.runs:,} "
              f"run{'s' if state.runs != 1 else ''}")
    if state.finished:
        return f"backfill finished: the whole listing was walked ({walked})"
    held = f"{captured or 0:,}" + (f" of {reported:,}" if reported else "")
    return f"backfill: {held} posts so far ({walked}), continuing at the next harvest"
