"""A harvest that did not run, and why, as the archivist reads it and as the daemon reads it.

`weidang harvest` refuses an account that another process is harvesting (``busy``), that a
pause stops (``paused``) or that was removed from the register (``removed``). People get the
sentence; with ``--json`` the command also prints the same facts as data, which is all the
daemon reads (schedules/child.py): it never matches the wording of a sentence.
"""

from __future__ import annotations

from typing import Any, Literal

from catalog.runs import Pause
from crawler.errors import CrawlError

Why = Literal["busy", "paused", "removed"]


class HarvestSkipped(CrawlError):
    """The harvest of ``account`` did not run (nothing was recorded for it)."""

    def __init__(self, message: str, account: str, why: Why, pause: Pause | None = None) -> None:
        super().__init__(message)
        self.account = account
        self.why = why
        self.pause = pause

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"account": self.account, "outcome": "skipped", "why": self.why,
                                "reason": str(self), "pause": None}
        if self.pause is not None:
            p = self.pause
            data["pause"] = {"scope": p.scope, "kind": p.target.kind, "health": p.target.health,
                             "reason": p.reason, "advice": p.advice, "until": p.until}
        return data
