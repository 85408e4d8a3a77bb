"""One scheduled harvest as a child process, and what its exit means for the schedule.

Scrapy's Twisted reactor cannot be restarted inside a process, and a child keeps the daemon
small, so each run is the face's ``harvest ACCOUNT --json`` command. The daemon reads only the
data the child prints on stdout: its summaries, or ``{"outcome": "skipped", "why": "busy" |
"paused" | "removed", ...}`` when it did not harvest (skips, never failures). Anything else is a
crash, told by the one-sentence ``Error: ...`` on stderr; no sentence's wording decides anything.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

SKIPS = ("busy", "paused", "removed")


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


def start_child(command: list[str], account: str) -> subprocess.Popen[str]:
    # A session of its own: Ctrl-C in the daemon's terminal must not reach the child as well,
    # since Scrapy takes a second signal as "shut down uncleanly"; the daemon sends it one SIGTERM.
    return subprocess.Popen([*command, account, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            encoding="utf-8", errors="replace", start_new_session=True)


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
