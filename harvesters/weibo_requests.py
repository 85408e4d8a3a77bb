"""The requests that harvest a Weibo account, as the real web clients send them.

``mobile`` uses m.weibo.cn (works for visitors); ``desktop`` uses the weibo.com ajax interface
(needs a logged-in cookie). A cookie from the credentials file travels in each request's
``Cookie`` header, so the next pages can be built from the request alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from harvesters.base62 import bid_to_mid, mid_to_bid
from harvesters.common import RequestSpec, query_param
from harvesters.errors import HarvestError
from harvesters.purposes import Purpose
from harvesters.records import Post

MOBILE = "https://m.weibo.cn"
DESKTOP = "https://weibo.com"
MOBILE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
DESKTOP_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/126.0.0.0 Safari/537.36")


class WeiboRequests:
    """Builds Weibo requests; ``WeiboHarvester`` adds the parsing."""

    def __init__(self, interface: str = "mobile", *, follow_media: bool = True) -> None:
        if interface not in ("mobile", "desktop"):
            raise ValueError("interface must be 'mobile' (m.weibo.cn) or 'desktop' (weibo.com)")
        self.interface = interface
        self.follow_media = follow_media

    # -- requests -------------------------------------------------------------------------

    def start_requests(self, account_id: str, credentials: Mapping[str, Any] | None = None,
                       resume: Mapping[str, Any] | None = None) -> list[RequestSpec]:
        """The profile request; its parse yields the first timeline page, and so on.

        With ``resume`` (a ``listing_cursor``), also the timeline page a backfill goes on from,
        marked ``meta["chain"] = "backfill"``; since_id names a post, so the page is exact."""
        uid = str(account_id).strip()
        if not uid.isdigit():
            raise HarvestError(f"{account_id!r} is not a Weibo account id (the number in "
                               "weibo.com/u/<id>)")
        cookie = str((credentials or {}).get("cookie") or "")
        if self.interface == "desktop":
            if not cookie:
                raise HarvestError("harvesting through weibo.com needs a logged-in cookie in the "
                                   "credentials file")
            url = f"{DESKTOP}/ajax/profile/info?" + urlencode({"uid": uid})
        else:
            url = f"{MOBILE}/api/container/getIndex?" + urlencode({"containerid": f"100505{uid}"})
        starts = [self._request(url, Purpose.PROFILE, uid, cookie)]
        if resume and resume.get("since_id"):
            page = self.timeline_request(uid, since_id=str(resume["since_id"]),
                                         page=int(resume.get("page") or 1),
                                         containerid=str(resume.get("containerid") or ""),
                                         cookie=cookie)
            page.meta["chain"] = "backfill"
            starts.append(page)
        return starts

    def listing_cursor(self, request: RequestSpec) -> dict[str, Any] | None:
        """Where a timeline page lies in the listing, to go on from it in a later run."""
        if request.purpose != Purpose.TIMELINE:
            return None
        cursor: dict[str, Any] = {"since_id": str(request.meta.get("since_id") or ""),
                                  "page": int(request.meta.get("page") or 1)}
        containerid = query_param(request.url, "containerid")
        if containerid:
            cursor["containerid"] = containerid
        return cursor

    def timeline_request(self, account_id: str, *, since_id: str = "", page: int = 1,
                         containerid: str = "", cookie: str = "") -> RequestSpec:
        if self.interface == "desktop":
            query: dict[str, Any] = {"uid": account_id, "page": page, "feature": 0}
            if since_id:
                query["since_id"] = since_id
            url = f"{DESKTOP}/ajax/statuses/mymblog?" + urlencode(query)
        else:
            query = {"containerid": containerid or f"107603{account_id}"}
            if since_id:
                query["since_id"] = since_id
            url = f"{MOBILE}/api/container/getIndex?" + urlencode(query)
        request = self._request(url, Purpose.TIMELINE, account_id, cookie)
        request.meta.update(page=page, since_id=since_id)
        return request

    def long_text_request(self, post: Post, cookie: str = "") -> RequestSpec:
        """The full text of a post whose listing text was cut short; its parse merges it."""
        if self.interface == "desktop":
            url = f"{DESKTOP}/ajax/statuses/longtext?" + urlencode({"id": _bid(post)})
        else:
            url = f"{MOBILE}/statuses/extend?" + urlencode({"id": post.post_id})
        request = self._request(url, Purpose.LONG_TEXT, post.account_id, cookie)
        request.meta["post"] = post.to_json()
        return request

    def recheck_request(self, post_or_id: Post | str, account_id: str = "",
                        cookie: str = "") -> RequestSpec:
        """Ask again for one post, to see whether it was edited or deleted since."""
        if isinstance(post_or_id, Post):
            post_id, bid, account_id = post_or_id.post_id, _bid(post_or_id), post_or_id.account_id
        else:
            post_id = bid_to_mid(post_or_id) if not post_or_id.isdigit() else post_or_id
            bid = mid_to_bid(post_id)
        if self.interface == "desktop":
            url = f"{DESKTOP}/ajax/statuses/show?" + urlencode({"id": bid})
        else:
            url = f"{MOBILE}/statuses/show?" + urlencode({"id": bid})
        request = self._request(url, Purpose.RECHECK, account_id, cookie)
        request.meta["post_id"] = post_id
        return request

    def comments_request(self, post_id: str, *, max_id: int | str = 0, max_id_type: int = 0,
                         cookie: str = "") -> RequestSpec:
        query: dict[str, Any] = {"id": post_id, "mid": post_id, "max_id_type": max_id_type}
        if max_id:
            query["max_id"] = max_id
        request = self._request(f"{MOBILE}/comments/hotflow?" + urlencode(query), Purpose.COMMENTS,
                                "", cookie)
        request.meta["post_id"] = post_id
        return request

    def media_requests(self, post: Post) -> list[RequestSpec]:
        """Pictures, videos, live photos and covers of a post and of the post it reposts."""
        requests = []
        for item in [*post.media, *(post.repost.media if post.repost else [])]:
            if item.kind == "embed":  # a link to another site's page, not a file of the post
                continue
            requests.append(RequestSpec(
                url=item.url, purpose=Purpose.MEDIA,
                headers={"Referer": f"{DESKTOP}/", "User-Agent": self._agent()},
                meta={"platform": "weibo", "account_id": post.account_id,
                      "post_id": post.post_id, "kind": item.kind, "media_id": item.id}))
        return requests

    def request_for_url(self, url: str = "", **meta: Any) -> RequestSpec:
        """A request standing for a saved answer of ``url`` (for parsing captures by hand)."""
        path = urlsplit(url).path
        purpose = Purpose.DETAIL
        for marker, kind in (("/statuses/extend", Purpose.LONG_TEXT),
                             ("/statuses/longtext", Purpose.LONG_TEXT),
                             ("/statuses/mymblog", Purpose.TIMELINE),
                             ("/statuses/searchProfile", Purpose.TIMELINE),
                             ("/profile/info", Purpose.PROFILE), ("/comments/", Purpose.COMMENTS)):
            if marker in path:
                purpose = kind
        if path.endswith("/getIndex"):
            containerid = query_param(url, "containerid")
            purpose = Purpose.TIMELINE if containerid.startswith(("107603", "230413")) else Purpose.PROFILE
        return RequestSpec(url=url, purpose=purpose, meta={"platform": "weibo", **meta})

    def _request(self, url: str, purpose: Purpose, account_id: str, cookie: str) -> RequestSpec:
        headers = {"Accept": "application/json, text/plain, */*",
                   "X-Requested-With": "XMLHttpRequest", "User-Agent": self._agent()}
        if self.interface == "desktop":
            headers["Referer"] = f"{DESKTOP}/u/{account_id}" if account_id else f"{DESKTOP}/"
            xsrf = re.search(r"(?:^|;\s*)XSRF-TOKEN=([^;]+)", cookie)
            if xsrf:
                headers["X-XSRF-TOKEN"] = xsrf[1]
        else:
            headers["MWeibo-Pwa"] = "1"
            headers["Referer"] = f"{MOBILE}/u/{account_id}" if account_id else f"{MOBILE}/"
        if cookie:
            headers["Cookie"] = cookie
        meta = {"platform": "weibo", "account_id": account_id, "interface": self.interface,
                "with_cookies": bool(cookie)}
        return RequestSpec(url=url, purpose=purpose, headers=headers, meta=meta)

    def _agent(self) -> str:
        return DESKTOP_AGENT if self.interface == "desktop" else MOBILE_AGENT


def post_id_from_url(url: str) -> str:
    """The numeric post id in a Weibo URL (``id=`` or the last path part, mid or bid)."""
    value = query_param(url, "id") or urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    if value.isdigit():
        return value
    try:
        return bid_to_mid(value) if value and value.isalnum() and len(value) == 9 else ""
    except ValueError:
        return ""


def _bid(post: Post) -> str:
    return post.platform_ids.get("bid") or mid_to_bid(post.post_id)


