"""The daemon lock, and the per-account harvest locks beside it in ``HOME/locks``.

APScheduler 3.x job stores must never be shared by two schedulers (two processes on one SQLite
store ran the same job twice), so ``weidang run`` takes ``HOME/locks/daemon.lock`` before it
touches the store. The lock is an OS file lock: it is released when the process dies, even by
kill -9, so a crash never leaves a stale lock behind. Beside it, ``daemon.json`` says who holds it.

Every harvest holds its account's lock (``HOME/locks/weibo_1669879400.lock``) while it runs, for
the same reason released by any death: so ``weidang status`` asks the lock, not the run history
(whose open row a killed harvest never closes), whether a harvest is still running.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock to ask
    fcntl = None  # type: ignore[assignment]

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


def account_lock_path(folder: Path, account: str) -> Path:
    """The lock a harvest of ``account`` holds while it runs."""
    return folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", account) + ".lock")


def harvest_running(folder: Path, account: str) -> bool | None:
    """Whether a live process holds ``account``'s harvest lock (None: this system cannot tell).

    Asked with a shared lock taken and dropped at once, on a file opened read-only, so it works
    on a read-only copy of a home and never leaves anything behind.
    """
    if fcntl is None:
        return None
    try:
        fd = os.open(account_lock_path(folder, account), os.O_RDONLY)
    except FileNotFoundError:
        return False  # no harvest of this account ever ran on this home
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # closing drops the shared lock if it was taken
    return False
