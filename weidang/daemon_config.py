"""From the face's home and settings to the daemon's plain configuration."""

from __future__ import annotations

import sys

from schedules.config import QueueConfig
from schedules.daemon import DaemonConfig
from weidang import i18n
from weidang.errors import in_words
from weidang.home import Home
from weidang.settings import Settings
from weidang.store import catalog_target


def daemon_config(home: Home, settings: Settings, overrides: tuple[str, ...] = ()) -> DaemonConfig:
    """The daemon's configuration; its children get the same home and ``--set`` overrides."""
    command = harvest_command(home, overrides)
    grace = int(settings["SCHEDULES_MISFIRE_GRACE_SECONDS"])
    return DaemonConfig(
        home=home.root, catalog_path=catalog_target(home, settings),
        catalog_wait_seconds=float(settings["CATALOG_UNREACHABLE_WAIT_SECONDS"]),
        harvest_command=command, job_store_url=str(settings["SCHEDULES_JOB_STORE_URL"]),
        max_concurrent=int(settings["SCHEDULES_MAX_CONCURRENT"]),
        sync_seconds=float(settings["SCHEDULES_SYNC_SECONDS"]),
        misfire_grace_seconds=grace or None,
        default_interval=int(settings["CATALOG_SCHEDULE_INTERVAL_SECONDS"]),
        default_jitter=int(settings["CATALOG_SCHEDULE_JITTER_SECONDS"]),
        backoff_max_seconds=int(settings["SCHEDULES_BACKOFF_MAX_SECONDS"]),
        stop_timeout_seconds=float(settings["SCHEDULES_STOP_TIMEOUT_SECONDS"]),
        webhook_url=str(settings["SCHEDULES_WEBHOOK_URL"]),
        webhook_timeout=float(settings["SCHEDULES_WEBHOOK_TIMEOUT_SECONDS"]),
        log_dir=home.logs, dispatch=str(settings["SCHEDULES_DISPATCH"]),
        queue=queue_config(settings), say=in_words(i18n.current()))


def queue_config(settings: Settings, worker_command: list[str] | None = None) -> QueueConfig:
    """The queue's settings, the same for the daemon and the workers."""
    return QueueConfig(broker_url=str(settings["SCHEDULES_QUEUE_BROKER_URL"]),
                       result_backend=str(settings["SCHEDULES_QUEUE_RESULT_BACKEND"]),
                       prefix=str(settings["SCHEDULES_QUEUE_PREFIX"]),
                       redis_visibility_seconds=int(settings["SCHEDULES_QUEUE_REDIS_VISIBILITY_SECONDS"]),
                       worker_command=worker_command or [])


def harvest_command(home: Home, overrides: tuple[str, ...], *more: str) -> list[str]:
    """The face's `harvest` command for a child, with this process's home, ``--set``s and language
    (its messages reach the daemon's log and alerts)."""
    sets = [x for item in (*overrides, *more) for x in ("--set", item)]
    return [sys.executable, "-m", "weidang", "--lang", i18n.current(), "--home", str(home.root), *sets,
            "harvest"]
