"""The face's way to run harvests: from registered accounts and settings to crawler jobs."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any

from filelock import FileLock, Timeout

from catalog.accounts import Account, AccountRegistry
from catalog.backfills import Backfills
from catalog.db import Database
from catalog.rebuild import repair
from catalog.runs import RunLog
from crawler.harvest import run_harvests
from crawler.job import HarvestJob, HarvestSummary
from crawler.settings import Politeness
from schedules.lock import account_lock_path
from weidang.home import Home
from weidang.indexing import index_harvest
from weidang.settings import Settings
from weidang.skipped import HarvestSkipped
from weidang.store import (
    capture_writer,
    catalog_db,
    credential_store,
    open_collection,
    quarantine_warnings,
    recover_and_warn,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def politeness(settings: Settings) -> Politeness:
    return Politeness(delay=settings["CRAWLER_DELAY_SECONDS"],
                      concurrency_per_host=settings["CRAWLER_CONCURRENCY_PER_HOST"],
                      retries=settings["CRAWLER_RETRIES"],
                      backoff_base=settings["CRAWLER_BACKOFF_SECONDS"],
                      timeout=settings["CRAWLER_TIMEOUT_SECONDS"],
                      give_up=settings["CRAWLER_UNREACHABLE_GIVE_UP_SECONDS"],
                      autothrottle=settings["CRAWLER_DELAY_SECONDS"] > 0)


def harvest_id(account: Account, now: datetime) -> str:
    return f"{account.platform}-{account.account_id}-{now.strftime('%Y%m%dT%H%M%S%fZ')}"


def job_credentials(fields: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Credential fields as a job takes them: texts stay texts, a list (``urls``) stays a list."""
    return {k: [str(item) for item in v] if isinstance(v, list | tuple) else str(v)
            for k, v in fields.items()}


@contextmanager
def account_locks(home: Home, keys: Sequence[str]) -> Iterator[None]:
    """One harvest of an account at a time, across processes (the daemon's and a manual one)."""
    folder = home.root / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for key in sorted(keys):
            lock = FileLock(str(account_lock_path(folder, key)))
            try:
                # a second's patience: `weidang status` may be asking the lock at this instant
                stack.enter_context(lock.acquire(timeout=1))
            except Timeout:
                raise HarvestSkipped(f"{key} is being harvested by another weidang process right "
                                     "now; wait for that harvest to finish", key, "busy") from None
        yield


def harvest_accounts(home: Home, settings: Settings, keys: Sequence[str], *, full: bool = False,
                     demo: bool = False, force: bool = False, clock: Callable[[], datetime] = utc_now,
                     progress: Callable[[str, int], None] | None = None) -> list[HarvestSummary]:
    """Harvest registered accounts in this process (once per process: Scrapy's reactor).

    In a demo home every WARC file is marked as demo data, whoever starts the harvest (the demo
    itself or the daemon's child processes)."""
    demo = demo or home.is_demo()
    db = catalog_db(home, settings)
    registry = AccountRegistry(db, via="harvest")
    runs = RunLog(db, clock)
    store = credential_store(home, settings)
    jobs, secrets = [], []
    for key in keys:
        account = registry.get(key)
        if not account.active:
            raise HarvestSkipped(f"{key} was removed from the register; add it again to harvest it",
                                 key, "removed")
        credentials: dict[str, str | list[str]] = {}
        if account.credentials:
            found = store.get(account.credentials)
            credentials = job_credentials(found.fields)
            secrets += list(found.secrets)
        paused = runs.pauses_for(key, account.credentials, clock())
        if paused and not force:
            p = paused[0]
            advice = p.advice or "wait until the pause ends"
            raise HarvestSkipped(f"{key} is paused ({p.reason}); {advice} (or use --force once the "
                                 "cause is fixed)", key, "paused", p)
        for p in paused:
            runs.clear(p.scope)
        backfill, cursor = backfill_plan(db, runs, key, full)
        jobs.append(HarvestJob(
            platform=account.platform, account_id=account.account_id,
            harvest_id=harvest_id(account, clock()), mode="full" if full else "incremental",
            max_pages=settings["CRAWLER_FULL_MAX_PAGES"], recheck_days=settings["CRAWLER_RECHECK_DAYS"],
            credentials=credentials, credentials_ref=account.credentials or "",
            source=account.source,
            proxy=settings["CRAWLER_PROXY"], backfill=backfill, cursor=cursor))
    with account_locks(home, keys):
        return _run(home, settings, db, jobs, keys, secrets, demo=demo, clock=clock, progress=progress)


def backfill_plan(db: Database, runs: RunLog, key: str, full: bool) -> tuple[str, dict[str, Any]]:
    """Whether this harvest begins a backfill, goes on with one (from where), or is incremental.

    ``--full`` and an account's first harvest begin one; it goes on at each harvest until its
    walk reaches the end of the listing. An account harvested whole before backfills were
    recorded (a run that walked its listing to the end) needs none.
    """
    state = Backfills(db).get(key)
    if full:
        return "start", {}
    if state is None:
        walked = any(r.outcome == "ok" or (r.outcome == "partial" and not r.reason)
                     for r in runs.history(key, 1000))
        return ("", {}) if walked else ("start", {})
    if state.finished:
        return "", {}
    return ("resume", state.cursor) if state.cursor else ("start", {})


def _run(home: Home, settings: Settings, db: Database, jobs: list[HarvestJob], keys: Sequence[str],
         secrets: list[str], *, demo: bool, clock: Callable[[], datetime],
         progress: Callable[[str, int], None] | None) -> list[HarvestSummary]:
    collection = open_collection(home, create=True)
    info = {"weidang-harvest-id": ", ".join(j.harvest_id for j in jobs),
            "weidang-accounts": ", ".join(keys), "operator-host": socket.gethostname()}
    if demo:
        info["weidang-demo"] = "true"
    # the writer's own recovery then finds nothing left: what was set aside is told here
    warnings = quarantine_warnings(collection, recover_and_warn(collection))
    with capture_writer(collection, settings, info, secret_values=secrets) as writer:
        repair(db.conn, collection)  # versions a crashed harvest wrote to the WARC but not the catalog
        summaries = run_harvests(jobs, writer=writer, db=db, politeness=politeness(settings),
                                 clock=clock, progress=progress)
    for summary in summaries:
        summary.files = list(writer.files_closed)
        summary.warnings += warnings  # the daemon alerts on them (schedules.outcome)
    index_harvest(home, settings)  # searchable at once; a failure only warns
    return summaries
