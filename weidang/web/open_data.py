"""What another archive receives about one open post, the same for the JSON API and OAI-PMH:
the post's facts, each version's text and the WARC record holding it, its status findings, and
its 档号 and retention period when it is kept. Reviewers' names and reasons stay inside."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from sqlalchemy import Connection, and_, select

from catalog.post_record import post_record
from catalog.schema import accounts, posts, versions


def open_record(conn: Connection, platform: str, post_id: str) -> dict[str, Any]:
    """The record of an open post (the caller has checked it is open)."""
    view = post_record(conn, platform, post_id, current_app.config["COLLECTIONS"])
    current = next((v for v in view.versions if v.version == view.current_version),
                   view.versions[-1] if view.versions else None)
    decision = view.decisions[-1] if view.decisions else None
    kept = decision is not None and decision["decision"] == "keep"
    author = _author(conn, platform, post_id, current.version) if current else ""
    return {
        "id": f"{platform}:{post_id}", "platform": platform, "post_id": post_id,
        "account": view.account, "account_name": author,
        "url": view.url, "status": view.status, "published_at": view.published_at,
        "first_captured": view.first_captured, "last_captured": view.last_captured,
        "current_version": view.current_version,
        "title": current.title if current else "", "text": current.text if current else "",
        "archival_code": decision["code"] if kept and decision else None,
        "retention": decision["retention"] if kept and decision else None,
        "versions": [{"version": v.version, "outcome": v.outcome, "captured_at": v.captured_at,
                      "title": v.title, "text": v.text, "warc_file": v.metadata_record.warc_file,
                      "warc_record_id": v.metadata_record.record_id} for v in view.versions],
        "statuses": [{"status": s.status, "reason": s.reason, "found_at": s.found_at,
                      "evidence_record_id": s.evidence.record_id if s.evidence else None}
                     for s in view.statuses],
    }


def _author(conn: Connection, platform: str, post_id: str, version: int) -> str:
    """The account's name as the platform showed it with this version (责任者), else as registered."""
    row = conn.execute(select(versions.c.post, posts.c.account).join(posts, and_(
        posts.c.platform == versions.c.platform, posts.c.post_id == versions.c.post_id)).where(
        versions.c.platform == platform, versions.c.post_id == post_id,
        versions.c.version == version)).first()
    if row is None:
        return ""
    shown = str(json.loads(row.post or "{}").get("account_name") or "")
    if shown:
        return shown
    account_platform, _, account_id = str(row.account).partition(":")
    name = conn.execute(select(accounts.c.name).where(
        accounts.c.platform == account_platform, accounts.c.account_id == account_id)).scalar()
    return str(name or "")
