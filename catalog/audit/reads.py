"""What the audit reads from the catalog: post times, media and the evidence of each version, of
one collection. Read-only queries of its own, so the audit needs nothing new from the modules
that write the catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, text

from catalog.audit.secret_scan import cells_finding
from catalog.db import Database


def table_names(db: Database) -> set[str]:
    """The tables the catalog has (checks of features not built yet say so by their absence)."""
    with db.read() as conn:
        return set(inspect(conn).get_table_names())


@dataclass(frozen=True)
class VersionTimes:
    post: str  # platform:post_id
    version: int
    published_at: str | None
    captured_at: str
    metadata_record_id: str


def version_times(db: Database, collection: str) -> list[VersionTimes]:
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT v.platform, v.post_id, v.version, p.published_at, v.captured_at, "
            "v.metadata_record_id FROM versions v JOIN posts p ON p.platform = v.platform "
            "AND p.post_id = v.post_id WHERE v.collection = :c ORDER BY v.platform, v.post_id, "
            "v.version"), {"c": collection}).fetchall()
    return [VersionTimes(f"{r[0]}:{r[1]}", int(r[2]), r[3], str(r[4]), str(r[5])) for r in rows]


@dataclass(frozen=True)
class MediaRow:
    post: str
    version: int
    position: int
    kind: str
    url: str
    record_id: str | None


def media_rows(db: Database, collection: str) -> list[MediaRow]:
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT m.platform, m.post_id, m.version, m.position, m.kind, m.url, m.record_id "
            "FROM media m JOIN versions v ON v.platform = m.platform AND v.post_id = m.post_id "
            "AND v.version = m.version WHERE v.collection = :c "
            "ORDER BY m.platform, m.post_id, m.version, m.position"), {"c": collection}).fetchall()
    return [MediaRow(f"{r[0]}:{r[1]}", int(r[2]), int(r[3]), str(r[4]), str(r[5]), r[6]) for r in rows]


@dataclass(frozen=True)
class PageEvidence:
    post: str
    version: int
    url: str
    evidence: list[dict[str, Any]]


def current_pages(db: Database, collection: str) -> list[PageEvidence]:
    """Each post's current version in the collection, with the records it was read from."""
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT v.platform, v.post_id, v.version, p.url, v.evidence FROM versions v "
            "JOIN posts p ON p.platform = v.platform AND p.post_id = v.post_id "
            "AND p.current_version = v.version WHERE v.collection = :c "
            "ORDER BY v.platform, v.post_id"), {"c": collection}).fetchall()
    return [PageEvidence(f"{r[0]}:{r[1]}", int(r[2]), str(r[3] or ""), list(json.loads(r[4] or "[]")))
            for r in rows]


def text_cells(db: Database) -> Iterator[tuple[str, str]]:
    """``(table, finding)`` for the first text cell of each table that holds a secret: the
    catalog read through its tables, whatever database it is on."""
    with db.read() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 (names from the catalog)
            found = cells_finding(str(cell) for row in rows for cell in row if isinstance(cell, str))
            if found:
                yield table, found
