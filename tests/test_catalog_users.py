"""catalog/users.py: users kept in the catalog, argon2 hashes, never deleted, every change an
event without password material."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from catalog.users import (
    UserError,
    add_user,
    authenticate,
    get_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
    user_history,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def db(catalogs):
    """A fresh catalog (SQLite, and PostgreSQL where one answers) with one admin."""
    db = catalogs.open()
    with db.write() as conn:
        add_user(conn, "alice", "admin", PASSWORD, "cli:root", "王芳")
    return db


def test_a_password_is_kept_only_as_an_argon2id_hash(db):
    with db.read() as conn:
        user = get_user(conn, "alice")
        stored = conn.execute(text("SELECT * FROM users")).fetchall()
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(stored) and PASSWORD not in repr(user)
    assert user.display_name == "王芳"


def test_authentication_checks_the_password_and_the_user_being_enabled(db):
    with db.write() as conn:
        add_user(conn, "bob", "researcher", PASSWORD, "alice")
        assert authenticate(conn, "bob", PASSWORD) is not None
        assert authenticate(conn, "BOB ", PASSWORD) is not None  # as people type it
        assert authenticate(conn, "bob", PASSWORD + "!") is None
        assert authenticate(conn, "nobody", PASSWORD) is None
        set_disabled(conn, "bob", True, "alice")
        assert authenticate(conn, "bob", PASSWORD) is None
        set_disabled(conn, "bob", False, "alice")
        set_password(conn, "bob", "a new long password", "alice")
        assert authenticate(conn, "bob", PASSWORD) is None
        assert authenticate(conn, "bob", "a new long password") is not None


@pytest.mark.parametrize(("name", "role", "password", "says"), [
    ("alice", "admin", PASSWORD, "exists already"),
    ("Carol", "admin", PASSWORD, "not usable"),
    ("carol", "boss", PASSWORD, "role 'boss' is unknown"),
    ("carol", "admin", "short", "too short"),
])
def test_what_cannot_be_added_is_refused_in_plain_words(db, name, role, password, says):
    with db.write() as conn, pytest.raises(UserError, match=says):
        add_user(conn, name, role, password, "alice")


def test_users_are_never_deleted_and_their_events_never_change(db):
    with db.read() as conn:
        with pytest.raises(DatabaseError, match="never deleted"):
            conn.execute(text("DELETE FROM users WHERE name = 'alice'"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE user_events SET actor = 'x'"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("DELETE FROM user_events"))
        conn.rollback()
        assert [u.name for u in list_users(conn)][:1] == ["alice"]


def test_every_change_is_an_event_naming_who_did_it_without_password_material(db):
    with db.write() as conn:
        add_user(conn, "dan", "researcher", PASSWORD, "alice")
        set_role(conn, "dan", "auditor", "alice")
        set_role(conn, "dan", "auditor", "alice")  # no change, no event
        set_password(conn, "dan", "another long password", "dan")
        set_disabled(conn, "dan", True, "alice")
        events = user_history(conn, "dan")
        raw = json.dumps(user_history(conn), ensure_ascii=False)
        hashes = [u.password_hash for u in list_users(conn)]
    assert [(e["actor"], e["action"]) for e in events] == [
        ("alice", "added"), ("alice", "role"), ("dan", "password"), ("alice", "disabled")]
    assert events[1]["details"] == {"from": "researcher", "to": "auditor"}
    assert all(e["at"].endswith("Z") for e in events)
    for secret in (PASSWORD, "another long password", "argon2", *hashes):
        assert secret not in raw
