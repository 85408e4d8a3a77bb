"""What WeChat's error codes mean for a harvest: which problem each is, in plain words."""

from __future__ import annotations

from harvesters.errors import HarvestProblem, LoginExpired, PlatformError, RateLimited

API_LOGIN_ADVICE = ("Check the AppID and AppSecret in the credentials file, and that this machine's "
                    "IP address is on the account's API whitelist.")
BACKEND_LOGIN_ADVICE = ("Log in to mp.weixin.qq.com again in a browser and copy the new cookie and "
                        "token into the credentials file.")
# Official API error codes: which problem each is, in plain words.
API_ERRORS: dict[int, tuple[type[HarvestProblem], str]] = {
    40001: (LoginExpired, "the WeChat API rejected the AppSecret or access token (40001)"),
    40013: (LoginExpired, "the WeChat API does not know this AppID (40013)"),
    40014: (LoginExpired, "the WeChat API access token is not valid (40014)"),
    40125: (LoginExpired, "the WeChat API rejected the AppSecret (40125)"),
    40164: (LoginExpired, "this machine's IP address is not on the account's API whitelist (40164)"),
    61004: (LoginExpired, "this machine's IP address is not on the account's API whitelist (61004)"),
    40243: (LoginExpired, "the account's AppSecret is frozen (40243)"),
    42001: (LoginExpired, "the WeChat API access token has expired (42001)"),
    45009: (RateLimited, "the account used up its daily WeChat API quota (45009)"),
    45011: (RateLimited, "the WeChat API per-minute limit was reached (45011)"),
    48001: (PlatformError, "the account is not allowed to use this API; freepublish needs a "
                           "verified (微信认证) account (48001)"),
}
# mp.weixin.qq.com backend base_resp.ret codes.
BACKEND_ERRORS: dict[int, tuple[type[HarvestProblem], str]] = {
    200003: (LoginExpired, "the mp.weixin.qq.com session has expired (ret 200003)"),
    200013: (RateLimited, "mp.weixin.qq.com applies frequency control (ret 200013)"),
    200002: (PlatformError, "mp.weixin.qq.com rejected the request's arguments, usually a wrong "
                            "fakeid (__biz) for the account (ret 200002)"),
}


def with_said(reason: str, said: str) -> str:
    """A refusal's reason with WeChat's own words (``errmsg``, ``err_msg``) after it, kept apart so
    that the reason can be told in the reader's language and WeChat's words stay as they were."""
    said = said.strip()
    return f"{reason}; WeChat said: {said}" if said and said.lower() != "ok" else reason
