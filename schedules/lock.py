"""The daemon lock, beside the per-account harvest locks in ``HOME/locks`` (crawler.account_lock).

APScheduler 3.x job stores must never be shared by two schedulers (two processes on one SQLite
store ran the same job twice), so ``weidang run`` takes ``HOME/locks/daemon.lock`` before it
touches the store. The lock is an OS file lock: it is released when the process dies, even by
kill -9, so a crash never leaves a stale lock behind. Beside it, ``daemon.json`` says who holds it.

A catalog on PostgreSQL is shared by machines that see different homes, so there the daemon
also holds a lock in the catalog itself (``catalog.held_lock``) for its whole life: a second
scheduler on the same catalog, on any machine, is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from catalog.db import Database, catalog_url
from catalog.errors import DatabaseError
from catalog.held_lock import HeldLock
from schedules.errors import DaemonRunning

SCHEDULER_LOCK = "scheduler"


class DaemonLock:
    def __init__(self, folder: Path, catalog: Path | str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "daemon.lock"
        self.info_path = folder / "daemon.json"
        self._lock = FileLock(str(self.path))
        self.catalog = catalog
        self._db: Database | None = None
        self._held: HeldLock | None = None
        self._holder = ""

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DaemonRunning(f"another `weidang run` ({self.holder()}) is already running on this "
                                "home's schedule; stop it before starting a new one") from None
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": started}
        self._holder = f"weidang run {info['pid']}@{info['host']}"
        try:
            self._hold_catalog(self._holder)
        except BaseException:
            self._lock.release()
            raise
        self.info_path.write_text(json.dumps(info), encoding="utf-8")

    def _hold_catalog(self, holder: str) -> None:
        """On a catalog on a server: its own lock, or refuse (on SQLite the file lock suffices)."""
        if not isinstance(self.catalog, str) or catalog_url(self.catalog).get_backend_name() != "postgresql":
            return
        db = Database(self.catalog)
        held = HeldLock(db, SCHEDULER_LOCK)
        if not held.acquire(holder):
            who = held.holder()
            db.close()
            raise DaemonRunning(
                f"another scheduler ({who}) already runs on the catalog {db.name}; one `weidang "
                "run` per catalog: stop it before starting a new one (workers may be many)")
        self._db, self._held = db, held

    def keep(self) -> bool:
        """Take the catalog's lock again if its connection was lost (the server restarted or
        was cut off); False while the server cannot be reached. Raises ``DaemonRunning`` if
        another scheduler took the lock meanwhile."""
        if self._held is None or self._held.held():
            return True
        self._held.release()
        try:
            taken = self._held.acquire(self._holder)
        except DatabaseError:
            return False
        if not taken:
            raise DaemonRunning(f"another scheduler ({self._held.holder()}) took the catalog "
                                f"{self._held.db.name} while it could not be reached; this one stops")
        return True

    def holder(self) -> str:
        """Who holds the lock, as far as ``daemon.json`` tells."""
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return f"process {info['pid']} on {info['host']}, started {info['started_at']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "process unknown"

    def release(self) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock.is_locked:
            try:
                self.info_path.unlink()
            except OSError:
                pass
            self._lock.release()
