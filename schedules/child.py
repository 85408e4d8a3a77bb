"""Scheduled harvests as child processes: started, read, and stopped with signals.

Scrapy's Twisted reactor cannot be restarted inside a process, and a child keeps the daemon
small, so each run is the face's ``harvest ACCOUNT --json`` command. The daemon reads only the
data the child prints on stdout: its summaries, or ``{"outcome": "skipped", "why": "busy" |
"paused" | "removed", ...}`` when it did not harvest (skips, never failures). Anything else is a
crash, told by the one-sentence ``Error: ...`` on stderr; no sentence's wording decides anything.
"""

from __future__ import annotations

import ctypes
import json
import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SKIPS = ("busy", "paused", "removed")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass
class ChildResult:
    """What a finished child said: its summary, why it did not harvest, or that it crashed."""

    returncode: int
    summary: dict[str, Any] | None
    error: str
    skipped: dict[str, Any] | None = None
    kind: str = field(init=False)  # "harvested", "busy", "paused", "removed" or "crashed"

    def __post_init__(self) -> None:
        if self.summary is not None:
            self.kind = "harvested"
        elif self.skipped is not None and self.skipped.get("why") in SKIPS:
            self.kind = str(self.skipped["why"])
        else:
            self.kind = "crashed"

    @property
    def outcome(self) -> str:
        return str(self.summary.get("outcome", "failed")) if self.summary else "failed"


def ends_with_parent(sig: signal.Signals) -> Callable[[], None]:
    """A ``preexec_fn``: Linux sends the child ``sig`` when the thread that started it ends,
    however that happens (Ctrl+C, systemd's SIGTERM, kill -9), so that no child outlives it
    (prctl PR_SET_PDEATHSIG). Elsewhere the child lives on by itself."""
    def in_child() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # not Linux
    return in_child


def start_child(command: list[str], account: str,
                preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:
    # A session of its own: Ctrl-C in the daemon's terminal must not reach the child as well,
    # since Scrapy takes a second signal as "shut down uncleanly"; the daemon sends it one SIGTERM.
    return subprocess.Popen([*command, account, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            encoding="utf-8", errors="replace", start_new_session=True,
                            preexec_fn=preexec)


def read_result(returncode: int, stdout: str, stderr: str) -> ChildResult:
    first: dict[str, Any] | None = None
    text = stdout.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if parsed and isinstance(parsed[0], dict):
                first = parsed[0]
        except ValueError:
            first = None
    error = _error_sentence(stderr, returncode)
    if first is not None and first.get("outcome") == "skipped":
        return ChildResult(returncode, None, str(first.get("reason") or error), skipped=first)
    return ChildResult(returncode, first, error)


def _error_sentence(stderr: str, returncode: int) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("Error:").strip() for line in lines if line.startswith("Error:")]
    if errors:
        return errors[-1]
    if returncode < 0:
        return f"the harvest process was ended by signal {-returncode}"
    return f"the harvest process exited with status {returncode}" + (f" ({lines[-1][:300]})" if lines else "")


class Children:
    """The harvest children the daemon runs: started, waited for, and stopped with signals.

    Stopping is two steps, as the README promises: one SIGTERM to each child (which gives up what
    it waits for, closes its WARC files and records ``partial``: crawler/stopping.py), then, after
    the grace period, SIGKILL (the WARC store recovers the file at the next start).
    """

    def __init__(self, command: list[str], log: logging.Logger) -> None:
        self.command = command
        self.log = log
        self._running: dict[str, subprocess.Popen[str]] = {}
        self._guard = threading.Lock()
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def running(self) -> set[str]:
        """The accounts being harvested now."""
        with self._guard:
            return {key for key, proc in self._running.items() if proc.poll() is None}

    def run(self, key: str) -> ChildResult:
        """Harvest ``key`` in a child and wait for its result (at once, if stopping)."""
        if self.stopping:  # stopped while this run was being prepared
            return ChildResult(-signal.SIGTERM, None, "the daemon was stopping")
        self.log.info("harvest of %s started", key)
        proc = start_child(self.command, key)
        with self._guard:
            self._running[key] = proc
        if self.stopping:  # stop() may have signalled the others before this one was listed
            send(proc, signal.SIGTERM)
        try:
            out, err = proc.communicate()
        finally:
            with self._guard:
                self._running.pop(key, None)
        return read_result(proc.returncode, out, err)

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait up to ``seconds`` for every running child to end (or for ``until`` to be set)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until is not None and until.is_set()):
            if not self.running():
                return
            time.sleep(0.1)

    def stop(self, grace_seconds: float) -> None:
        """Start no more; SIGTERM to each running child; SIGKILL those still running after
        ``grace_seconds``."""
        self._stopping.set()
        with self._guard:
            children = dict(self._running)
        for key, proc in children.items():
            self.log.info("stopping the harvest of %s (process %d)", key, proc.pid)
            send(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and any(p.poll() is None for p in children.values()):
            time.sleep(0.1)
        for key, proc in children.items():
            if proc.poll() is None:
                self.log.warning("the harvest of %s did not stop in %.0f s; killed (its WARC file is "
                                 "recovered at the next start)", key, grace_seconds)
                send(proc, signal.SIGKILL)


def send(proc: subprocess.Popen[str], sig: int) -> None:
    """Signal a child that may have just ended."""
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
