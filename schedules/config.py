"""The daemon's configuration (plain values the face reads from its settings) and its run reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schedules.store import store_url


@dataclass
class DaemonConfig:
    """Plain values from the face's settings (``SCHEDULES_*``, ``CATALOG_SCHEDULE_*``)."""

    home: Path
    catalog_path: Path | str  # a SQLite file, or the catalog's URL on a server
    harvest_command: list[str]  # the account and "--json" are appended
    job_store_url: str = ""  # "" = sqlite:///HOME/schedules.sqlite
    max_concurrent: int = 2
    sync_seconds: float = 60.0
    misfire_grace_seconds: int | None = None  # None: a missed run is never dropped
    default_interval: int = 86400
    default_jitter: int = 900
    backoff_max_seconds: int = 86400
    stop_timeout_seconds: float = 300.0
    webhook_url: str = ""
    webhook_timeout: float = 5.0
    log_dir: Path | None = None
    log_to_stderr: bool = True
    dispatch: str = "local"  # "local": child processes; "queue": jobs for `weidang worker`
    queue: QueueConfig | None = None
    catalog_wait_seconds: float = 0.0  # a catalog on a server that cannot be reached is waited for
    # the face's words for the archivist: a sentence or word in the language alerts are sent in
    say: Callable[[str], str] | None = None

    @property
    def store_url(self) -> str:
        return store_url(self.home, self.job_store_url)


@dataclass
class QueueConfig:
    """Plain values from the face's settings (``SCHEDULES_QUEUE_*``); no Celery import here, so
    that a daemon without the queue does not load it."""

    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    result_backend: str = ""  # "": rpc:// for RabbitMQ, the broker itself for Redis
    prefix: str = "weidang"
    redis_visibility_seconds: int = 3600
    poll_seconds: float = 0.5
    worker_command: list[str] = field(default_factory=list)  # the worker's harvest command

    @property
    def backend(self) -> str:
        if self.result_backend:
            return self.result_backend
        return self.broker_url if self.broker_url.startswith(("redis", "rediss")) else "rpc://"

    def queue_of(self, account: str) -> str:
        return self.queue_of_platform(account.partition(":")[0])

    def queue_of_platform(self, platform: str) -> str:
        return queue_name(self.prefix, platform)


def queue_name(prefix: str, platform: str) -> str:
    return f"{prefix}.harvest.{platform}"


@dataclass(frozen=True)
class RunReport:
    """One scheduled run, or why it did not happen (for logs, tests and the demo's summary)."""

    account: str
    at: str
    # ok, partial, failed, stopped, skipped-paused, -backoff, -busy, -removed, -capacity, not-started
    what: str
    detail: str = ""
    summary: dict[str, Any] | None = None
