"""The persistent job store: APScheduler's SQLAlchemyJobStore, SQLite in the home by default."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

TABLE = "apscheduler_jobs"
BATCH_ROWS = 5000  # jobs written per statement by a batch


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


class BatchingJobStore(SQLAlchemyJobStore):
    """APScheduler's store, able to add many jobs at once (``batch``): a first start with 200,000
    accounts then writes them in 40 statements, not in 200,000 commits."""

    _batch: list[dict[str, Any]] | None = None
    _ids: set[str] = set()
    due_limit: int | None = None  # set by the scheduler: at most this many due jobs per look

    def get_due_jobs(self, now: dt.datetime) -> list[Job]:
        """The earliest ``due_limit`` due jobs (all if None): at a first start with 200,000 due,
        only the few a free worker can take are unpickled; the rest stay due in the store."""
        if self.due_limit is None:
            return super().get_due_jobs(now)
        due = (select(self.jobs_t.c.id).where(self.jobs_t.c.next_run_time <= datetime_to_utc_timestamp(now))
               .order_by(self.jobs_t.c.next_run_time).limit(self.due_limit))
        with self.engine.connect() as conn:
            ids = list(conn.execute(due).scalars())
        return self._get_jobs(self.jobs_t.c.id.in_(ids)) if ids else []

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Jobs added inside are written a few thousand per statement."""
        with self.engine.connect() as conn:
            self._ids = {str(i) for i in conn.execute(select(self.jobs_t.c.id)).scalars()}
        self._batch = []
        try:
            yield
            self._flush()
        finally:
            self._batch, self._ids = None, set()

    def _flush(self) -> None:
        if self._batch:
            with self.engine.begin() as conn:
                conn.execute(self.jobs_t.insert(), self._batch)
            self._batch.clear()

    def add_job(self, job: Job) -> None:
        if self._batch is None:
            return super().add_job(job)
        if job.id in self._ids:
            raise ConflictingIdError(job.id)  # APScheduler then replaces it, as without a batch
        self._ids.add(job.id)
        self._batch.append({"id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)})
        if len(self._batch) >= BATCH_ROWS:  # written as it goes: memory stays flat
            self._flush()
        return None


def job_store(url: str) -> BatchingJobStore:
    return BatchingJobStore(engine=make_engine(url), tablename=TABLE)


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
