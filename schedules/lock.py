"""The daemon lock, beside the per-account harvest locks in ``HOME/locks`` (crawler.account_lock).

APScheduler 3.x job stores must never be shared by two schedulers (two processes on one SQLite
store ran the same job twice), so ``weidang run`` takes ``HOME/locks/daemon.lock`` before it
touches the store. The lock is an OS file lock: it is released when the process dies, even by
kill -9, so a crash never leaves a stale lock behind. Beside it, ``daemon.json`` says who holds it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from schedules.errors import DaemonRunning


class DaemonLock:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "daemon.lock"
        self.info_path = folder / "daemon.json"
        self._lock = FileLock(str(self.path))

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DaemonRunning(f"another `weidang run` ({self.holder()}) is already running on this "
                                "home's schedule; stop it before starting a new one") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.info_path.write_text(json.dumps(info), encoding="utf-8")

    def holder(self) -> str:
        """Who holds the lock, as far as ``daemon.json`` tells."""
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return f"process {info['pid']} on {info['host']}, started {info['started_at']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "process unknown"

    def release(self) -> None:
        if self._lock.is_locked:
            try:
                self.info_path.unlink()
            except OSError:
                pass
            self._lock.release()
