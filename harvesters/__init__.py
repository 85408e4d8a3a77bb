"""What each platform is: endpoints, pagination and parsing into post records.

Every name below loads its module when first asked for (PEP 562), so that reading a time zone
(``harvesters.dates``, which every command's start needs) loads no parser, record or lxml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harvesters.common import ParseResult, RequestSpec
    from harvesters.errors import (
        CaptchaRequired,
        HarvestError,
        HarvestProblem,
        LoginExpired,
        PlatformError,
        RateLimited,
        Unavailable,
        UnsupportedResponse,
    )
    from harvesters.purposes import Purpose
    from harvesters.records import AccountInfo, Comment, Media, Post
    from harvesters.wechat import WechatHarvester
    from harvesters.weibo import WeiboHarvester

# Where each public name lives; a name's module loads when the name is first asked for.
_HOMES = {
    "ParseResult": "common", "RequestSpec": "common", "Purpose": "purposes",
    "AccountInfo": "records", "Comment": "records", "Media": "records", "Post": "records",
    "WechatHarvester": "wechat", "WeiboHarvester": "weibo",
    **{name: "errors" for name in ("CaptchaRequired", "HarvestError", "HarvestProblem",
                                   "LoginExpired", "PlatformError", "RateLimited", "Unavailable",
                                   "UnsupportedResponse")},
}


def __getattr__(name: str) -> Any:
    if name == "HARVESTERS":
        return {"weibo": __getattr__("WeiboHarvester"), "wechat": __getattr__("WechatHarvester")}
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harvesters' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harvesters.{home}"), name)
    globals()[name] = value  # asked once
    return value


def make_harvester(platform: str, source: str | None = None, *,
                   follow_media: bool = True) -> WeiboHarvester | WechatHarvester:
    """The harvester for an account: ``source`` is its listing source (Weibo: mobile or desktop;
    WeChat: api, backend, feed or urls; None: the platform's default)."""
    from harvesters.errors import HarvestError
    from harvesters.wechat import WechatHarvester
    from harvesters.weibo import WeiboHarvester

    if platform == "weibo":
        return WeiboHarvester(source or "mobile", follow_media=follow_media)
    if platform == "wechat":
        return WechatHarvester(follow_media=follow_media, source=source)
    raise HarvestError(f"weidang knows no platform called {platform!r} (it knows weibo and wechat)")

__all__ = [
    "HARVESTERS", "make_harvester", "WeiboHarvester", "WechatHarvester", "RequestSpec", "Purpose",
    "ParseResult", "Post", "Media", "AccountInfo", "Comment", "HarvestError", "HarvestProblem",
    "UnsupportedResponse", "RateLimited", "CaptchaRequired", "LoginExpired", "Unavailable",
    "PlatformError",
]
