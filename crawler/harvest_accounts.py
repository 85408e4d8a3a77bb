"""Harvest registered accounts: one typed outcome per account, harvested or skipped (and why).

Each account's lock is taken first; only then are its register entry and pauses looked at, and
with ``force`` its pauses cleared. So a forced harvest that finds the account busy (another
process harvests it) changes nothing, and its pause stays. The accounts that may run are
harvested together in this process (``run_harvests``: once per process, Scrapy's reactor).

The face turns its settings into a ``HarvestConfig``, formats the outcomes for people, and
prints them as JSON for the daemon (``Skipped.to_json`` is what schedules/child.py reads).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from catalog.accounts import Account, AccountRegistry
from catalog.credentials import CredentialStore
from catalog.db import Database
from catalog.rebuild import repair
from catalog.runs import Pause, RunLog
from crawler.account_lock import take_account_lock
from crawler.backfill import backfill_plan
from crawler.browser import BrowserSettings
from crawler.harvest import run_harvests
from crawler.job import HarvestJob, HarvestSummary
from crawler.login_check import LoginGate
from crawler.settings import Politeness
from warc_store import CaptureWriter, Collection, RedactionPolicy, StoreConfig, recover
from warc_store.recovery import quarantine_warnings

SkipWhy = Literal["busy", "paused", "removed"]


@dataclass(frozen=True)
class HarvestConfig:
    """What a harvest needs to know, as plain values (the face builds it from its settings)."""

    politeness: Politeness  # the give-up time included
    max_pages: int  # listing pages a backfill may walk in one run
    recheck_days: float
    proxy: str
    demo: bool  # every WARC file is marked as demo data
    collection: Path
    locks: Path  # the folder of the per-account locks
    credentials: CredentialStore
    store: StoreConfig
    redaction: RedactionPolicy  # the run's secret values are added to it
    proxy_ca: str = ""  # the CA of an intercepting proxy (the emulator's), for the login check
    login_warn_days: float = 7.0  # a login expiring this soon yields a notice (an alert)
    browser: BrowserSettings | None = None  # None: no browser stage (crawler.rendering)
    egress: str = ""  # this machine's address and logins, by name (catalog.pauses)
    comments_max: int = 200  # comments read per post, for accounts with comments on


@dataclass(frozen=True)
class Harvested:
    summary: HarvestSummary
    notices: tuple[str, ...] = ()  # its login expires soon: the daemon alerts
    kind: Literal["harvested"] = "harvested"

    @property
    def account(self) -> str:
        return self.summary.account

    def to_json(self) -> dict[str, Any]:
        data = self.summary.to_json()
        if self.notices:
            data["login_notices"] = list(self.notices)
        return data


@dataclass(frozen=True)
class Skipped:
    """The harvest of ``account`` did not run, and nothing was recorded for it."""

    account: str
    why: SkipWhy
    reason: str  # one sentence for the archivist
    pause: Pause | None = None
    alert: bool = False  # the pause is news: this harvest's login check made it
    kind: Literal["skipped"] = "skipped"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"account": self.account, "outcome": "skipped", "why": self.why,
                                "reason": self.reason, "pause": None, "alert": self.alert}
        if self.pause is not None:
            p = self.pause
            data["pause"] = {"scope": p.scope, "kind": p.target.kind, "health": p.target.health,
                             "reason": p.reason, "advice": p.advice, "until": p.until}
        return data


AccountOutcome = Harvested | Skipped


def harvest_accounts(keys: Sequence[str], config: HarvestConfig, db: Database, *,
                     clock: Callable[[], datetime], full: bool = False, force: bool = False,
                     progress: Callable[[str, int], None] | None = None,
                     warn: Callable[[str], None] | None = None) -> list[AccountOutcome]:
    """Harvest the registered accounts ``keys``; one outcome each, in their order.

    ``progress(account, payload_bytes)`` after each exchange; ``warn(sentence)`` at once for a
    file the collection's recovery set aside (the summaries carry it too)."""
    runs = RunLog(db, clock)
    outcomes: dict[str, AccountOutcome] = {}
    jobs: dict[str, HarvestJob] = {}
    secrets: list[str] = []
    gate = LoginGate(config.credentials, config.proxy, config.proxy_ca, config.login_warn_days)
    with ExitStack() as held:
        for key in sorted(keys):  # always in one order: two harvests never wait on each other
            lock = take_account_lock(config.locks, key)
            if lock is None:
                outcomes[key] = Skipped(key, "busy", f"{key} is being harvested by another weidang "
                                        "process right now; wait for that harvest to finish")
                continue
            held.callback(lock.release)
            ready = _ready(AccountRegistry(db, via="harvest"), runs, key, clock, force, config.egress)
            if not isinstance(ready, Skipped):
                ready = _checked(gate, ready, key, runs, clock)
            if isinstance(ready, Skipped):
                outcomes[key] = ready
                continue
            jobs[key] = _job(ready, key, db, runs, config, full, clock, secrets)
        if jobs:
            summaries = _run(jobs, config, db, secrets, clock, progress, warn)
            for (key, job), summary in zip(jobs.items(), summaries, strict=True):
                notice = gate.notices.pop(job.credentials_ref, None)  # told once, by one account
                outcomes[key] = Harvested(summary, (notice,) if notice else ())
    return [outcomes[key] for key in keys]


def _ready(registry: AccountRegistry, runs: RunLog, key: str, clock: Callable[[], datetime],
           force: bool, egress: str = "") -> Account | Skipped:
    """The account, if it may be harvested now (its lock held); with ``force`` its pauses end."""
    account = registry.get(key)
    if not account.active:
        return Skipped(key, "removed", f"{key} was removed from the register; add it again to "
                       "harvest it")
    paused = runs.pauses_for(key, account.credentials, clock(), egress)
    if paused and not force:
        p = paused[0]
        advice = p.advice or "wait until the pause ends"
        return Skipped(key, "paused", f"{key} is paused ({p.reason}); {advice} (or use --force "
                       "once the cause is fixed)", p)
    for p in paused:
        runs.clear(p.scope)
    return account


def _checked(gate: LoginGate, account: Account, key: str, runs: RunLog,
             clock: Callable[[], datetime]) -> Account | Skipped:
    """The account, unless the platform says its login ended (then its login is paused)."""
    pause = gate.stop(account.credentials, account.platform, key, runs, clock)
    if pause is None:
        return account
    return Skipped(key, "paused", f"{key} is paused ({pause.reason}); {pause.advice}", pause, alert=True)


def _job(account: Account, key: str, db: Database, runs: RunLog, config: HarvestConfig,
         full: bool, clock: Callable[[], datetime], secrets: list[str]) -> HarvestJob:
    """The account's job, its credentials read now (their secret values added to ``secrets``)."""
    credentials: dict[str, str | list[str]] = {}
    if account.credentials:
        found = config.credentials.get(account.credentials)
        credentials = job_credentials(found.fields)
        secrets += list(found.secrets)
    backfill, cursor = backfill_plan(db, runs, key, full)
    return HarvestJob(
        platform=account.platform, account_id=account.account_id,
        harvest_id=harvest_id(account, clock()), mode="full" if full else "incremental",
        max_pages=config.max_pages, recheck_days=config.recheck_days,
        credentials=credentials, credentials_ref=account.credentials or "", source=account.source,
        proxy=config.proxy, egress=config.egress, backfill=backfill, cursor=cursor,
        browser=account.browser, comments_max=config.comments_max if account.comments else 0)


def harvest_id(account: Account, now: datetime) -> str:
    return f"{account.platform}-{account.account_id}-{now.strftime('%Y%m%dT%H%M%S%fZ')}"


def job_credentials(fields: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Credential fields as a job takes them: texts stay texts, a list (``urls``) stays a list."""
    return {k: [str(item) for item in v] if isinstance(v, list | tuple) else str(v)
            for k, v in fields.items()}


def _run(jobs: dict[str, HarvestJob], config: HarvestConfig, db: Database, secrets: list[str],
         clock: Callable[[], datetime], progress: Callable[[str, int], None] | None,
         warn: Callable[[str], None] | None) -> list[HarvestSummary]:
    """Run the jobs through one writer, after recovering what dead writers left open."""
    collection = Collection.create(config.collection)
    info = {"weidang-harvest-id": ", ".join(j.harvest_id for j in jobs.values()),
            "weidang-accounts": ", ".join(jobs),
            "operator-host": socket.gethostname()}
    if config.demo:
        info["weidang-demo"] = "true"
    warnings = quarantine_warnings(collection, recover(collection))
    for warning in warnings:
        if warn is not None:
            warn(warning)
    redaction = config.redaction.with_secrets(secrets)
    with CaptureWriter(collection, config.store, redaction, info) as writer:
        repair(db, collection)  # versions a crashed harvest wrote to the WARC but not the catalog
        summaries = run_harvests(list(jobs.values()), writer=writer, db=db, politeness=config.politeness,
                                 clock=clock, progress=progress, browser=config.browser)
    for summary in summaries:
        summary.files = list(writer.files_closed)
        summary.warnings += warnings  # the daemon alerts on them (schedules.outcome)
    return summaries
