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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalog.db import Database
from catalog.schema import backfills, catalog_events, iso, upsert, utc_now

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
    """Backfill progress of an open catalog."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock

    def get(self, account: str) -> Backfill | None:
        with self.db.read() as conn:
            row = conn.execute(select(backfills).where(backfills.c.account == account)).first()
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
        progress = {"updated_at": now, "finished_at": now if finished else None, "cursor": encoded,
                    "last_run_id": run_id}
        with self.db.write() as conn:
            if begun:
                upsert(conn, backfills, {"account": account, "origin_run_id": run_id,
                                         "started_at": now, "pages": pages, "runs": 1, **progress},
                       keys=("account",))
            else:
                conn.execute(backfills.update().where(backfills.c.account == account).values(
                    pages=backfills.c.pages + pages, runs=backfills.c.runs + 1, **progress))
            action = "backfill finished" if finished else (
                "backfill started" if begun else "backfill continued")
            conn.execute(catalog_events.insert().values(
                at=now, subject=account, action=action,
                details=json.dumps(details, ensure_ascii=False, sort_keys=True)))
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
