"""What a sync changes: the catalog's schedules against the jobs the daemon has, as plain data.

Nothing here touches APScheduler or the catalog: the daemon reads both, asks ``changes`` what
to add, replace and remove, asks ``placement`` where each new job starts, and applies that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    """Job ids (accounts) to add, to replace (their schedule changed) and to remove; ``recheck``:
    at start, jobs whose schedule did not change but that may be overdue (catching up)."""

    add: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    recheck: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.replace or self.remove)


def changes(wanted: Mapping[str, str], scheduled: Mapping[str, str], catch_up: bool = False) -> Changes:
    """``wanted``: each runnable account's schedule signature; ``scheduled``: each job's id and
    signature. With ``catch_up`` (at start) every unchanged job is rechecked too."""
    add = tuple(key for key in wanted if key not in scheduled)
    replace = tuple(key for key, sig in wanted.items() if key in scheduled and scheduled[key] != sig)
    remove = tuple(key for key in scheduled if key not in wanted)
    recheck = tuple(key for key, sig in wanted.items()
                    if catch_up and scheduled.get(key) == sig)
    return Changes(add, replace, remove, recheck)


@dataclass(frozen=True)
class Placement:
    """Where a job's schedule is counted from, and whether a run is due at once."""

    anchor: dt.datetime
    due: bool


def placement(last_started: dt.datetime | None, last_ended: bool, period_seconds: float,
              now: dt.datetime, in_flight: bool = False) -> Placement:
    """Due: never run, its period is over, or its last run was cut off (kill -9, power loss), so
    a daemon that was down loses no run. The schedule counts from the last start (else now).

    ``in_flight``: this daemon has a run of the account queued or running. That run is this
    period's, though the catalog may show none yet (still preparing) or one not ended: not due,
    counted from now (else a schedule changed meanwhile runs the account again at once)."""
    if in_flight:
        return Placement(now, False)
    if last_started is None:
        return Placement(now, True)
    due = not last_ended or last_started + dt.timedelta(seconds=period_seconds) <= now
    return Placement(last_started, due)


def problems_to_tell(told: Mapping[str, str], found: Mapping[str, str]) -> dict[str, str]:
    """Of the accounts whose schedule cannot run, those not yet told with this same problem (an
    alert once per problem, not at every sync)."""
    return {key: problem for key, problem in found.items() if told.get(key) != problem}
