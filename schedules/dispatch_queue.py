"""The daemon's side of the queue: due harvests sent as jobs, their results read back.

The daemon learns each job's end from Celery's result backend (``rpc://`` on RabbitMQ: results
come back as messages on the daemon's own reply queue, no other service; the broker itself on
Redis), not from the catalog's run rows: a job that did not harvest (the account busy, paused or
removed) or whose harvest died before opening its run leaves no row, and the summary's warnings
and advice are in no row. The result is the child's own output, read as a local child's is.

Every Celery call is made by one thread (the daemon's executor threads only wait): Celery's
clients are not thread-safe, and the rpc backend's reply queue belongs to the thread that sent.
While the broker cannot be reached, jobs wait here and are sent when it answers again.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from catalog.secret_shapes import scrub_secrets
from schedules.child import ChildResult, read_result
from schedules.queue import HARVEST_TASK, QueueConfig, make_app, safe_url

LET_GO = ("the daemon stopped while a worker still had this harvest; the worker finishes it and "
          "records it in the catalog")


@dataclass
class _Job:
    key: str
    done: threading.Event = field(default_factory=threading.Event)
    sent: Any = None  # Celery's AsyncResult once sent
    result: ChildResult | None = None


class QueueDispatch:
    """Harvests as jobs on the queue; ``run`` blocks until the job's result is back."""

    def __init__(self, config: QueueConfig, log: logging.Logger) -> None:
        self.config = config
        self.log = log
        self.app = make_app(config)
        self._jobs: dict[str, _Job] = {}
        self._new: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._broker_down = False

    def run(self, key: str) -> ChildResult:
        if self._stopping.is_set():
            return ChildResult(-signal.SIGTERM, None, "the daemon was stopping")
        job = _Job(key)
        with self._guard:
            self._jobs[key] = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="queue", daemon=True)
                self._thread.start()
        self._new.put(job)
        job.done.wait()
        with self._guard:
            self._jobs.pop(key, None)
        assert job.result is not None
        return job.result

    def running(self) -> set[str]:
        with self._guard:
            return set(self._jobs)

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until is not None and until.is_set()):
            if not self.running():
                return
            time.sleep(0.1)

    def stop(self, grace_seconds: float) -> None:
        """Send no more; results that come within the grace period are settled, then the daemon
        lets go of the rest: their workers finish them (they are the workers' now, not ours)."""
        self._stopping.set()
        self.wait(grace_seconds)
        with self._guard:
            left = list(self._jobs.values())
        for job in left:
            self._finish(job, ChildResult(1, None, LET_GO, skipped={"why": "busy", "reason": LET_GO}))
        if self._thread is not None:
            self._thread.join(10)

    # -- the one thread that talks to Celery ------------------------------------------------
    def _loop(self) -> None:
        unsent: list[_Job] = []
        sent: list[_Job] = []
        while True:
            while not self._new.empty():
                unsent.append(self._new.get())
            if self._stopping.is_set():
                for job in unsent:
                    self._finish(job, ChildResult(-signal.SIGTERM, None, "the daemon was stopping"))
                unsent = []
                if not sent or all(j.done.is_set() for j in sent):
                    return
            unsent = [job for job in unsent if not self._send(job, sent)]
            sent = [job for job in sent if not job.done.is_set() and not self._collect(job)]
            time.sleep(self.config.poll_seconds)

    def _send(self, job: _Job, sent: list[_Job]) -> bool:
        try:
            job.sent = self.app.send_task(HARVEST_TASK, args=[job.key],
                                          queue=self.config.queue_of(job.key))
        except Exception as exc:  # the broker is down: keep the job and try again
            self._broker_trouble(exc)
            return False
        self._broker_ok()
        self.log.info("harvest of %s sent to the queue %s", job.key, self.config.queue_of(job.key))
        sent.append(job)
        return True

    def _collect(self, job: _Job) -> bool:
        try:
            if not job.sent.ready():
                return False
            if job.sent.successful():
                value = job.sent.result or {}
                result = read_result(int(value.get("returncode", 1)), str(value.get("stdout", "")),
                                     str(value.get("stderr", "")))
            else:
                result = ChildResult(1, None, "the worker could not run the harvest: "
                                     + scrub_secrets(repr(job.sent.result))[:500])
            if self.config.backend != "rpc://":  # rpc results go with their message
                job.sent.forget()
        except Exception as exc:  # the result backend is down: ask again later
            self._broker_trouble(exc)
            return False
        self._finish(job, result)
        return True

    def _finish(self, job: _Job, result: ChildResult) -> None:
        if not job.done.is_set():
            job.result = result
            job.done.set()

    def _broker_trouble(self, exc: Exception) -> None:
        if not self._broker_down:
            self._broker_down = True
            self.log.warning("the message queue at %s cannot be reached (%s); jobs wait and are "
                             "sent when it answers", safe_url(self.config.broker_url),
                             scrub_secrets(str(exc))[:300])

    def _broker_ok(self) -> None:
        if self._broker_down:
            self._broker_down = False
            self.log.info("the message queue answers again")
