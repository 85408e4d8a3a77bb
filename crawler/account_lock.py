"""The per-account harvest lock: one harvest of an account at a time, across processes.

Every harvest holds its account's lock (``HOME/locks/weibo_1669879400.lock``) while it runs. It
is an OS file lock, released when the process dies, even by kill -9, so ``weidang status`` asks
the lock, not the run history (whose open row a killed harvest never closes), whether a harvest
is still running.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock to ask
    fcntl = None  # type: ignore[assignment]

from filelock import FileLock, Timeout


def account_lock_path(folder: Path, account: str) -> Path:
    """The lock a harvest of ``account`` holds while it runs."""
    return folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", account) + ".lock")


def take_account_lock(folder: Path, account: str) -> FileLock | None:
    """``account``'s harvest lock, held; None when another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(account_lock_path(folder, account)))
    try:
        # a second's patience: `weidang status` may be asking the lock at this instant
        lock.acquire(timeout=1)
    except Timeout:
        return None
    return lock


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
