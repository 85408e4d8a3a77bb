"""Shared harvester pieces: dates, base62 ids, counts, text, records and fingerprints."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from harvesters import text
from harvesters.base62 import bid_to_mid, mid_to_bid
from harvesters.common import ParseResult, RequestSpec, query_param
from harvesters.dates import SHANGHAI, DateError, parse_time_option, parse_weibo_date
from harvesters.errors import CaptchaRequired, HarvestError, LoginExpired, RateLimited, Unavailable
from harvesters.records import Comment, Media, Post
from harvesters.text import html_to_text, parse_count

CAPTURED = dt.datetime(2021, 6, 17, 16, 30, 15, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, expected", [
    ("刚刚", "2021-06-17T16:30:15+08:00"),
    ("30秒前", "2021-06-17T16:29:45+08:00"),
    ("5分钟前", "2021-06-17T16:25:15+08:00"),
    ("3小时前", "2021-06-17T13:30:15+08:00"),
    ("今天 09:05", "2021-06-17T09:05:00+08:00"),
    ("昨天 12:00", "2021-06-16T12:00:00+08:00"),
    ("昨天 23:59", "2021-06-16T23:59:00+08:00"),
    ("06-14", "2021-06-14T00:00:00+08:00"),
    ("12-31", "2020-12-31T00:00:00+08:00"),  # later than the capture: last year
    ("2019-06-14", "2019-06-14T00:00:00+08:00"),
    ("Tue Jun 08 09:35:04 +0800 2021", "2021-06-08T09:35:04+08:00"),
    ("Tue Jun 08 01:35:04 +0000 2021", "2021-06-08T09:35:04+08:00"),
])
def test_weibo_dates_resolve_against_capture_time(text, expected):
    assert parse_weibo_date(text, CAPTURED).isoformat() == expected


def test_relative_dates_count_from_capture_time_given_in_another_zone():
    utc = CAPTURED.astimezone(dt.UTC)
    assert parse_weibo_date("昨天 12:00", utc).isoformat() == "2021-06-16T12:00:00+08:00"
    # 00:30 China time is still the previous day in UTC; "today" is China's day.
    early = dt.datetime(2021, 6, 16, 16, 30, tzinfo=dt.UTC)
    assert parse_weibo_date("今天 08:00", early).isoformat() == "2021-06-17T08:00:00+08:00"


@pytest.mark.parametrize("text", ["前天", "13-45", "2021-02-30", "soon"])
def test_unknown_dates_are_refused(text):
    with pytest.raises(DateError):
        parse_weibo_date(text, CAPTURED)


def test_time_option_without_offset_is_china_time():
    assert parse_time_option("2021-06-17T16:30").isoformat() == "2021-06-17T16:30:00+08:00"
    with pytest.raises(DateError):
        parse_time_option("yesterday")


@pytest.mark.parametrize("mid, bid", [
    ("4645748019299849", "Kjc77D1jz"),
    ("4649031014551911", "Kkzwhj69V"),
    ("4070389468396025", "Etx9ozebL"),
    ("4383183984547669", "HyTZIj53v"),
])
def test_base62_both_ways(mid, bid):
    assert mid_to_bid(mid) == bid
    assert bid_to_mid(bid) == mid


def test_base62_pads_inner_chunks():
    # 0000001 in the middle chunk must come back as "0001", not "1".
    mid = "3000000000000001"
    assert mid_to_bid(mid).endswith("0001")
    assert bid_to_mid(mid_to_bid(mid)) == mid


def test_base62_rejects_non_ids():
    with pytest.raises(ValueError):
        mid_to_bid("12ab")
    with pytest.raises(ValueError):
        bid_to_mid("Kjc7-D1jz")


@pytest.mark.parametrize("value, expected", [
    ("145.5万", 1_455_000), ("1万+", 10_000), ("1亿", 100_000_000), ("100万+", 1_000_000),
    ("1,566,726", 1_566_726), (9079, 9079), ("42", 42), ("", None), (None, None), ("很多", None),
])
def test_counts_as_the_platforms_write_them(value, expected):
    assert parse_count(value) == expected


def test_html_to_text_keeps_lines_and_emoticons():
    html = ('第一行<br />第二行 <a href="x"><span>#话题#</span></a><p>段落</p>'
            '<img alt="[笑]" src="x.png"><script>var x = 1;</script>')
    assert html_to_text(html) == "第一行\n第二行 #话题#\n段落\n[笑]"
    assert html_to_text("") == ""


def test_post_round_trips_through_json():
    post = Post(platform="weibo", account_id="1", post_id="2",
                published_at=dt.datetime(2021, 6, 8, 9, 35, 4, tzinfo=SHANGHAI),
                media=[Media(kind="picture", url="https://x/large/a.jpg", id="a")],
                repost=Post(platform="weibo", account_id="3", post_id="4", status="deleted"),
                counts={"likes": 3})
    data = post.to_json()
    assert data["published_at"] == "2021-06-08T09:35:04+08:00"
    assert data["repost"]["status"] == "deleted"
    assert Post.from_json(data) == post
    # Nothing mutable is shared: a post rebuilt from the JSON and changed leaves this one be.
    post.extras["links"] = [{"url": "https://x/1"}]
    post.media[0].alternatives.append("https://x/mw690/a.jpg")
    copy = Post.from_json(post.to_json())
    copy.counts["likes"] = 4
    copy.extras["links"][0]["url"] = "changed"
    copy.media[0].alternatives.clear()
    copy.repost.counts["likes"] = 1  # type: ignore[union-attr]
    assert post.counts == {"likes": 3} and post.extras["links"][0]["url"] == "https://x/1"
    assert post.media[0].alternatives == ["https://x/mw690/a.jpg"] and post.repost.counts == {}
    comment = Comment(platform="weibo", post_id="2", comment_id="9", published_at=CAPTURED,
                      replies=[Comment(platform="weibo", post_id="2", comment_id="10")])
    assert Comment.from_json(comment.to_json()) == comment


def test_fingerprint_changes_with_content_not_with_counts_or_signed_urls():
    base = Post(platform="weibo", account_id="1", post_id="2", text="正文  内容", title="",
                media=[Media(kind="video", url="https://v/a.mp4?Expires=1&ssig=x", id="1034:1")])
    fingerprint = base.content_fingerprint()
    assert base.merged(counts={"likes": 99}).content_fingerprint() == fingerprint
    resigned = [Media(kind="video", url="https://v/a.mp4?Expires=2&ssig=y", id="1034:1")]
    assert base.merged(media=resigned).content_fingerprint() == fingerprint
    assert base.merged(text="正文 内容\n").content_fingerprint() == fingerprint  # spacing only
    assert base.merged(text="正文 改过").content_fingerprint() != fingerprint
    assert base.merged(edit_count=1).content_fingerprint() != fingerprint
    assert base.merged(title="标题").content_fingerprint() != fingerprint
    assert base.merged(media=[]).content_fingerprint() != fingerprint


def test_problems_carry_advice_and_are_harvest_errors():
    for kind in (RateLimited, CaptchaRequired, LoginExpired, Unavailable):
        problem = kind("the platform said no", url="https://example/x")
        assert isinstance(problem, HarvestError)
        assert problem.advice and problem.advice in str(problem)
        assert problem.to_json()["kind"] == kind.kind
    assert "credentials file" in LoginExpired("x").advice
    assert Unavailable("gone", status="blocked").to_json()["status"] == "blocked"


def test_request_spec_checks_purpose_and_result_lists_requests():
    with pytest.raises(ValueError):
        RequestSpec(url="https://x", purpose="browse")
    one = RequestSpec(url="https://x/?a=1&b=", purpose="timeline")
    two = RequestSpec(url="https://y", purpose="media")
    assert ParseResult(next_requests=[one], follow_up_requests=[two]).requests == [one, two]
    assert query_param(one.url, "a") == "1" and query_param(one.url, "c") == ""
    assert one.to_json()["archive"] is True


def test_text_without_markup_reads_as_the_html_parser_reads_it(monkeypatch):
    """Text an HTML parser would hand back whole skips the parser: it must come out the same,
    for every character and for random mixes of spaces, breaks and what sits near markup."""
    strings = [f"a{chr(c)}b {chr(c)}" for c in range(0x20, 0x10000)
               if not 0xD800 <= c <= 0xDFFF]
    pieces = [" ", "\t", "\n", "\n\n\n", "\xa0", "\u3000", "中文", "档案", "#话题#", "@某人", "[笑]",
              "\u200b", "\ufeff", "\x85", "\u2028", "😀", "http://t.cn/a?b=c", ">", ";", "'", '"',
              "<", "&", "&amp;", "\r", "\x00", "\x0c", "\ufffe"]
    rng = random.Random(14)
    strings += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(20_000)]
    plain = [s for s in strings if text._PLAIN.fullmatch(s)]
    assert 0.3 < len(plain) / len(strings) < 0.99  # both ways are taken
    quick = [html_to_text(s) for s in strings]
    monkeypatch.setattr(text, "_PLAIN", re.compile("(?!)"))  # every text through the parser
    parsed = [html_to_text(s) for s in strings]
    assert quick == parsed
