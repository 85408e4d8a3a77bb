"""What the catalog recorded about a post's status over time, for a person reading the post.

Read-only. Each event says what was found (deleted, blocked, live again...), when, by which
harvest, and which WARC record holds the platform's answer: the evidence a citation names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class StatusEvent:
    status: str
    reason: str
    at: str  # UTC, ISO 8601: when a harvest found it
    evidence_record_id: str | None  # the platform's answer, in the WARC
    metadata_record_id: str  # the catalog's own record of the finding, in the WARC
    harvest_id: str
    collection: str


def status_events(conn: Connection, platform: str, post_id: str) -> list[StatusEvent]:
    """Every status finding of the post, oldest first."""
    rows = conn.execute(text(
        "SELECT status, reason, at, evidence_record_id, metadata_record_id, harvest_id, collection "
        "FROM statuses WHERE platform = :platform AND post_id = :post_id "
        "ORDER BY at, metadata_record_id"), {"platform": platform, "post_id": post_id})
    return [StatusEvent(*row) for row in rows]
