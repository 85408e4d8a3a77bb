"""The comments under posts that the archive holds, read from the platform's archived answers.

Comment rows are derived, like post versions: ``CommentCatalog.record`` writes the comments one
archived answer shows, linked to the response record holding that answer's bytes, and
``catalog.rebuild`` feeds the same method from the WARC files' response records
(``comments_in_answer``), so the rows come out the same whether written live or rebuilt. A
comment seen again (a later page, a later harvest of an edited post) takes the newer answer's
values and record. Only Weibo comments (``comments/hotflow``) are asked for (README "Comments").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from catalog.db import Database
from catalog.schema import comments as comments_table
from catalog.schema import iso, upsert
from harvesters import Comment, Purpose, RequestSpec, make_harvester

COMMENT_PATHS = ("m.weibo.cn/comments/hotflow",)  # the answers comments are read from


@dataclass(frozen=True)
class StoredComment:
    platform: str
    post_id: str
    comment_id: str
    reply_to: str  # "" for a comment on the post itself
    author_id: str
    author_name: str
    text: str
    published_at: str | None  # UTC, ISO 8601
    likes: int | None
    record_id: str  # the response it was read from
    collection: str


def is_comment_answer(uri: str) -> bool:
    """Whether an archived response is one comments are read from (by its address)."""
    return any(path in uri for path in COMMENT_PATHS)


def comments_in_answer(uri: str, status: int, headers: Mapping[str, str], body: bytes,
                       captured_at: dt.datetime) -> list[Comment]:
    """The comments an archived comments answer shows (raises HarvestError if it shows none)."""
    spec = RequestSpec(uri, Purpose.COMMENTS)
    return make_harvester("weibo").parse(spec, status, headers, body, captured_at).comments


def flattened(comments: Sequence[Comment]) -> Iterator[tuple[Comment, str]]:
    """Each comment and each reply shown under it, with the comment it answers."""
    for comment in comments:
        yield comment, ""
        for reply in comment.replies:
            yield reply, comment.comment_id


class CommentCatalog:
    """The comments table of an open catalog; ``collection`` names where records lie."""

    def __init__(self, db: Database, collection: str = "default") -> None:
        self.db = db
        self.collection = collection

    def record(self, comments: Sequence[Comment], record_id: str) -> int:
        """Write the comments one answer showed, read from the response ``record_id`` (the
        record holding the bytes: for a revisit, the original). Returns how many rows."""
        rows = 0
        with self.db.write() as conn:
            for comment, reply_to in flattened(comments):
                data = comment.to_json()
                data.pop("replies", None)
                upsert(conn, comments_table, {
                    "platform": comment.platform, "post_id": comment.post_id,
                    "comment_id": comment.comment_id, "reply_to": reply_to,
                    "author_id": comment.author_id, "author_name": comment.author_name,
                    "text": comment.text,
                    "published_at": iso(comment.published_at) if comment.published_at else None,
                    "likes": comment.likes, "record_id": record_id, "collection": self.collection,
                    "comment": json.dumps(data, ensure_ascii=False, sort_keys=True)},
                    keys=("platform", "post_id", "comment_id"))
                rows += 1
        return rows

    def for_post(self, platform: str, post_id: str, limit: int | None = None) -> list[StoredComment]:
        """The post's comments, oldest first (then by id)."""
        sql = ("SELECT platform, post_id, comment_id, reply_to, author_id, author_name, text, "
               "published_at, likes, record_id, collection FROM comments WHERE platform = :p "
               "AND post_id = :i ORDER BY published_at, comment_id")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.db.read() as conn:
            rows = conn.execute(text(sql), {"p": platform, "i": post_id}).all()
        return [StoredComment(*row) for row in rows]

    def count(self, platform: str, post_id: str) -> int:
        with self.db.read() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM comments WHERE platform = :p AND "
                                         "post_id = :i"), {"p": platform, "i": post_id}).scalar_one())

    def texts(self, platform: str, post_id: str) -> str:
        """All the post's comment texts, one a line (what the search index holds of them)."""
        return "\n".join(c.text for c in self.for_post(platform, post_id) if c.text)
