"""How the daemon hands a due harvest over: the one interface, chosen by ``SCHEDULES_DISPATCH``.

- ``local``: a child process on this machine (``child.Children``).
- ``queue``: a job on the message queue, run by a ``weidang worker`` (``dispatch_queue``).

Either way ``run`` blocks the executor thread until the harvest's result is known and returns it
as a ``ChildResult``, so the daemon's decisions (backoff, pauses, alerts) do not depend on where
the harvest ran.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from schedules.child import Children, ChildResult
from schedules.config import DaemonConfig


class Dispatch(Protocol):
    def run(self, key: str) -> ChildResult:
        """Harvest ``key`` and wait for its result."""

    def running(self) -> set[str]:
        """The accounts handed over and not finished."""

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait up to ``seconds`` for every harvest handed over to end."""

    def stop(self, grace_seconds: float) -> None:
        """Hand over no more; end or let go of what is running (within ``grace_seconds``)."""


def make_dispatch(config: DaemonConfig, log: logging.Logger) -> Dispatch:
    if config.dispatch == "queue":
        from schedules.dispatch_queue import QueueDispatch  # noqa: PLC0415 - Celery only when used

        assert config.queue is not None, "a queue dispatch needs the queue's settings"
        return QueueDispatch(config.queue, log)
    return Children(config.harvest_command, log)
