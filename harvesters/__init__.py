"""What each platform is: endpoints, pagination and parsing into post records.

The two platform modules (and parsel, lxml with them) load when first used (PEP 562), so that
reading a time zone (``harvesters.dates``) does not load every parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from harvesters.wechat import WechatHarvester
    from harvesters.weibo import WeiboHarvester


def __getattr__(name: str) -> Any:
    if name == "WechatHarvester":
        from harvesters.wechat import WechatHarvester

        return WechatHarvester
    if name == "WeiboHarvester":
        from harvesters.weibo import WeiboHarvester

        return WeiboHarvester
    if name == "HARVESTERS":
        from harvesters.wechat import WechatHarvester
        from harvesters.weibo import WeiboHarvester

        return {"weibo": WeiboHarvester, "wechat": WechatHarvester}
    raise AttributeError(f"module 'harvesters' has no attribute {name!r}")


def make_harvester(platform: str, source: str | None = None, *,
                   follow_media: bool = True) -> WeiboHarvester | WechatHarvester:
    """The harvester for an account: ``source`` is its listing source (Weibo: mobile or desktop;
    WeChat: api, backend, feed or urls; None: the platform's default)."""
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
