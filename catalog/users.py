"""The people who may use the web interface: their names, roles and password hashes.

Users are authoritative records, not derived data: a user is never deleted (disabled instead, so
that the events naming them keep their meaning), and every change is an event saying who did what
and when. Passwords are kept only as argon2id hashes; no event ever holds password material.

Written with SQLAlchemy Core: every function takes a ``Connection`` and commits nothing itself
(``Database.write()`` around the calls is the caller's transaction). The tables are part of the
catalog's one schema (``catalog/schema.py``, migration 7).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    update,
)

from catalog.errors import CatalogError
from catalog.schema import iso, user_events, users, utc_now

ROLES = ("researcher", "archivist", "auditor", "admin")
MIN_PASSWORD = 10  # characters; argon2 makes guessing slow, length makes it hopeless
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost

class UserError(CatalogError):
    """A user cannot be added or changed as asked."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display_name: str
    disabled: bool
    created_at: str
    password_changed_at: str
    password_hash: str  # kept out of repr() and messages by callers: never shown

    def __repr__(self) -> str:
        return f"User(name={self.name!r}, role={self.role!r}, disabled={self.disabled})"


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, refused when it is too short to be safe."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def add_user(conn: Connection, name: str, role: str, password: str, actor: str,
             display_name: str = "") -> User:
    """Register ``name`` with ``role``; refused if the name is taken (even by a disabled user)."""
    check_name(name)
    check_role(role)
    if get_user(conn, name) is not None:
        raise UserError(f"the user {name} exists already; change their password or role instead")
    now = _now()
    conn.execute(insert(users).values(name=name, role=role, display_name=display_name,
                                      password_hash=hash_password(password), disabled=False,
                                      created_at=now, password_changed_at=now))
    _event(conn, actor, name, "added", {"role": role, "display_name": display_name}, now)
    return _must(conn, name)


def set_password(conn: Connection, name: str, password: str, actor: str) -> None:
    """Replace the password of ``name`` (their open sessions end: see ``session_stamp``)."""
    _must(conn, name)
    now = _now()
    conn.execute(update(users).where(users.c.name == name)
                 .values(password_hash=hash_password(password), password_changed_at=now))
    _event(conn, actor, name, "password", {}, now)


def set_role(conn: Connection, name: str, role: str, actor: str) -> None:
    check_role(role)
    before = _must(conn, name).role
    if before == role:
        return
    conn.execute(update(users).where(users.c.name == name).values(role=role))
    _event(conn, actor, name, "role", {"from": before, "to": role}, _now())


def set_disabled(conn: Connection, name: str, disabled: bool, actor: str) -> None:
    """Disable (or enable again) ``name``: a disabled user cannot log in, and is kept."""
    if _must(conn, name).disabled == disabled:
        return
    conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))
    _event(conn, actor, name, "disabled" if disabled else "enabled", {}, _now())


def authenticate(conn: Connection, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs and they are enabled, else None (the same answer for
    an unknown name, a wrong password and a disabled user: a login form must not tell which)."""
    user = get_user(conn, name.strip().lower())
    if user is None:
        _HASHER.hash(password)  # the same work as a real check: timing tells nothing either
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):  # a cost raised since: upgrade silently
        conn.execute(update(users).where(users.c.name == user.name)
                     .values(password_hash=_HASHER.hash(password)))
    return user


def session_stamp(user: User) -> str:
    """What a session keeps to stay valid: it changes when the password does."""
    return user.password_changed_at


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    return _user(row) if row is not None else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name)).mappings()]


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def user_history(conn: Connection, name: str | None = None) -> list[dict[str, Any]]:
    """The events (of one user, or all), oldest first."""
    query = select(user_events).order_by(user_events.c.seq)
    if name is not None:
        query = query.where(user_events.c.user == name)
    return [{**dict(r), "details": json.loads(r["details"])}
            for r in conn.execute(query).mappings()]


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise UserError(f"the user name {name!r} is not usable: use 2 to 32 lower-case letters, "
                        "digits, dots, dashes or underscores, starting with a letter or digit")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"the role {role!r} is unknown; use one of {', '.join(ROLES)}")


def _must(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise UserError(f"there is no user {name}; `weidang users list` shows who exists")
    return user


def _user(row: Any) -> User:
    return User(name=row["name"], role=row["role"], display_name=row["display_name"],
                disabled=bool(row["disabled"]), created_at=row["created_at"],
                password_changed_at=row["password_changed_at"], password_hash=row["password_hash"])


def _event(conn: Connection, actor: str, name: str, action: str, details: dict[str, Any],
           at: str) -> None:
    conn.execute(insert(user_events).values(at=at, actor=actor, user=name, action=action,
                                            details=json.dumps(details, ensure_ascii=False)))


def _now() -> str:
    return iso(utc_now())
