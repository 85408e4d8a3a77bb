"""From catalog accounts to APScheduler triggers, and how long a failing account is backed off.

The catalog is the one source of schedules: each active account becomes one job whose id is the
account (``platform:id``) and whose name is the schedule's signature, so that a sync only touches
the jobs whose schedule changed (without unpickling every stored job).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from catalog.account_fields import check_schedule
from catalog.accounts import Account
from catalog.errors import InvalidAccount
from catalog.runs import Run
from harvesters.dates import SHANGHAI

FAILED = ("failed", "stopped")


@dataclass(frozen=True)
class JobPlan:
    """One account's schedule, as the daemon runs it."""

    key: str
    credentials: str | None
    interval_seconds: int | None
    cron: str | None
    jitter_seconds: int

    @classmethod
    def of(cls, account: Account, default_interval: int, default_jitter: int) -> JobPlan:
        s = account.schedule(default_interval, default_jitter)
        return cls(account.key, account.credentials, s.interval_seconds, s.cron, s.jitter_seconds)

    @property
    def problem(self) -> str | None:
        """Why this schedule cannot be run, or None: the catalog checks schedules as they are
        given, but one stored by an older weidang (an interval of a million days) may not be."""
        try:
            check_schedule(self.interval_seconds, self.cron, self.jitter_seconds)
        except InvalidAccount as exc:
            return (f"the schedule of {self.key} cannot be run ({exc}); set a new one with "
                    f"`weidang accounts schedule {self.key}`")
        return None

    @property
    def signature(self) -> str:
        when = f"cron {self.cron}" if self.cron else f"every {self.interval_seconds}s"
        return f"{when} jitter {self.jitter_seconds}s"

    def trigger(self, anchor: dt.datetime) -> BaseTrigger:
        """Fire times from ``anchor`` (the last run's start, or now) on; jitter delays each start."""
        jitter = self.jitter_seconds or None
        if self.cron:
            return cron_trigger(self.cron, jitter)
        return IntervalTrigger(seconds=self.interval_seconds or 86400, start_date=anchor,
                               timezone=dt.UTC, jitter=jitter)

    def period_seconds(self, now: dt.datetime) -> float:
        """The time between two runs (for a cron schedule, between its next two fire times)."""
        if not self.cron:
            return float(self.interval_seconds or 86400)
        trigger = cron_trigger(self.cron)
        first = trigger.get_next_fire_time(None, now)
        second = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1)) if first else None
        return (second - first).total_seconds() if first and second else 86400.0


def runnable_plans(accounts: Iterable[Account], default_interval: int,
                   default_jitter: int) -> tuple[dict[str, JobPlan], dict[str, str]]:
    """The accounts' plans the daemon can run, and for each other account why it cannot."""
    plans: dict[str, JobPlan] = {}
    problems: dict[str, str] = {}
    for account in accounts:
        plan = JobPlan.of(account, default_interval, default_jitter)
        problem = plan.problem
        if problem is None:
            plans[plan.key] = plan
        else:
            problems[plan.key] = problem
    return plans, problems


def cron_trigger(expr: str, jitter: int | None = None) -> CronTrigger:
    """Five crontab fields, China time, with crontab's weekdays (0 or 7 = Sunday).

    APScheduler 3's ``from_crontab`` keeps weekday numbers as its own (0 = Monday), so a crontab
    written for cron would run a day late; numbers become names here.
    """
    minute, hour, day, month, day_of_week = expr.split()
    names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
    day_of_week = re.sub(r"(?<![/\d])(\d)(?!\d)", lambda m: names[int(m.group(1)) % 8], day_of_week)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       timezone=SHANGHAI, jitter=jitter)  # China time, wherever the server runs


def consecutive_failures(history: list[Run]) -> int:
    """How many of the newest finished runs failed or were stopped, in a row."""
    count = 0
    for run in history:
        if run.ended_at is None:
            continue
        if run.outcome not in FAILED:
            break
        count += 1
    return count


def backoff_until(plan: JobPlan, history: list[Run], now: dt.datetime,
                  max_seconds: int) -> dt.datetime | None:
    """When a failing account may run again: its period doubles per failure in a row (capped at
    ``max_seconds``, or the period if that is longer), counted from the last failed start."""
    failures = consecutive_failures(history)
    if failures == 0:
        return None
    last = next(r for r in history if r.ended_at is not None)
    period = plan.period_seconds(now)
    delay = min(period * (2 ** failures - 1), max(float(max_seconds), period))
    until = parse_time(last.started_at) + dt.timedelta(seconds=delay)
    return until if until > now else None


def parse_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
