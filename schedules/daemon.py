"""The daemon behind `weidang run`: harvests every account of the catalog on its schedule.

- APScheduler 3.x, one job per account (id ``platform:id``) in a persistent job store. Jobs are
  built from the catalog at start and re-synced every ``sync_seconds``, so accounts added,
  removed or rescheduled take effect without a restart.
- After downtime a missed run happens once: ``coalesce=True`` and no misfire limit by default
  (APScheduler 3's default of 1 s would skip it). At start, an account whose last run is older
  than its period, that never ran, or whose last run was cut off (kill -9, power loss) is due at
  once, whatever the job store says, so a killed daemon loses no run.
- At most one run per account (``max_instances=1``, and the face's per-account lock against a
  manual harvest), at most ``max_concurrent`` at once (the executor's threads).
- Each run is a child process (``child.py``), or with ``SCHEDULES_DISPATCH=queue`` a job for a
  ``weidang worker`` on the message queue (``dispatch_queue.py``), settled alike. Before starting
  it, the daemon skips accounts whose platform, login or self is paused, and accounts backed off
  after failing in a row (``decide.py``, pure). What a sync adds, replaces and removes is ``sync.py`` (pure).
- SIGTERM/SIGINT: no new work, one SIGTERM to each child (which gives up what it waits for,
  closes its WARC files and records ``partial`` within seconds: crawler/stopping.py), wait up
  to ``stop_timeout_seconds``, then SIGKILL (the WARC store recovers the file at the next start).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import random
import signal
import threading
import time
from typing import Any, ClassVar

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import STATE_PAUSED

from catalog.accounts import AccountRegistry
from catalog.db import Database
from catalog.runs import Run, RunLog
from catalog.schema import iso
from schedules.alerts import Alerts, daemon_logger
from schedules.child import SKIPS, ChildResult
from schedules.config import DaemonConfig, RunReport
from schedules.decide import Decision, decide
from schedules.dispatch import make_dispatch
from schedules.lock import DaemonLock
from schedules.outcome import settle
from schedules.plan import JobPlan, parse_time, runnable_plans
from schedules.scheduler import CountingExecutor, HoldingScheduler
from schedules.store import BatchingJobStore, job_store
from schedules.sync import Changes, Placement, changes, placement, problems_to_tell

MANY = 1000  # jobs to place at once beyond which every account's last run is read in one query


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_account(key: str) -> None:
    """The job function the store refers to (``schedules.daemon:run_account``)."""
    daemon = Daemon.current
    if daemon is not None:
        daemon.harvest(key)


class Daemon:
    current: ClassVar[Daemon | None] = None

    def __init__(self, config: DaemonConfig, clock: Any = utc_now,
                 logger: logging.Logger | None = None) -> None:
        self.config = config
        self.clock = clock
        self.log = logger or daemon_logger(config.log_dir, config.log_to_stderr)
        self.alerts = Alerts(self.log, config.webhook_url, config.webhook_timeout, config.say)
        self.lock = DaemonLock(config.home / "locks", config.catalog_path)
        self.reports: collections.deque[RunReport] = collections.deque(maxlen=10000)
        self.scheduler: HoldingScheduler | None = None
        self._store: BatchingJobStore | None = None
        self._executor: CountingExecutor | None = None
        self._signatures: dict[str, str] = {}  # job id (account) -> schedule signature (job name)
        self._bad_schedules: dict[str, str] = {}  # account -> why its stored schedule cannot run
        self._catalog_version: int | None = -1
        self.children = make_dispatch(config, self.log)  # local children or the queue's workers
        self._stop = threading.Event()
        self._stopping = threading.Event()
        self._lock_lost = False

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the lock, open the job store, sync it with the catalog (catching up), start."""
        self.lock.acquire()
        try:
            self._open_scheduler()
            self.sync(catch_up=True)
            assert self.scheduler is not None
            self.scheduler.resume()
        except BaseException:
            self._shutdown_scheduler()
            self.lock.release()
            raise
        self.log.info("daemon started: %d accounts scheduled, at most %d harvests at once, store %s",
                      len(self._signatures), self.config.max_concurrent,
                      _safe_url(self.config.store_url))

    def _open_scheduler(self) -> None:
        c = self.config
        grace = c.misfire_grace_seconds or None
        self._store = job_store(c.store_url)
        self._executor = CountingExecutor(max_workers=max(1, c.max_concurrent))
        self.scheduler = HoldingScheduler(
            jobstores={"default": self._store}, executors={"default": self._executor},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
            timezone=dt.UTC)
        self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED
                                    | EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start(paused=True)
        Daemon.current = self
        jobs = self.scheduler.get_jobs()
        self._signatures = {job.id: job.name for job in jobs}
        for job in jobs:  # a store written with other settings (APScheduler's 1 s grace ...)
            if (job.misfire_grace_time, job.coalesce, job.max_instances) != (grace, True, 1):
                job.modify(misfire_grace_time=grace, coalesce=True, max_instances=1)

    def run(self, until: float | None = None, once: bool = False, drain: bool = False) -> list[RunReport]:
        """Run until SIGTERM/SIGINT, ``until`` (a time.monotonic() value) or, with ``once``, until
        every run due at start is done; returns the reports of this session's runs. With
        ``drain``, reaching ``until`` starts no new harvest but lets running ones finish."""
        handlers = self._install_signals()
        self.start()
        try:
            started = self.clock()
            idle_since: float | None = None
            next_sync = time.monotonic() + self.config.sync_seconds
            while not self._stop.is_set():
                now = time.monotonic()
                if until is not None and now >= until:
                    if drain:
                        self._drain()
                    break
                if once and self._idle(max(started, self.clock())):
                    # Idle twice, half a second apart: a run being handed to the executor
                    # between the two looks is never cut off by the stop that follows.
                    if idle_since is not None and now - idle_since >= 0.5:
                        break
                    idle_since = idle_since if idle_since is not None else now
                else:
                    idle_since = None
                if now >= next_sync:
                    self._keep_lock()
                    self.sync()
                    next_sync = now + self.config.sync_seconds
                wait = next_sync - now
                if until is not None:
                    wait = min(wait, until - now)
                self._stop.wait(min(wait, 0.2) if once else max(wait, 0.0))
        finally:
            self.stop()
            self._restore_signals(handlers)
        return list(self.reports)

    def _keep_lock(self) -> None:
        """The catalog's scheduler lock lives on a connection: lost with it, it is taken again."""
        was = self._lock_lost
        self._lock_lost = not self.lock.keep()
        if self._lock_lost and not was:
            self.log.warning("the catalog cannot be reached to hold the scheduler lock; trying again "
                             "at each sync")
        elif was and not self._lock_lost:
            self.log.info("the catalog's scheduler lock is held again")

    def _catalog(self) -> Database:
        """The catalog, waited for (``catalog_wait_seconds``) while its server cannot be reached."""
        return Database(self.config.catalog_path, self.config.catalog_wait_seconds, self.log.warning)

    def _drain(self) -> None:
        """Take no new work and wait (up to the stop timeout) for running harvests to end."""
        if self.scheduler is not None:
            self.scheduler.hold()
        self.children.wait(self.config.stop_timeout_seconds, until=self._stop)

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """No new work; SIGTERM to running harvests; wait, then SIGKILL; release the lock."""
        if self.scheduler is None:
            return
        self._stopping.set()
        self._stop.set()
        self.scheduler.hold()
        self.children.stop(self.config.stop_timeout_seconds)
        self._shutdown_scheduler()
        Daemon.current = None
        self.lock.release()
        self.log.info("daemon stopped")

    # -- the catalog -----------------------------------------------------------------------
    def sync(self, catch_up: bool = False) -> tuple[int, int, int]:
        """Make the jobs match the catalog's active accounts; returns (added, changed, removed)."""
        c = self.config
        now = self.clock()
        db = self._catalog()
        try:
            registry = AccountRegistry(db, via="daemon")
            # Every change to an account moves the mark: none, nothing to do (this keeps an
            # idle daemon with 10,000 accounts from re-reading them every minute).
            mark = registry.change_mark()
            if mark == self._catalog_version and not catch_up:
                return 0, 0, 0
            self._catalog_version = mark
            plans, bad = runnable_plans(registry.list(), c.default_interval, c.default_jitter)
            for key, problem in problems_to_tell(self._bad_schedules, bad).items():
                self.alerts.send("failed", key, problem)  # left out (so never run), told once
            self._bad_schedules = bad
            todo = changes({k: p.signature for k, p in plans.items()}, self._signatures, catch_up)
            self._apply(todo, plans, RunLog(db, self.clock), now)
        finally:
            db.close()
        counts = len(todo.add), len(todo.replace), len(todo.remove)
        if todo:
            self.log.info("schedule synced with the catalog: %d added, %d changed, %d removed", *counts)
        return counts

    def _apply(self, todo: Changes, plans: dict[str, JobPlan], runs: RunLog, now: dt.datetime) -> None:
        """Bring overdue jobs forward, (re)place changed ones, remove those of gone accounts."""
        assert self.scheduler is not None
        for key in todo.recheck:  # catch-up at start: only bring forward what is due
            if self._placement(runs, plans[key], now).due:
                self._bring_forward(key, now + _jitter(plans[key]))
        # Many jobs to place (a first start): every account's last run read at once.
        last = runs.latest() if len(todo.add) + len(todo.replace) > MANY else None
        for key in todo.replace:
            self._place(key, plans[key], runs, now, last)
        # New jobs in one transaction while the scheduler is held (the first start): it reads
        # and writes the store on no other connection meanwhile.
        held = self._store is not None and self.scheduler.state == STATE_PAUSED
        with self._store.batch() if held and self._store else contextlib.nullcontext():
            for key in todo.add:
                self._place(key, plans[key], runs, now, last)
        for key in todo.remove:
            try:
                self.scheduler.remove_job(key)
            except JobLookupError:
                pass
            del self._signatures[key]

    def _place(self, key: str, plan: JobPlan, runs: RunLog, now: dt.datetime,
               last: dict[str, Run] | None = None) -> None:
        """Add or replace the account's job, due now if it is overdue (``last``: every
        account's newest run, when read at once)."""
        assert self.scheduler is not None
        where = self._placement(runs, plan, now, last)
        due: dict[str, Any] = {"next_run_time": now + _jitter(plan)} if where.due else {}
        self.scheduler.add_job(run_account, plan.trigger(where.anchor), args=[key], id=key,
                               name=plan.signature, replace_existing=True, **due)
        self._signatures[key] = plan.signature

    def _placement(self, runs: RunLog, plan: JobPlan, now: dt.datetime,
                   newest: dict[str, Run] | None = None) -> Placement:
        last = newest.get(plan.key) if newest is not None else runs.last(plan.key)
        in_flight = self._executor is not None and self._executor.holds(plan.key)
        return placement(parse_time(last.started_at) if last else None,
                         last is not None and last.ended_at is not None, plan.period_seconds(now),
                         now, in_flight)

    def _bring_forward(self, key: str, when: dt.datetime) -> None:
        assert self.scheduler is not None
        job = self.scheduler.get_job(key)
        if job is not None and (job.next_run_time is None or job.next_run_time > when):
            job.modify(next_run_time=when)

    # -- one run ---------------------------------------------------------------------------
    def harvest(self, key: str) -> RunReport:
        """Run one scheduled harvest of ``key`` now, unless paused, backed off or stopping."""
        if self._stopping.is_set():
            # Submitted but never started: first thing at the next start.
            self._bring_forward(key, self.clock())
            return self._report(key, "not-started", "the daemon was stopping")
        started = self.clock()
        decision, plan = self._decide(key, started)
        if not decision.start:
            if decision.retry_at is not None and plan is not None:
                self._bring_forward(key, decision.retry_at + _jitter(plan))
            return self._report(key, decision.what, decision.reason)
        return self._after(key, started, self.children.run(key))

    def _decide(self, key: str, now: dt.datetime) -> tuple[Decision, JobPlan | None]:
        """What the catalog says about running ``key`` now, and its plan (None if gone)."""
        c = self.config
        db = self._catalog()
        try:
            account = AccountRegistry(db, via="daemon").find(key)
            if account is None or not account.active:
                return decide(key, None, (), (), (), 1, now, c.backoff_max_seconds), None
            plan = JobPlan.of(account, c.default_interval, c.default_jitter)
            runs = RunLog(db, self.clock)
            decision = decide(key, plan, runs.history(key, 20), runs.active_pauses(now),
                              self.children.running(), max(1, c.max_concurrent), now,
                              c.backoff_max_seconds)
        finally:
            db.close()
        return decision, plan

    def _after(self, key: str, started: dt.datetime, result: ChildResult) -> RunReport:
        if result.kind in SKIPS:  # it did not harvest: nothing to record, nothing to alert
            skipped = result.skipped or {}
            pause = skipped.get("pause") or {}
            if skipped.get("alert"):  # ...unless its login check found the login ended just now
                self.alerts.send(str(pause.get("health") or "paused"), key,
                                 str(pause.get("reason") or result.error), str(pause.get("advice") or ""))
            return self._report(key, f"skipped-{result.kind}", result.error)
        db = self._catalog()
        try:
            what, detail, summary = settle(db, RunLog(db, self.clock), key, started, result,
                                           self.alerts, quiet=self._stopping.is_set())
        finally:
            db.close()
        if what != "not-started":  # that one the report logs
            self.log.info("harvest of %s ended %s: %s", key, what, detail)
        return self._report(key, what, detail, summary)

    def _report(self, key: str, what: str, detail: str = "",
                summary: dict[str, Any] | None = None) -> RunReport:
        report = RunReport(key, iso(self.clock()), what, detail, summary)
        self.reports.append(report)
        if what.startswith("skipped") or what == "not-started":
            self.log.info("%s %s: %s", key, what.replace("-", " "), detail)
        return report

    # -- internals -------------------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            self.log.error("the scheduled run of %s failed inside the daemon: %r", event.job_id,
                           getattr(event, "exception", None))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.log.info("%s is still being harvested; this run is skipped", event.job_id)
        elif event.code == EVENT_JOB_MISSED:
            self.log.warning("the run of %s due at %s was missed by more than the misfire grace time",
                             event.job_id, getattr(event, "scheduled_run_time", "?"))

    def _idle(self, since: dt.datetime) -> bool:
        """No run due since ``since`` is waiting, queued or running."""
        assert self._executor is not None and self._store is not None
        return not self._executor.busy and not self._store.get_due_jobs(since)

    def _shutdown_scheduler(self) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.hold()
        # Runs still queued end at once ("not started"), but they use the job store, which
        # APScheduler's shutdown locks while it waits for them: let them end first.
        deadline = time.monotonic() + 10
        while self._executor is not None and self._executor.busy and time.monotonic() < deadline:
            time.sleep(0.05)
        self.scheduler.shutdown(wait=True)

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        old: dict[int, Any] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, lambda *_: self._stop.set())
        return old

    @staticmethod
    def _restore_signals(old: dict[int, Any]) -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run_for(config: DaemonConfig, seconds: float, logger: logging.Logger | None = None,
            drain: bool = False) -> list[RunReport]:
    """Run the daemon for ``seconds`` (or until SIGTERM/SIGINT), then stop it cleanly (with
    ``drain``, after the harvests already running have finished)."""
    return Daemon(config, logger=logger).run(until=time.monotonic() + seconds, drain=drain)


def _jitter(plan: JobPlan) -> dt.timedelta:
    return dt.timedelta(seconds=random.uniform(0, plan.jitter_seconds) if plan.jitter_seconds else 0)


def _safe_url(url: str) -> str:
    """The store's address without a password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
