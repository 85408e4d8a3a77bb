"""The parsers walk the emulator's paginated listings to the end, as the crawler will.

The two sides share no code: the emulator is built from the recorded samples and a generator,
the harvesters from the platforms' documentation, so a disagreement fails here.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from harvesters import Post, RequestSpec, WechatHarvester, WeiboHarvester

CAPTURED_AT = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@dataclass
class Walk:
    posts: dict[str, Post]
    originals: dict[str, Post]  # reposted posts, fetched whole in the repost's context
    purposes: dict[str, int]
    media: int


def walk(emulator, harvester, requests: list[RequestSpec], limit: int = 2000) -> Walk:
    """Fetch every request through the emulator's proxy and follow what the parser asks for."""
    posts: dict[str, Post] = {}
    originals: dict[str, Post] = {}
    purposes: dict[str, int] = {}
    media_ok = 0
    queue = list(requests)
    while queue:
        limit -= 1
        assert limit > 0, "the listing never ended"
        req = queue.pop(0)
        reply = emulator.fetch(req.url, data=req.body, headers=dict(req.headers), method=req.method)
        purposes[req.purpose] = purposes.get(req.purpose, 0) + 1
        if req.purpose == "media":
            assert reply.status in (200, 206), f"{req.url} answered {reply.status}"
            assert reply.body
            media_ok += 1
            continue
        body = reply.body
        if (reply.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        result = harvester.parse(req, reply.status, dict(reply.headers), body, CAPTURED_AT)
        assert result.problem is None, (req.url, result.problem)
        for post in result.posts:  # an original fetched for a repost is kept in that context
            (originals if "repost_of" in req.meta else posts)[post.post_id] = post
        queue.extend(result.requests)
    return Walk(posts, originals, purposes, media_ok)


def _account(world, platform: str, recorded: bool):
    return next(a for a in world[platform] if a.get("recorded", False) == recorded)


def test_weibo_mobile_timeline_walked_to_the_end(emulator):
    account = _account(emulator.world(), "weibo", recorded=False)
    harvester = WeiboHarvester()
    w = walk(emulator, harvester, harvester.start_requests(str(account["uid"])))
    everything, purposes, media = w.posts, w.purposes, w.media
    posts = {k: p for k, p in everything.items() if p.account_id == str(account["uid"])}
    assert set(posts) == set(account["post_ids"])
    assert purposes["timeline"] > 1  # more than one page: since_id paging was followed
    reposted = [p.repost for p in posts.values() if p.repost is not None]
    assert reposted and all(r.long_text_complete or w.originals[r.post_id].long_text_complete
                            for r in reposted)  # every reposted original captured whole
    assert all(p.long_text_complete for p in posts.values())
    assert {p.post_id for p in posts.values() if p.pinned} == set(account["pinned"])
    assert media > 0 and all(p.published_at.tzinfo is not None for p in posts.values())
    assert all(p.account_id == str(account["uid"]) for p in posts.values())


def test_weibo_recorded_account_parses_its_real_pages(emulator):
    account = _account(emulator.world(), "weibo", recorded=True)
    harvester = WeiboHarvester()
    posts = walk(emulator, harvester, harvester.start_requests(str(account["uid"]))).posts
    assert set(account["post_ids"]) <= set(posts)
    assert posts["4645748019299849"].pinned and posts["4645748019299849"].edit_count >= 1


def test_weibo_desktop_timeline_walked_to_the_end(emulator):
    account = _account(emulator.world(), "weibo", recorded=False)
    harvester = WeiboHarvester(interface="desktop")
    cookie = {"cookie": "SUB=_2A25emulator-session; SUBP=0033WrSX"}  # weibo.com answers only logged in
    w = walk(emulator, harvester, harvester.start_requests(str(account["uid"]), cookie))
    everything, purposes = w.posts, w.purposes
    own = {k for k, p in everything.items() if p.account_id == str(account["uid"])}
    assert own == set(account["post_ids"])
    assert purposes["timeline"] > 1


@pytest.mark.parametrize("source", ["backend", "api", "feed"])
def test_wechat_listing_sources_reach_every_article(emulator, source):
    account = next(a for a in emulator.world()["wechat"] if a.get("token"))
    credentials = {
        "backend": {"cookie": account["cookie"], "token": account["token"], "fakeid": account["biz"]},
        "api": {"appid": account["appid"], "secret": account["secret"]},
        "feed": {"feed_url": account["feed_rss"]},
    }[source]
    harvester = WechatHarvester()
    requests = harvester.start_requests(account["biz"], credentials, source=source)
    w = walk(emulator, harvester, requests)
    posts, purposes, media = w.posts, w.purposes, w.media
    articles = {(p.platform_ids.get("mid"), p.platform_ids.get("idx")) for p in posts.values() if p.text}
    assert len(articles) == account["articles"]
    assert purposes["article"] == account["articles"]
    assert all(p.title and p.published_at.tzinfo is not None for p in posts.values() if p.text)
    assert media > 0
