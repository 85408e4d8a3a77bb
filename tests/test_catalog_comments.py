"""The comments table on SQLite and PostgreSQL: rows from a hotflow answer, replies linked to the
comment they answer, a comment seen again taking the newer answer's values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from catalog.comments import CommentCatalog, comments_in_answer, is_comment_answer

HOTFLOW = (Path(__file__).resolve().parent.parent / "emulator" / "data" / "weibo"
           / "mweibo_comments_hotflow_max_id_2019.json").read_bytes()
URL = "https://m.weibo.cn/comments/hotflow?id=4383173633744233&mid=4383173633744233&max_id_type=0"
AT = dt.datetime(2019, 6, 15, tzinfo=dt.UTC)


def test_an_answer_becomes_rows_and_a_later_answer_updates_them(catalogs):
    assert is_comment_answer(URL) and not is_comment_answer("https://m.weibo.cn/statuses/show?id=1")
    found = comments_in_answer(URL, 200, {}, HOTFLOW, AT)
    comments = CommentCatalog(catalogs.open())
    written = comments.record(found, "<urn:uuid:first>")
    replies = sum(len(c.replies) for c in found)
    assert written == len(found) + replies == comments.count("weibo", "4383173633744233")
    rows = comments.for_post("weibo", "4383173633744233")
    by_id = {r.comment_id: r for r in rows}
    first = by_id["4383183984547669"]
    assert (first.author_name, first.likes, first.reply_to) == ("护舒宝", 6183, "")
    assert first.published_at == "2019-06-14T12:39:20.000000Z"
    reply = found[0].replies[0]
    assert by_id[reply.comment_id].reply_to == "4383183984547669"
    found[0].likes = 7000
    comments.record(found[:1], "<urn:uuid:second>")
    again = {r.comment_id: r for r in comments.for_post("weibo", "4383173633744233")}
    assert (again[first.comment_id].likes, again[first.comment_id].record_id) == (7000, "<urn:uuid:second>")
    assert again[found[1].comment_id].record_id == "<urn:uuid:first>"
    assert comments.count("weibo", "4383173633744233") == written
