"""The daemon's APScheduler parts: an executor that tells when it holds a run, a scheduler that holds."""

from __future__ import annotations

import datetime as dt
import threading
import time

from schedules_helpers import wait_for

from schedules.scheduler import CountingExecutor, HoldingScheduler
from schedules.store import job_store, next_run_times


def _scheduler(workers: int = 1) -> tuple[HoldingScheduler, CountingExecutor]:
    executor = CountingExecutor(max_workers=workers)
    scheduler = HoldingScheduler(executors={"default": executor}, timezone=dt.UTC)
    scheduler.start()
    return scheduler, executor


def test_the_executor_is_busy_from_submission_until_the_run_ends():
    scheduler, executor = _scheduler(workers=1)
    release, started = threading.Event(), threading.Event()
    try:
        assert not executor.busy and executor.free == 1
        scheduler.add_job(lambda: (started.set(), release.wait(30)), id="first")
        wait_for(started.is_set)
        assert executor.busy and executor.free == 0
        assert executor.holds("first") and not executor.holds("second")
        release.set()
        wait_for(lambda: not executor.busy)
        assert executor.free == 1 and not executor.holds("first")
    finally:
        release.set()
        scheduler.shutdown(wait=True)


def test_due_jobs_stay_in_the_store_until_a_worker_is_free(tmp_path):
    """Only as many due jobs as free workers leave the store; the rest stay due there (not moved
    on to their next run, not queued in memory) and each runs once as workers free up."""
    store = job_store(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    executor = CountingExecutor(max_workers=2)
    scheduler = HoldingScheduler(jobstores={"default": store}, executors={"default": executor},
                                 job_defaults={"misfire_grace_time": None}, timezone=dt.UTC)
    release, ran = RELEASE, RAN  # module-level: a persistent store pickles a job's arguments
    release.clear()
    ran.clear()
    now = dt.datetime.now(dt.UTC)
    try:
        scheduler.start(paused=True)
        for i in range(10):
            scheduler.add_job(_blocked, "interval", days=1, args=[f"job{i}"], id=f"job{i}",
                              next_run_time=now - dt.timedelta(minutes=10 - i))
        scheduler.resume()
        wait_for(lambda: len(ran) == 2)
        time.sleep(0.5)  # time to take more, were it to
        still_due = next_run_times(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
        assert sorted(ran) == ["job0", "job1"]  # the earliest first
        assert sorted(k for k, t in still_due.items() if t is not None and t <= now) == \
            [f"job{i}" for i in range(2, 10)]
        release.set()
        wait_for(lambda: len(ran) == 10)
        wait_for(lambda: not executor.busy)
        assert sorted(ran) == sorted(f"job{i}" for i in range(10))  # each once
    finally:
        release.set()
        scheduler.shutdown(wait=True)
        store.engine.dispose()


RELEASE, RAN = threading.Event(), []


def _blocked(key: str) -> None:
    RAN.append(key)
    RELEASE.wait(30)


def test_a_run_that_fails_still_ends_the_count():
    scheduler, executor = _scheduler()
    try:
        scheduler.add_job(lambda: 1 / 0, id="boom")
        wait_for(lambda: scheduler.get_job("boom") is None)
        wait_for(lambda: not executor.busy)
        assert not executor.holds("boom")
    finally:
        scheduler.shutdown(wait=True)


def test_a_held_scheduler_submits_nothing():
    scheduler, executor = _scheduler()
    ran = threading.Event()
    try:
        scheduler.hold()
        scheduler.add_job(ran.set, id="due", next_run_time=dt.datetime.now(dt.UTC))
        scheduler.wakeup()
        assert not ran.wait(1.0)  # nothing submitted: the job is still due in the store
        assert scheduler.get_job("due") is not None and not executor.busy
    finally:
        scheduler.shutdown(wait=True)
