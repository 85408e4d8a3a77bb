"""The account registry: which accounts the archive follows, how to log in, and when to harvest.

Accounts are authoritative catalog rows (see ``catalog.db``). Every change is written in the same
transaction as an ``account_events`` row (when, who, through what, each field's old and new
value), so the registry's history can always be told. Removing an account marks it inactive and
keeps the row, its events and everything captured; adding it again restores it.

Schedules: an account has an interval or a cron expression (never both) and a jitter. Unset fields
mean the defaults, ``DEFAULT_INTERVAL_SECONDS`` (once a day) and ``DEFAULT_JITTER_SECONDS`` (up to
15 minutes earlier or later, so that hundreds of accounts do not start on the same second); the
face passes the ``CATALOG_SCHEDULE_*`` settings in their place.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Connection, Row, func, select

from catalog.account_fields import (
    check_credentials_reference,
    check_cron,
    check_free_text,
    check_source,
    check_switch,
    parse_account,
    parse_duration,
    schedule_words,
)
from catalog.db import Database
from catalog.errors import DuplicateAccount, InvalidAccount, UnknownAccount
from catalog.schema import account_events, accounts, iso

DEFAULT_INTERVAL_SECONDS = 86400
DEFAULT_JITTER_SECONDS = 900

# Keyword names callers use (files, command line) -> catalog columns.
EDITABLE = {"name": "name", "credentials": "credentials", "source": "source",
            "interval": "interval_seconds", "cron": "cron", "jitter": "jitter_seconds", "notes": "notes",
            "browser": "browser", "comments": "comments"}

Clock = Callable[[], dt.datetime]
# Module-level aliases: inside AccountRegistry, "list" is its method.
Changes = dict[str, list[Any]]  # field -> [old, new]
Events = list["AccountEvent"]


@dataclass(frozen=True)
class Schedule:
    """When an account is harvested: every ``interval_seconds`` or at ``cron``, +/- ``jitter_seconds``."""

    interval_seconds: int | None
    cron: str | None
    jitter_seconds: int
    is_default: bool


@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str
    name: str = ""
    credentials: str | None = None
    source: str | None = None
    interval_seconds: int | None = None
    cron: str | None = None
    jitter_seconds: int | None = None
    notes: str = ""
    active: bool = True
    created_at: str = ""
    updated_at: str = ""
    removed_at: str | None = None
    browser: bool = True  # its posts' pages rendered in Chromium (where the settings allow it)
    comments: bool = False  # its new posts' comments asked for and archived (opt-in)

    @property
    def key(self) -> str:
        """The account's name everywhere: ``platform:id``."""
        return f"{self.platform}:{self.account_id}"

    def schedule(self, default_interval: int = DEFAULT_INTERVAL_SECONDS,
                 default_jitter: int = DEFAULT_JITTER_SECONDS) -> Schedule:
        jitter = default_jitter if self.jitter_seconds is None else self.jitter_seconds
        if self.cron:
            return Schedule(None, self.cron, jitter, False)
        if self.interval_seconds:
            return Schedule(self.interval_seconds, None, jitter, False)
        return Schedule(default_interval, None, jitter, self.jitter_seconds is None)

    @classmethod
    def from_row(cls, row: Row[Any]) -> Account:
        values = {f.name: row._mapping[f.name] for f in fields(cls)}
        values["active"] = bool(values["active"])
        values["browser"] = values["browser"] != 0  # NULL (never set) is on
        values["comments"] = values["comments"] == 1  # NULL (never set) is off
        return cls(**values)


@dataclass(frozen=True)
class AccountEvent:
    seq: int
    at: str
    actor: str
    account: str
    action: str
    changes: dict[str, list[Any]]
    via: str


def clean_fields(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate caller-named fields (see ``EDITABLE``) into catalog columns; raises InvalidAccount.
    ``schedule`` is a schedule said in Chinese (``schedule_words``): it fills interval or cron."""
    raw = dict(raw)
    if raw.get("schedule") not in (None, ""):  # 每6小时 etc.: the interval or cron it means
        raw.update({k: v for k, v in schedule_words(str(raw["schedule"])).items()
                    if raw.get(k) in (None, "")})
    raw.pop("schedule", None)
    unknown = sorted(set(raw) - set(EDITABLE))
    if unknown:
        raise InvalidAccount("unknown account field " + ", ".join(unknown) + "; known fields are "
                             + ", ".join(EDITABLE))
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("name", "notes"):
            cleaned[key] = check_free_text(key, value)
        elif key == "credentials":
            cleaned[key] = check_credentials_reference(value)
        elif key == "source":
            cleaned[key] = check_source(platform, value)
        elif key == "cron":
            cleaned[key] = check_cron(value)
        elif key == "browser":
            cleaned[key] = int(check_switch(key, value))
        elif key == "comments":
            cleaned[key] = int(check_switch(key, value, default=False))
        else:
            cleaned[EDITABLE[key]] = parse_duration(key, value)
    if cleaned.get("interval_seconds") and cleaned.get("cron"):
        raise InvalidAccount("give either an interval or a cron expression, not both")
    # A schedule is one or the other, so setting one clears the other.
    if cleaned.get("interval_seconds"):
        cleaned.setdefault("cron", None)
    if cleaned.get("cron"):
        cleaned.setdefault("interval_seconds", None)
    return cleaned


class AccountRegistry:
    """Add, read, change and remove accounts; ``via`` says through what (command, import file)."""

    def __init__(self, db: Database, clock: Clock | None = None, actor: str | None = None,
                 via: str = "") -> None:
        self.db = db
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.actor = actor or _current_user()
        self.via = via

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make every change inside one transaction: all of them happen, or none."""
        with self.db.write():
            yield

    def find(self, key: str) -> Account | None:
        platform, account_id = parse_account(key)
        with self.db.read() as conn:
            row = conn.execute(select(accounts).where(
                accounts.c.platform == platform, accounts.c.account_id == account_id)).first()
        return Account.from_row(row) if row else None

    def get(self, key: str) -> Account:
        account = self.find(key)
        if account is None:
            raise UnknownAccount(f"{key.strip()} is not registered; `weidang accounts list` shows "
                                 "the registered accounts")
        return account

    def list(self, include_removed: bool = False, platform: str | None = None) -> list[Account]:
        query = select(accounts).order_by(accounts.c.platform, accounts.c.account_id)
        if not include_removed:
            query = query.where(accounts.c.active == 1)
        if platform:
            query = query.where(accounts.c.platform == platform)
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
        return [Account.from_row(r) for r in rows]

    def add(self, key: str, **raw: Any) -> Account:
        """Register an account; adding one that was removed restores it with the new fields."""
        platform, account_id = parse_account(key)
        cleaned = clean_fields(platform, raw)
        existing = self.find(key)
        if existing is not None and existing.active:
            raise DuplicateAccount(f"{existing.key} is already registered; change it with "
                                   "`weidang accounts import` or remove it first")
        if existing is not None:
            return self._change(existing, cleaned, restore=True)
        now = self._now()
        values = {"name": "", "credentials": None, "source": None, "interval_seconds": None,
                  "cron": None, "jitter_seconds": None, "notes": "", **cleaned}
        with self.db.write() as conn:
            conn.execute(accounts.insert().values(platform=platform, account_id=account_id, active=1,
                                                  created_at=now, updated_at=now, **values))
            changes = {k: [None, v] for k, v in values.items() if v not in (None, "")}
            self._event(conn, f"{platform}:{account_id}", "add", changes, now)
        return self.get(key)

    def update(self, key: str, **raw: Any) -> Account:
        """Change the given fields; an unchanged value records nothing."""
        account = self.get(key)
        if not account.active:
            raise UnknownAccount(f"{account.key} was removed on {account.removed_at}; add it again to "
                                 "restore it")
        return self._change(account, clean_fields(account.platform, raw), restore=False)

    def remove(self, key: str) -> Account:
        """Stop following an account; its row, events and captures are all kept."""
        account = self.get(key)
        if not account.active:
            raise UnknownAccount(f"{account.key} was already removed on {account.removed_at}")
        now = self._now()
        with self.db.write() as conn:
            conn.execute(accounts.update().where(*self._is(account)).values(
                active=0, removed_at=now, updated_at=now))
            self._event(conn, account.key, "remove", {"active": [True, False]}, now)
        return self.get(key)

    def upsert(self, key: str, **raw: Any) -> str:
        """Add, restore or update; returns what happened: added, restored, updated or unchanged."""
        platform, _ = parse_account(key)
        cleaned = clean_fields(platform, raw)
        existing = self.find(key)
        if existing is None:
            self.add(key, **raw)
            return "added"
        before = existing
        after = self._change(existing, cleaned, restore=not existing.active)
        if not before.active:
            return "restored"
        return "updated" if after != before else "unchanged"

    def events(self, key: str | None = None) -> Events:
        query = select(account_events).order_by(account_events.c.seq)
        if key is not None:
            platform, account_id = parse_account(key)
            query = query.where(account_events.c.account == f"{platform}:{account_id}")
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
        return [AccountEvent(r.seq, r.at, r.actor, r.account, r.action, json.loads(r.changes), r.via)
                for r in rows]

    def change_mark(self) -> int | None:
        """A number that changes whenever any account is added, changed or removed (None while
        none ever was): every change writes an account event, so a reader that keeps the mark
        re-reads the accounts only when it moved (the daemon's sync of 10,000 accounts)."""
        with self.db.read() as conn:
            mark = conn.execute(select(func.max(account_events.c.seq))).scalar()
        return None if mark is None else int(mark)

    def _change(self, account: Account, cleaned: dict[str, Any], restore: bool) -> Account:
        current = asdict(account)
        changes: Changes = {col: [current[col], value] for col, value in cleaned.items()
                            if current[col] != value}
        if restore:
            changes["active"] = [False, True]
        if not changes:
            return account
        now = self._now()
        assignments = {col: pair[1] for col, pair in changes.items() if col != "active"}
        if restore:
            assignments.update(active=1, removed_at=None)
        assignments["updated_at"] = now
        with self.db.write() as conn:
            conn.execute(accounts.update().where(*self._is(account)).values(**assignments))
            self._event(conn, account.key, "restore" if restore else "update", changes, now)
        return self.get(account.key)

    @staticmethod
    def _is(account: Account) -> tuple[Any, ...]:
        return accounts.c.platform == account.platform, accounts.c.account_id == account.account_id

    def _event(self, conn: Connection, account: str, action: str, changes: Changes, at: str) -> None:
        conn.execute(account_events.insert().values(
            at=at, actor=self.actor, account=account, action=action, via=self.via,
            changes=json.dumps(changes, ensure_ascii=False, sort_keys=True)))

    def _now(self) -> str:
        return iso(self.clock())


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry, e.g. in some containers
        return "unknown"
