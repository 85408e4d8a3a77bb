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
- Each run is a child process (``child.py``). Before starting it, the daemon skips accounts
  whose platform, login or self is paused, and accounts backed off after failing in a row.
- SIGTERM/SIGINT: no new work, one SIGTERM to each child (which gives up what it waits for,
  closes its WARC files and records ``partial`` within seconds: crawler/stopping.py), wait up
  to ``stop_timeout_seconds``, then SIGKILL (the WARC store recovers the file at the next start).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import random
import signal
import subprocess
import threading
import time
from typing import Any, ClassVar

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from catalog.accounts import AccountRegistry
from catalog.db import Database
from catalog.runs import RunLog
from catalog.store import iso
from schedules.alerts import Alerts, daemon_logger
from schedules.child import SKIPS, ChildResult, read_result, start_child
from schedules.config import DaemonConfig, RunReport
from schedules.lock import DaemonLock
from schedules.outcome import settle
from schedules.plan import JobPlan, backoff_until, parse_time, runnable_plans
from schedules.store import job_store


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, made to submit nothing once the daemon stops.

    Its thread can wake from a timed wait just as ``shutdown()`` starts, find jobs due and hand
    them to an executor already shut down: each is logged with a traceback ("cannot schedule
    new futures after shutdown"). Job processing and ``hold()`` exclude each other, and nothing
    is processed unless the scheduler is running, so after ``hold()`` nothing is ever submitted.
    """

    def __init__(self, **options: Any) -> None:
        self._submitting = threading.Lock()
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        with self._submitting:
            if self.state != STATE_RUNNING:
                return None  # paused or stopping: wait until woken (resume or shutdown)
            return super()._process_jobs()

    def hold(self) -> None:
        """Submit no more jobs; a round of submissions under way finishes first."""
        with self._submitting:
            if self.state == STATE_RUNNING:
                self.pause()


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
        self.alerts = Alerts(self.log, config.webhook_url, config.webhook_timeout)
        self.lock = DaemonLock(config.home / "locks")
        self.reports: collections.deque[RunReport] = collections.deque(maxlen=10000)
        self.scheduler: _Scheduler | None = None
        self._signatures: dict[str, str] = {}
        self._bad_schedules: dict[str, str] = {}  # account -> why its stored schedule cannot run
        self._catalog_version: int | None = -1
        self._children: dict[str, subprocess.Popen[str]] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._stopping = threading.Event()

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the lock, open the job store, sync it with the catalog (catching up), start."""
        self.lock.acquire()
        try:
            c = self.config
            grace = c.misfire_grace_seconds
            self.scheduler = _Scheduler(
                jobstores={"default": job_store(c.store_url)},
                executors={"default": ThreadPoolExecutor(max_workers=max(1, c.max_concurrent))},
                job_defaults={"coalesce": True, "max_instances": 1,
                              "misfire_grace_time": grace if grace else None},
                timezone=dt.UTC)
            self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED
                                        | EVENT_JOB_MAX_INSTANCES)
            self.scheduler.start(paused=True)
            Daemon.current = self
            jobs = self.scheduler.get_jobs()
            self._signatures = {job.id: job.name for job in jobs}
            for job in jobs:  # a store written with other settings (APScheduler's 1 s grace ...)
                if (job.misfire_grace_time, job.coalesce, job.max_instances) != (grace or None, True, 1):
                    job.modify(misfire_grace_time=grace or None, coalesce=True, max_instances=1)
            self.sync(catch_up=True)
            self.scheduler.resume()
        except BaseException:
            self._shutdown_scheduler()
            self.lock.release()
            raise
        self.log.info("daemon started: %d accounts scheduled, at most %d harvests at once, store %s",
                      len(self._signatures), c.max_concurrent, _safe_url(c.store_url))

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

    def _drain(self) -> None:
        """Take no new work and wait (up to the stop timeout) for running harvests to end."""
        if self.scheduler is not None:
            self.scheduler.hold()
        deadline = time.monotonic() + self.config.stop_timeout_seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            with self._guard:
                running = [p for p in self._children.values() if p.poll() is None]
            if not running:
                break
            time.sleep(0.1)

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """No new work; SIGTERM to running harvests; wait, then SIGKILL; release the lock."""
        if self.scheduler is None:
            return
        self._stopping.set()
        self._stop.set()
        self.scheduler.hold()
        with self._guard:
            children = dict(self._children)
        for key, proc in children.items():
            self.log.info("stopping the harvest of %s (process %d)", key, proc.pid)
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.config.stop_timeout_seconds
        while time.monotonic() < deadline and any(p.poll() is None for p in children.values()):
            time.sleep(0.1)
        for key, proc in children.items():
            if proc.poll() is None:
                self.log.warning("the harvest of %s did not stop in %.0f s; killed (its WARC file is "
                                 "recovered at the next start)", key, self.config.stop_timeout_seconds)
                _signal(proc, signal.SIGKILL)
        self._shutdown_scheduler()
        Daemon.current = None
        self.lock.release()
        self.log.info("daemon stopped")

    # -- the catalog -----------------------------------------------------------------------
    def sync(self, catch_up: bool = False) -> tuple[int, int, int]:
        """Make the jobs match the catalog's active accounts; returns (added, changed, removed)."""
        assert self.scheduler is not None
        c = self.config
        now = self.clock()
        db = Database(c.catalog_path)
        try:
            # Every change to an account writes an account event: none new, nothing to do (this
            # keeps an idle daemon with 10,000 accounts from re-reading them every minute).
            version = db.conn.execute("SELECT MAX(seq) FROM account_events").fetchone()[0]
            if version == self._catalog_version and not catch_up:
                return 0, 0, 0
            self._catalog_version = version
            plans, bad = runnable_plans(AccountRegistry(db, via="daemon").list(), c.default_interval,
                                        c.default_jitter)
            for key, problem in bad.items():  # left out (so never run) and told once, not every sync
                if self._bad_schedules.get(key) != problem:
                    self.alerts.send("failed", key, problem)
            self._bad_schedules = bad
            runs = RunLog(db, self.clock)
            added = changed = 0
            for key, plan in plans.items():
                old = self._signatures.get(key)
                if old == plan.signature and not catch_up:
                    continue
                last = runs.last(key)
                anchor = parse_time(last.started_at) if last else now
                # Due: never run, its period is over, or its last run was cut off (kill -9, power).
                due = (last is None or last.ended_at is None
                       or anchor + dt.timedelta(seconds=plan.period_seconds(now)) <= now)
                if old == plan.signature:  # catch-up at start: only bring forward what is due
                    if due:
                        self._bring_forward(key, now + _jitter(plan))
                    continue
                kwargs: dict[str, Any] = {}
                if due:
                    kwargs["next_run_time"] = now + _jitter(plan)
                self.scheduler.add_job(run_account, plan.trigger(anchor), args=[key], id=key,
                                       name=plan.signature, replace_existing=True, **kwargs)
                self._signatures[key] = plan.signature
                if old is None:
                    added += 1
                else:
                    changed += 1
            removed = 0
            for key in [k for k in self._signatures if k not in plans]:
                try:
                    self.scheduler.remove_job(key)
                except JobLookupError:
                    pass
                del self._signatures[key]
                removed += 1
        finally:
            db.close()
        if added or changed or removed:
            self.log.info("schedule synced with the catalog: %d added, %d changed, %d removed",
                          added, changed, removed)
        return added, changed, removed

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
        c = self.config
        db = Database(c.catalog_path)
        try:
            account = AccountRegistry(db, via="daemon").find(key)
            if account is None or not account.active:
                return self._report(key, "skipped-removed", "the account is no longer registered")
            plan = JobPlan.of(account, c.default_interval, c.default_jitter)
            runs = RunLog(db, self.clock)
            now = self.clock()
            pauses = runs.pauses_for(key, account.credentials, now)
            if pauses:
                ends = [parse_time(p.until) for p in pauses if p.until]
                if len(ends) == len(pauses):  # all expire by themselves: run again right after
                    self._bring_forward(key, max(ends) + dt.timedelta(seconds=1) + _jitter(plan))
                p = pauses[0]
                return self._report(key, "skipped-paused", f"{p.scope} is paused: {p.reason}"
                                    + (f" (until {p.until})" if p.until else " (until cleared)"))
            until = backoff_until(plan, runs.history(key, 20), now, c.backoff_max_seconds)
            if until is not None:
                self._bring_forward(key, until + _jitter(plan))
                return self._report(key, "skipped-backoff",
                                    f"it failed in a row; backed off until {iso(until)}")
            started = now
        finally:
            db.close()
        result = self._run_child(key)
        return self._after(key, started, result)

    def _run_child(self, key: str) -> ChildResult:
        if self._stopping.is_set():  # stopped while this run was being prepared
            return ChildResult(-signal.SIGTERM, None, "the daemon was stopping")
        self.log.info("harvest of %s started", key)
        proc = start_child(self.config.harvest_command, key)
        with self._guard:
            self._children[key] = proc
        if self._stopping.is_set():
            _signal(proc, signal.SIGTERM)
        try:
            out, err = proc.communicate()
        finally:
            with self._guard:
                self._children.pop(key, None)
        return read_result(proc.returncode, out, err)

    def _after(self, key: str, started: dt.datetime, result: ChildResult) -> RunReport:
        if result.kind in SKIPS:  # it did not harvest: nothing to record, nothing to alert
            return self._report(key, f"skipped-{result.kind}", result.error)
        db = Database(self.config.catalog_path)
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
        assert self.scheduler is not None
        if self._executor_busy():
            return False
        store = self.scheduler._lookup_jobstore("default")  # noqa: SLF001 - no public API
        return not store.get_due_jobs(since)

    def _executor_busy(self) -> bool:
        """A run is queued in the executor or running."""
        assert self.scheduler is not None
        # The executor counts a run from its submission (before the store moves the job on) to
        # its end; the scheduler's events come later, so they cannot tell this.
        executor = self.scheduler._lookup_executor("default")  # noqa: SLF001 - no public API
        with executor._lock:  # noqa: SLF001
            return any(executor._instances.values())  # noqa: SLF001

    def _shutdown_scheduler(self) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.hold()
        # Runs still queued end at once ("not started"), but they use the job store, which
        # APScheduler's shutdown locks while it waits for them: let them end first.
        deadline = time.monotonic() + 10
        while self._executor_busy() and time.monotonic() < deadline:
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


def _signal(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


def _safe_url(url: str) -> str:
    """The store's address without a password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
