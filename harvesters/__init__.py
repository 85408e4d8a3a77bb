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
from harvesters.records import AccountInfo, Comment, Media, Post
from harvesters.wechat import WechatHarvester
from harvesters.weibo import WeiboHarvester

HARVESTERS = {"weibo": WeiboHarvester, "wechat": WechatHarvester}

__all__ = [
    "HARVESTERS", "WeiboHarvester", "WechatHarvester", "RequestSpec", "ParseResult", "Post",
    "Media", "AccountInfo", "Comment", "HarvestError", "HarvestProblem", "UnsupportedResponse",
    "RateLimited", "CaptchaRequired", "LoginExpired", "Unavailable", "PlatformError",
]
