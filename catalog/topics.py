"""Thematic collections (专题): a named selection of posts appraised and transferred as a unit.

A topic is either a saved search (``kind`` "search": the words and filters of ``weidang search``,
kept as JSON and run again whenever the topic is used, so posts harvested later join it) or a
hand-picked list (``kind`` "list": its members). Both tables are append-only: a topic, once
named, keeps its definition, and a member once added stays (the appraisal of a post, not its
removal from a topic, says whether it goes on to transfer).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from catalog.errors import CatalogError
from catalog.schema import insert_ignore, iso, posts, topic_members, topics


class TopicError(CatalogError):
    """A topic that cannot be made or used as asked; the message says why."""


@dataclass(frozen=True)
class Topic:
    name: str
    kind: str  # search | list
    query: dict[str, Any]  # for a search: {"text", "account", "platform", "since", "until", "status"}
    description: str
    created_at: str
    created_by: str
    members: int  # hand-picked posts (a search's posts are found when it is run)


def create_topic(conn: Connection, name: str, query: dict[str, Any] | None, description: str,
                 actor: str, when: dt.datetime) -> Topic:
    """Name a new topic: a saved search when ``query`` is given, else a list to add posts to."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TopicError("a topic needs a name of 1 to 100 characters, e.g. 疫情防控2026")
    if find_topic(conn, name) is not None:
        raise TopicError(f"a topic named {name!r} exists already; topics keep their definition, "
                         "so choose another name")
    kind = "search" if query is not None else "list"
    text = json.dumps(query, ensure_ascii=False, sort_keys=True) if query is not None else ""
    insert_ignore(conn, topics, {"name": name, "kind": kind, "query": text,
                                 "description": description, "created_at": iso(when),
                                 "created_by": actor})
    return Topic(name, kind, query or {}, description, iso(when), actor, 0)


def add_members(conn: Connection, name: str, keys: Iterable[tuple[str, str]], actor: str,
                when: dt.datetime) -> int:
    """Add captured posts to a hand-picked topic; returns how many were not in it already."""
    topic = require_topic(conn, name)
    if topic.kind != "list":
        raise TopicError(f"the topic {name!r} is a saved search: its posts are what the search "
                         "finds; make a list topic to pick posts by hand")
    added = 0
    for platform, post_id in keys:
        known = conn.execute(select(posts.c.post_id).where(
            posts.c.platform == platform, posts.c.post_id == post_id)).first()
        if known is None:
            raise TopicError(f"{platform}:{post_id} is not in the catalog; only captured posts "
                             "can join a topic")
        added += insert_ignore(conn, topic_members, {
            "topic": name, "platform": platform, "post_id": post_id, "added_at": iso(when),
            "added_by": actor})
    return added


def _topic(row: Any, members: int) -> Topic:
    query = json.loads(row.query) if row.query else {}
    return Topic(row.name, row.kind, query, row.description, row.created_at, row.created_by,
                 members)


def find_topic(conn: Connection, name: str) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.name == name)).first()
    if row is None:
        return None
    count = conn.execute(select(func.count()).select_from(topic_members)
                         .where(topic_members.c.topic == name)).scalar()
    return _topic(row, int(count or 0))


def require_topic(conn: Connection, name: str) -> Topic:
    topic = find_topic(conn, name)
    if topic is None:
        known = [t.name for t in list_topics(conn)]
        raise TopicError(f"there is no topic named {name!r}; "
                         + (f"the topics are: {', '.join(known)}" if known else
                            "make one with `weidang topics create NAME`"))
    return topic


def list_topics(conn: Connection) -> list[Topic]:
    counts: dict[str, int] = dict(conn.execute(select(topic_members.c.topic, func.count())
                               .group_by(topic_members.c.topic)).all())
    rows = conn.execute(select(topics).order_by(topics.c.created_at, topics.c.name))
    return [_topic(row, int(counts.get(row.name, 0))) for row in rows]


def members(conn: Connection, name: str) -> list[tuple[str, str]]:
    """The hand-picked posts of a topic, in the order they were added (then by post)."""
    rows = conn.execute(select(topic_members.c.platform, topic_members.c.post_id)
                        .where(topic_members.c.topic == name)
                        .order_by(topic_members.c.added_at, topic_members.c.platform,
                                  topic_members.c.post_id))
    return [(str(p), str(i)) for p, i in rows]
