"""APScheduler 3 as the daemon uses it: a scheduler that can hold, an executor that says if busy.

Only APScheduler's public API and the hooks its subclasses are documented to provide are used:
``BaseScheduler.wakeup`` is documented to have ``_process_jobs`` run, so a scheduler subclass
wraps that; an executor subclass implements the executor contract (``submit_job``, and
``_run_job_success`` / ``_run_job_error``, which an executor calls when a run ends).
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from schedules.store import BatchingJobStore


class HoldingScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, made to submit nothing once the daemon stops.

    Its thread can wake from a timed wait just as ``shutdown()`` starts, find jobs due and hand
    them to an executor already shut down: each is logged with a traceback ("cannot schedule
    new futures after shutdown"). Job processing and ``hold()`` exclude each other, and nothing
    is processed unless the scheduler is running, so after ``hold()`` nothing is ever submitted.

    It also takes from the store only as many due jobs as the executor has free workers, and
    waits for a run's end to take more. APScheduler alone submits every due job at once: with
    200,000 accounts due at a first start, 200,000 jobs waited in the thread pool's memory
    (510 MB), each already moved on to its next run in the store.
    """

    def __init__(self, **options: Any) -> None:
        self._submitting = threading.Lock()
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        with self._submitting:
            if self.state != STATE_RUNNING:
                return None  # paused or stopping: wait until woken (resume or shutdown)
            executor = self._executors.get("default")
            free = executor.free if isinstance(executor, CountingExecutor) else None
            if free == 0:
                return None  # the end of a run wakes the scheduler
            for store in self._jobstores.values():
                if isinstance(store, BatchingJobStore):
                    store.due_limit = free
            wait = super()._process_jobs()
            # Jobs left due would make the wait 0: a busy loop while every worker is taken.
            return None if isinstance(executor, CountingExecutor) and executor.free == 0 else wait

    def hold(self) -> None:
        """Submit no more jobs; a round of submissions under way finishes first."""
        with self._submitting:
            if self.state == STATE_RUNNING:
                self.pause()


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the runs it holds, each job's too, from submission to end.

    The count starts when the scheduler submits a run (before the job store moves the job on)
    and ends when the run has ended; the scheduler's events come later, so they cannot tell this.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self._workers = max_workers
        self._count_lock = threading.Lock()
        self._count = 0
        self._jobs: collections.Counter[str] = collections.Counter()

    @property
    def busy(self) -> bool:
        """A run is queued or running."""
        with self._count_lock:
            return self._count > 0

    @property
    def free(self) -> int:
        """Workers that would start a run submitted now."""
        with self._count_lock:
            return max(0, self._workers - self._count)

    def holds(self, job_id: str) -> bool:
        """A run of ``job_id`` is queued or running."""
        with self._count_lock:
            return self._jobs[job_id] > 0

    def submit_job(self, job: Job, run_times: list[dt.datetime]) -> None:
        with self._count_lock:
            self._count += 1
            self._jobs[job.id] += 1
        try:
            super().submit_job(job, run_times)
        except BaseException:  # refused (already running): nothing was queued
            self._ended(job.id)
            raise

    def _run_job_success(self, job_id: str, events: list[Any]) -> None:
        try:
            super()._run_job_success(job_id, events)
        finally:
            self._ended(job_id)

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: Any = None) -> None:
        try:
            super()._run_job_error(job_id, exc, traceback)
        finally:
            self._ended(job_id)

    def _ended(self, job_id: str) -> None:
        with self._count_lock:
            self._count -= 1
            self._jobs[job_id] -= 1
            if self._jobs[job_id] <= 0:
                del self._jobs[job_id]
        if self._scheduler is not None:
            self._scheduler.wakeup()  # a worker is free: the scheduler may take a due job
