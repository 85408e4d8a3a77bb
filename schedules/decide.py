"""Whether a scheduled run may start now, and if not why and when to try again.

Pure: the daemon reads the account's plan, its recent runs and the active pauses from the
catalog, and knows which harvests it is running; this module only decides. Which pauses stop an
account is the catalog's rule (``catalog.runs.stopping``, over ``PauseScope``), and how long a
failing account waits is ``schedules.plan.backoff_until``: neither is written again here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from catalog.runs import Pause, Run, stopping
from catalog.schema import iso
from schedules.plan import JobPlan, backoff_until, parse_time


@dataclass(frozen=True)
class Decision:
    """``what``: "start", or the skip as the daemon reports it (``skipped-paused``, ...);
    ``retry_at``: when the run should be tried again (None: at its next scheduled time)."""

    what: str
    reason: str = ""
    retry_at: dt.datetime | None = None

    @property
    def start(self) -> bool:
        return self.what == "start"


START = Decision("start")


def decide(key: str, plan: JobPlan | None, history: Sequence[Run], pauses: Sequence[Pause],
           running: Collection[str], capacity: int, now: dt.datetime,
           backoff_max_seconds: int) -> Decision:
    """May ``key`` start now? ``plan`` None: the account is no longer registered (or active);
    ``history``: its newest runs first; ``pauses``: all pauses in force; ``running``: the
    accounts the daemon is harvesting; ``capacity``: how many harvests may run at once."""
    if plan is None:
        return Decision("skipped-removed", "the account is no longer registered")
    if key in running:
        return Decision("skipped-busy", f"{key} is still being harvested")
    if len(running) >= capacity:
        # The executor's threads already cap the harvests; this only holds if that ever changes.
        return Decision("skipped-capacity", f"{len(running)} harvests are running, the most allowed",
                        now + dt.timedelta(seconds=60))
    paused = stopping(list(pauses), key, plan.credentials)
    if paused:
        return _paused(paused)
    until = backoff_until(plan, list(history), now, backoff_max_seconds)
    if until is not None:
        return Decision("skipped-backoff", f"it failed in a row; backed off until {iso(until)}", until)
    return START


def _paused(pauses: list[Pause]) -> Decision:
    """Skipped while paused; when every pause ends by itself, tried again right after."""
    ends = [parse_time(p.until) for p in pauses if p.until]
    retry = max(ends) + dt.timedelta(seconds=1) if len(ends) == len(pauses) else None
    p = pauses[0]
    reason = (f"{p.scope} is paused: {p.reason}"
              + (f" (until {p.until})" if p.until else " (until cleared)"))
    return Decision("skipped-paused", reason, retry)
