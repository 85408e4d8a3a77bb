"""Daemons over a test home whose harvests are tests/schedules_fake_harvest.py (fast, scripted)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from catalog.accounts import AccountRegistry
from catalog.db import Database
from schedules.daemon import Daemon, DaemonConfig

FAKE = Path(__file__).resolve().parent / "schedules_fake_harvest.py"


def config(home: Path, **overrides: Any) -> DaemonConfig:
    home.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = dict(home=home, catalog_path=home / "catalog.sqlite",
                                  harvest_command=[sys.executable, str(FAKE), str(home)],
                                  sync_seconds=0.3, default_jitter=0, stop_timeout_seconds=10,
                                  log_dir=home / "logs", log_to_stderr=False)
    values.update(overrides)
    return DaemonConfig(**values)


def add(home: Path, key: str, **fields: str) -> None:
    db = Database(home / "catalog.sqlite")
    try:
        AccountRegistry(db, via="test").add(key, **{"jitter": "0", **fields})
    finally:
        db.close()


def script(home: Path, **plans: dict[str, Any]) -> None:
    """What the fake harvest does per account (keys with ':' passed as weibo_1 -> weibo:1)."""
    (home / "fake.json").write_text(json.dumps({k.replace("__", ":"): v for k, v in plans.items()}))


def starts(home: Path, account: str | None = None) -> list[dict[str, Any]]:
    log = home / "fake.log"
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [e for e in events if e["event"] == "start" and (account is None or e["account"] == account)]


def intervals(home: Path) -> list[tuple[str, float, float]]:
    """(account, start, end) of every finished fake harvest."""
    log = home / "fake.log"
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    open_: dict[str, float] = {}
    out = []
    for e in events:
        if e["event"] == "start":
            open_[e["account"]] = e["t"]
        elif e["account"] in open_:
            out.append((e["account"], open_.pop(e["account"]), e["t"]))
    return out


class Background:
    """A daemon running in a thread, stopped (cleanly) on exit."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.thread = threading.Thread(target=daemon.run, daemon=True)

    def __enter__(self) -> Daemon:
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.daemon.scheduler is None or not self.daemon.scheduler.running:
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.05)
        return self.daemon

    def __exit__(self, *exc: object) -> None:
        self.daemon.request_stop()
        self.thread.join(30)


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; ``timeout`` only bounds the wait (generous: a busy
    machine's subprocesses start slowly), it is never what a test checks."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
