"""What each platform is: endpoints, pagination and parsing into post records."""

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

HARVESTERS = {"weibo": WeiboHarvester, "wechat": WechatHarvester}


def make_harvester(platform: str, source: str | None = None, *,
                   follow_media: bool = True) -> WeiboHarvester | WechatHarvester:
    """The harvester for an account: ``source`` is its listing source (Weibo: mobile or desktop;
    WeChat: api, backend, feed or urls; None: the platform's default)."""
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
