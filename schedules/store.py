"""The persistent job store: APScheduler's SQLAlchemyJobStore, SQLite in the home by default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

TABLE = "apscheduler_jobs"


def store_url(home: Path, setting: str) -> str:
    """The setting's SQLAlchemy URL, else ``sqlite:///HOME/schedules.sqlite``."""
    return setting or f"sqlite:///{home / 'schedules.sqlite'}"


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # WAL and NORMAL sync: adding 10,000 jobs takes seconds, not minutes of fsyncs.
        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    return engine


def job_store(url: str) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=make_engine(url), tablename=TABLE)


def next_run_times(url: str) -> dict[str, dt.datetime | None]:
    """Each job's next run, read without starting a scheduler (``weidang status``); {} if none yet.

    Two plain columns of APScheduler's own table (no catalog table), rather than the job store's
    ``get_all_jobs()``: that unpickles every job (importing the daemon; twice the time at 10,000
    jobs), creates the table when there is none, and deletes a job it cannot restore, and a
    read-only command must not change the store of a daemon that may be running.
    """
    engine = make_engine(url)
    table = Table(TABLE, MetaData(), Column("id", String(191)), Column("next_run_time", Float))
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.next_run_time)).fetchall()
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    return {str(job_id): dt.datetime.fromtimestamp(ts, dt.UTC) if ts is not None else None
            for job_id, ts in rows}
