"""The daemon's configuration (plain values the face reads from its settings) and its run reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schedules.store import store_url

if TYPE_CHECKING:
    from schedules.queue import QueueConfig


@dataclass
class DaemonConfig:
    """Plain values from the face's settings (``SCHEDULES_*``, ``CATALOG_SCHEDULE_*``)."""

    home: Path
    catalog_path: Path
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

    @property
    def store_url(self) -> str:
        return store_url(self.home, self.job_store_url)


@dataclass(frozen=True)
class RunReport:
    """One scheduled run, or why it did not happen (for logs, tests and the demo's summary)."""

    account: str
    at: str
    # ok, partial, failed, stopped, skipped-paused, -backoff, -busy, -removed, -capacity, not-started
    what: str
    detail: str = ""
    summary: dict[str, Any] | None = None
