"""Finding an account by its name, the way archivists have it: the platforms' own account search,
as addresses and parsing (no I/O: ``crawler/account_search.py`` sends the request).

WeChat: the mp.weixin.qq.com backend's 搜索公众号, ``/cgi-bin/searchbiz?action=search_biz``, which a
logged-in backend session may ask; each hit's ``fakeid`` is the account's ``__biz``, the id a
harvest needs (PLATFORM-NOTES §1.4). Sogou's 公众号 search gives names and 微信号 but no
``__biz``, so it cannot register an account (``harvesters.refusals``).

Weibo: m.weibo.cn's user search, ``containerid=100103type=3&q=NAME`` with ``page_type=searchall``:
``card_type`` 11 groups holding ``card_type`` 10 cards, each with a ``user`` of the same shape as a
post's author (``id``, ``screen_name``, ``description``, ``followers_count``,
``verified_reason``). Several public clients read it this way; there is no recorded answer in
the shared fixtures. Nothing found is ``ok: 0`` with no cards (the recorded
``mweibo_getIndex_error_ok0_empty.json``).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from harvesters.errors import HarvestError, HarvestProblem, LoginExpired, PlatformError
from harvesters.wechat_codes import BACKEND_ERRORS, with_said

WECHAT_PAGE = 5  # the backend's page of 搜索公众号 holds five accounts
LOOKUP_LOGIN_ADVICE = "Log in again (`weidang login NAME %s`), then look the account up again."


@dataclass(frozen=True)
class Candidate:
    """One account the platform's search offers for a name."""

    platform: str
    id: str  # the id a harvest needs: WeChat's __biz, Weibo's uid
    name: str
    handle: str = ""  # WeChat's 微信号, where the account chose one
    description: str = ""
    followers: str = ""  # as the platform says it (a number, or "136.4万")
    verified: str = ""  # why the platform verified it (认证), if it did

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"


def search_url(platform: str, name: str, token: str = "") -> str:
    """The address that asks ``platform`` for accounts called ``name``."""
    if platform == "wechat":
        query = urllib.parse.urlencode({
            "action": "search_biz", "begin": 0, "count": WECHAT_PAGE, "query": name, "token": token,
            "lang": "zh_CN", "f": "json", "ajax": 1})
        return f"https://mp.weixin.qq.com/cgi-bin/searchbiz?{query}"
    if platform == "weibo":
        containerid = urllib.parse.quote(f"type=3&q={name}", safe="")
        return ("https://m.weibo.cn/api/container/getIndex?containerid=100103"
                f"{containerid}&page_type=searchall")
    raise ValueError(f"weidang can look up weibo or wechat accounts, not {platform!r}")


def parse_candidates(platform: str, body: bytes, url: str = "") -> list[Candidate]:
    """The accounts an answer of ``search_url`` offers, best match first as the platform ranks
    them. A refusal raises its ``HarvestProblem``; an answer of another shape ``HarvestError``."""
    try:
        data = json.loads(body)
    except ValueError:
        raise HarvestError(f"the {platform} account search answered something that is not JSON "
                           f"(at {url})") from None
    if not isinstance(data, dict):
        raise HarvestError(f"the {platform} account search answered JSON that is not an object (at {url})")
    if platform == "wechat":
        return _wechat(data, url)
    return _weibo(data, url)


def _wechat(data: dict[str, Any], url: str) -> list[Candidate]:
    base = data.get("base_resp") or {}
    ret = base.get("ret")
    if ret not in (None, 0, "0"):
        kind, reason = BACKEND_ERRORS.get(int(ret), (PlatformError, ""))
        reason = reason or f"mp.weixin.qq.com answered ret {ret}"
        raise kind(with_said(reason, str(base.get("err_msg") or "")), url=url,
                   advice=LOOKUP_LOGIN_ADVICE % "wechat" if kind is LoginExpired else None)
    found = data.get("list")
    if not isinstance(found, list):
        raise HarvestError(f"the WeChat account search answered without a list of accounts (at {url})")
    return [Candidate("wechat", str(item["fakeid"]), str(item.get("nickname") or ""),
                      handle=str(item.get("alias") or ""), description=str(item.get("signature") or ""))
            for item in found if isinstance(item, dict) and item.get("fakeid")]


def _weibo(data: dict[str, Any], url: str) -> list[Candidate]:
    if str(data.get("ok")) == "-100":
        raise LoginExpired("Weibo wants a login before answering (ok:-100)", url=url,
                           advice=LOOKUP_LOGIN_ADVICE % "weibo")
    cards = (data.get("data") or {}).get("cards")
    if not isinstance(cards, list):
        if str(data.get("ok")) == "0":
            raise HarvestProblem(f"Weibo refused the search: {data.get('msg') or 'ok:0'}", url=url)
        raise HarvestError(f"the Weibo user search answered without cards (at {url})")
    users = [card.get("user") for group in cards if isinstance(group, dict)
             for card in group.get("card_group") or []
             if isinstance(card, dict) and card.get("card_type") == 10]
    return [_weibo_candidate(user) for user in users if isinstance(user, dict) and user.get("id")]


def _weibo_candidate(user: dict[str, Any]) -> Candidate:
    followers = user.get("followers_count_str") or user.get("followers_count")
    return Candidate("weibo", str(user["id"]), str(user.get("screen_name") or ""),
                     description=str(user.get("description") or ""),
                     followers="" if followers is None else str(followers),
                     verified=str(user.get("verified_reason") or "") if user.get("verified") else "")
