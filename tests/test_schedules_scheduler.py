"""The daemon's APScheduler parts: an executor that tells when it holds a run, a scheduler that holds."""

from __future__ import annotations

import datetime as dt
import threading

from schedules_helpers import wait_for

from schedules.scheduler import CountingExecutor, HoldingScheduler


def _scheduler(workers: int = 1) -> tuple[HoldingScheduler, CountingExecutor]:
    executor = CountingExecutor(max_workers=workers)
    scheduler = HoldingScheduler(executors={"default": executor}, timezone=dt.UTC)
    scheduler.start()
    return scheduler, executor


def test_the_executor_is_busy_from_submission_until_the_run_ends():
    scheduler, executor = _scheduler(workers=1)
    release, started, queued = threading.Event(), threading.Event(), threading.Event()
    try:
        assert not executor.busy
        scheduler.add_job(lambda: (started.set(), release.wait(30)), id="first")
        wait_for(started.is_set)
        # a second run waits for the only thread: queued, not started, yet counted
        scheduler.add_job(queued.set, id="second")
        wait_for(lambda: scheduler.get_job("second") is None)  # handed to the executor
        assert executor.busy and not queued.is_set()
        release.set()
        wait_for(queued.is_set)
        wait_for(lambda: not executor.busy)
    finally:
        release.set()
        scheduler.shutdown(wait=True)


def test_a_run_that_fails_still_ends_the_count():
    scheduler, executor = _scheduler()
    try:
        scheduler.add_job(lambda: 1 / 0, id="boom")
        wait_for(lambda: scheduler.get_job("boom") is None)
        wait_for(lambda: not executor.busy)
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
