"""Weibo: which requests harvest an account, and how each answer becomes records.

Two interfaces, chosen per harvester: ``mobile`` (m.weibo.cn, works for visitors) and
``desktop`` (weibo.com ajax, needs a logged-in cookie). ``parse`` recognises every answer by its
shape, so a saved response parses the same with or without its request URL; the URL (or the
request meta) only supplies what the body lacks, such as the post id of a long text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from harvesters.base62 import mid_to_bid
from harvesters.common import ParseResult, RequestSpec, query_param, read_items
from harvesters.errors import (
    CaptchaRequired,
    HarvestError,
    LoginExpired,
    PlatformError,
    RateLimited,
    Unavailable,
)
from harvesters.purposes import Purpose
from harvesters.records import Post
from harvesters.text import html_to_text, parse_count
from harvesters.weibo_requests import WeiboRequests, post_id_from_url
from harvesters.weibo_status import (
    long_text_html,
    status_account,
    status_comment,
    status_to_post,
)

_RENDER_DATA = re.compile(r"var\s+\$render_data\s*=\s*(\[.*?\])\s*\[0\]\s*\|\|\s*\{\}\s*;", re.S)
_THROTTLED = {418, 429, 432}
LOGIN_ADVICE = ("Log in to weibo.com in a browser with the harvest account and copy its new cookie "
                "into the credentials file.")


class WeiboHarvester(WeiboRequests):
    """Platform knowledge of Weibo; keeps no state between calls."""

    name = "weibo"
    counts_edits = True  # Weibo counts every edit of a post in its ``edit_count``

    # -- parsing --------------------------------------------------------------------------

    def parse(self, request: RequestSpec, status: int, headers: Mapping[str, str], body: bytes,
              captured_at: dt.datetime) -> ParseResult:
        """Records, next pages, follow-ups and problems found in one answer."""
        if status in _THROTTLED:
            return ParseResult(problem=RateLimited(
                f"Weibo refused the request with HTTP {status}, its sign of rate limiting",
                url=request.url))
        if request.purpose == Purpose.MEDIA:
            if status >= 400:
                return ParseResult(problem=PlatformError(
                    f"the media file answered HTTP {status}", url=request.url))
            return ParseResult()
        if status in (404, 410) and request.purpose in (Purpose.RECHECK, Purpose.DETAIL, Purpose.LONG_TEXT):
            return self._unavailable(request, f"Weibo answered HTTP {status} for this post",
                                     "deleted", captured_at)
        if status >= 400:
            return ParseResult(problem=PlatformError(f"Weibo answered HTTP {status}",
                                                     url=request.url))
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if not text.startswith(("{", "[")):
            return self._parse_html(request, text, captured_at)
        try:
            data = json.loads(text)
        except ValueError:
            raise HarvestError(f"the Weibo answer{_at(request)} is cut off or is not valid JSON"
                               ) from None
        if not isinstance(data, dict):
            raise HarvestError(f"the Weibo answer{_at(request)} is JSON but not an object")
        problem = self._problem(request, data, captured_at)
        if problem is not None:
            return problem
        return self._parse_json(request, data, captured_at)

    def _problem(self, request: RequestSpec, data: dict[str, Any],
                 captured_at: dt.datetime) -> ParseResult | None:
        if "ok" not in data:
            return None
        ok = str(data.get("ok"))
        message = str(data.get("msg") or data.get("message") or "")
        if ok == "-100":
            wall = str(data.get("url") or "")
            if request.meta.get("with_cookies"):
                return ParseResult(problem=LoginExpired(
                    "Weibo no longer accepts the cookie (it answered ok:-100 and sent a login "
                    "or captcha page)", url=request.url, advice=LOGIN_ADVICE))
            if "captcha" in wall or "geetest" in wall:
                return ParseResult(problem=CaptchaRequired(
                    f"Weibo wants a captcha solved before answering ({wall})", url=request.url))
            return ParseResult(problem=LoginExpired(
                "Weibo wants a login before answering (ok:-100)", url=request.url,
                advice=LOGIN_ADVICE))
        if ok == "0" and request.purpose == Purpose.COMMENTS:
            return ParseResult(end_of_listing=True)  # no comments ("快来发表你的评论吧"), not a post gone
        if ok == "0":
            cards = (data.get("data") or {}).get("cards") if isinstance(data.get("data"),
                                                                        dict) else None
            if request.purpose == Purpose.TIMELINE or (cards == [] and request.purpose != Purpose.PROFILE):
                return ParseResult(end_of_listing=True, reported_total=None)
            reason = message or "Weibo answered ok:0 without content"
            if request.purpose == Purpose.PROFILE:
                return ParseResult(problem=Unavailable(
                    f"Weibo shows nothing for this account: {reason}", url=request.url,
                    status="unavailable",
                    advice="Check the account id; if the account should have posts, the cookie "
                           "in the credentials file may be bad, so refresh it."))
            # "微博不存在或暂无查看权限" (does not exist or may not be viewed) is what Weibo says of
            # a deleted post; only a word of censure or shielding means blocked.
            blocked = any(w in reason for w in ("违规", "屏蔽")) or (
                "权限" in reason and "不存在" not in reason)
            state = "blocked" if blocked else "deleted"
            return self._unavailable(request, f"Weibo says: {reason}", state, captured_at)
        if ok != "1" and "data" not in data:
            return ParseResult(problem=PlatformError(
                f"Weibo answered an unknown error (ok:{ok}) {message}".strip(), url=request.url))
        return None

    def _unavailable(self, request: RequestSpec, reason: str, state: str,
                     captured_at: dt.datetime) -> ParseResult:
        post_id = str(request.meta.get("post_id") or post_id_from_url(request.url) or "")
        posts = []
        if post_id:
            account_id = str(request.meta.get("account_id") or "")
            posts.append(Post(platform="weibo", account_id=account_id,
                              post_id=post_id, status=state, captured_at=captured_at,
                              platform_ids={"mid": post_id, "bid": mid_to_bid(post_id)}))
        return ParseResult(posts=posts, problem=Unavailable(reason, url=request.url, status=state))

    def _parse_html(self, request: RequestSpec, text: str, captured_at: dt.datetime) -> ParseResult:
        match = _RENDER_DATA.search(text)
        if match:
            try:
                render = json.loads(match[1])
            except ValueError:
                raise HarvestError(f"the $render_data of the Weibo detail page{_at(request)} is "
                                   "not valid JSON") from None
            status = (render[0] if render else {}).get("status")
            if not status:
                return self._unavailable(request, "the Weibo detail page holds no post",
                                         "deleted", captured_at)
            return self._posts_result(request, [status_to_post(status, captured_at)], captured_at)
        for wording, state in (("不存在", "deleted"), ("已被删除", "deleted"),
                               ("暂无查看权限", "blocked"), ("违规", "blocked")):
            if wording in text and request.purpose in (Purpose.DETAIL, Purpose.RECHECK):
                return self._unavailable(request, f"Weibo shows a page saying {wording}", state,
                                         captured_at)
        if "passport.weibo" in text or "login" in text.lower()[:4000]:
            return ParseResult(problem=LoginExpired(
                "Weibo answered with a login page instead of data", url=request.url,
                advice=LOGIN_ADVICE))
        raise HarvestError(f"the answer{_at(request)} is neither Weibo JSON nor a Weibo detail "
                           "page with $render_data")

    def _parse_json(self, request: RequestSpec, data: dict[str, Any],
                    captured_at: dt.datetime) -> ParseResult:
        inner = data.get("data")
        if isinstance(inner, dict):
            if isinstance(inner.get("cards"), list) and not inner.get("userInfo"):
                return self._timeline(request, inner, captured_at)
            if isinstance(inner.get("userInfo"), dict):
                return self._mobile_profile(request, inner)
            if "longTextContent" in inner or request.purpose == Purpose.LONG_TEXT:
                return self._long_text(request, inner, captured_at)
            if isinstance(inner.get("list"), list):
                return self._mymblog(request, inner, captured_at)
            if inner.get("created_at") and (inner.get("id") or inner.get("mid")):
                return self._posts_result(request, [status_to_post(inner, captured_at)],
                                          captured_at)
            if isinstance(inner.get("user"), dict):
                return self._desktop_profile(request, inner)
            if isinstance(inner.get("data"), list):
                return self._comments(request, inner, captured_at)
        if data.get("created_at") and (data.get("id") or data.get("mid")):
            return self._posts_result(request, [status_to_post(data, captured_at)], captured_at)
        raise HarvestError(f"the Weibo answer{_at(request)} has none of the shapes weidang reads "
                           "(timeline, profile, post, long text, comments)")

    def _posts_result(self, request: RequestSpec, posts: list[Post],
                      captured_at: dt.datetime) -> ParseResult:
        result = ParseResult(posts=posts)
        for post in posts:
            result.follow_up_requests += self._follow_ups(request, post)
        return result

    def _follow_ups(self, request: RequestSpec, post: Post) -> list[RequestSpec]:
        cookie = request.headers.get("Cookie", "")
        follow = []
        if not post.long_text_complete:
            follow.append(self.long_text_request(post, cookie))
        original = post.repost
        if original is not None and not original.long_text_complete and original.status == "live":
            follow_up = self.long_text_request(original, cookie)
            follow_up.meta["repost_of"] = post.post_id
            follow.append(follow_up)
        if self.follow_media:
            follow += self.media_requests(post)
        return follow

    def _timeline(self, request: RequestSpec, inner: dict[str, Any],
                  captured_at: dt.datetime) -> ParseResult:
        info = inner.get("cardlistInfo") or {}
        containerid = str(info.get("containerid") or query_param(request.url, "containerid"))
        account_id = str(request.meta.get("account_id") or "") or containerid.removeprefix("107603")
        cards = _cards(inner.get("cards") or [])
        ended = any(card.get("card_type") == 58 for card in cards)
        listed = [card for card in cards if card.get("card_type") == 9]

        def read(card: dict[str, Any]) -> list[Post]:
            pinned = str(card.get("profile_type_id") or "").startswith("proweibotop")
            return [status_to_post(card.get("mblog") or {}, captured_at, pinned=pinned,
                                   account_id=account_id)]

        errors: list[str] = []
        posts = read_items(listed, read, errors)
        result = self._posts_result(request, posts, captured_at)
        result.item_errors = errors
        result.reported_total = parse_count(info.get("total"))
        since_id = str(info.get("since_id") or "")
        if ended or not listed or not since_id or since_id == str(request.meta.get("since_id")):
            result.end_of_listing = True
        else:
            result.next_requests.append(self.timeline_request(
                account_id, since_id=since_id, page=int(request.meta.get("page") or 1) + 1,
                containerid=containerid, cookie=request.headers.get("Cookie", "")))
        return result

    def _mymblog(self, request: RequestSpec, inner: dict[str, Any],
                 captured_at: dt.datetime) -> ParseResult:
        account_id = str(request.meta.get("account_id") or query_param(request.url, "uid"))
        errors: list[str] = []
        posts = read_items(inner["list"], lambda item: [status_to_post(
            item, captured_at, account_id=account_id)], errors)
        result = self._posts_result(request, posts, captured_at)
        result.item_errors = errors
        result.reported_total = parse_count(inner.get("total"))
        since_id = str(inner.get("since_id") or "")
        if not inner["list"] or not since_id:
            result.end_of_listing = True
        else:
            page = int(request.meta.get("page") or query_param(request.url, "page") or 1)
            result.next_requests.append(self.timeline_request(
                account_id, since_id=since_id, page=page + 1,
                cookie=request.headers.get("Cookie", "")))
        return result

    def _mobile_profile(self, request: RequestSpec, inner: dict[str, Any]) -> ParseResult:
        user = inner["userInfo"]
        account = status_account(user)
        containerid = ""
        for tab in (inner.get("tabsInfo") or {}).get("tabs") or []:
            if tab.get("tabKey") == "weibo" or tab.get("tab_type") == "weibo":
                containerid = str(tab.get("containerid") or "")
        timeline = self.timeline_request(account.account_id, containerid=containerid,
                                         cookie=request.headers.get("Cookie", ""))
        return ParseResult(account=account, reported_total=account.reported_total,
                           next_requests=[timeline])

    def _desktop_profile(self, request: RequestSpec, inner: dict[str, Any]) -> ParseResult:
        account = status_account(inner["user"])
        timeline = self.timeline_request(account.account_id,
                                         cookie=request.headers.get("Cookie", ""))
        return ParseResult(account=account, reported_total=account.reported_total,
                           next_requests=[timeline])

    def _long_text(self, request: RequestSpec, inner: dict[str, Any],
                   captured_at: dt.datetime) -> ParseResult:
        is_markdown = bool(inner.get("isMarkdown"))
        content = str(inner.get("longTextContent") or "")
        base = request.meta.get("post")
        if isinstance(base, dict):
            post = Post.from_json(base)
        else:
            post_id = str(request.meta.get("post_id") or post_id_from_url(request.url) or "")
            if not post_id:
                raise HarvestError("a Weibo long-text answer does not say which post it belongs "
                                   "to; give the request URL (with its id=) too")
            post = Post(platform="weibo", account_id=str(request.meta.get("account_id") or ""),
                        post_id=post_id, platform_ids={"mid": post_id, "bid": mid_to_bid(post_id)},
                        url=f"https://m.weibo.cn/detail/{post_id}", captured_at=captured_at)
        if content:
            raw = inner.get("longTextContent_raw")
            plain = raw if isinstance(raw, str) and raw else content
            post.text_html = long_text_html(content, is_markdown)
            post.text = plain.strip() if is_markdown or raw else html_to_text(content)
        post.long_text_complete = True
        for key, name in (("reposts_count", "reposts"), ("comments_count", "comments"),
                          ("attitudes_count", "likes")):
            value = parse_count(inner.get(key))
            if value is not None:
                post.counts[name] = value
        links = [{"short_url": u.get("short_url"), "long_url": u.get("long_url")}
                 for u in inner.get("url_struct") or [] if u.get("short_url")]
        if links:
            post.extras["links"] = list({json.dumps(x, sort_keys=True): x for x in links}.values())
        if is_markdown:
            post.extras["is_markdown"] = True
        return ParseResult(posts=[post])

    def _comments(self, request: RequestSpec, inner: dict[str, Any],
                  captured_at: dt.datetime) -> ParseResult:
        post_id = str(request.meta.get("post_id") or query_param(request.url, "mid")
                      or query_param(request.url, "id"))
        items = [*inner.get("data", []), *(inner.get("hot_data") or [])]
        comments = [status_comment(item, post_id, captured_at) for item in items
                    if isinstance(item, dict)]
        result = ParseResult(comments=comments,
                             reported_total=parse_count(inner.get("total_number")))
        max_id = inner.get("max_id")
        if "max_id" in inner and max_id and post_id:
            result.next_requests.append(self.comments_request(
                post_id, max_id=max_id, max_id_type=int(inner.get("max_id_type") or 0),
                cookie=request.headers.get("Cookie", "")))
        else:
            result.end_of_listing = True
        return result


def _cards(cards: list[Any]) -> list[dict[str, Any]]:
    flat = []
    for card in cards:
        if isinstance(card, dict):
            flat.append(card)
            flat += _cards(card.get("card_group") or [])
    return flat


def _at(request: RequestSpec) -> str:
    return f" from {request.url}" if request.url else ""
