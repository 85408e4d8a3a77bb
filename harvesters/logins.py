"""How each platform's QR-code login works, as data: where the login page is, which element is
the QR code, which cookies prove a login, where the token is, and a cheap request that tells
whether a stored login still works. No I/O here: crawler/login.py drives the browser and sends
the check.

Weibo: passport.weibo.com's QR sign-in ends by setting SUB and SUBP on .weibo.com and .weibo.cn
(ALF holds the auto-login expiry); ``m.weibo.cn/api/config`` answers ``data.login`` true for a
live cookie [ST ``src/api/weibo.ts``]. WeChat: the mp.weixin.qq.com backend's QR login ends on
``/cgi-bin/home?...&token=N`` with the session cookies slave_sid, slave_user, data_ticket and
bizuin; an ended session asks again for a login (200003 ``invalid session`` in the JSON calls).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["valid", "expired", "unknown"]


@dataclass(frozen=True)
class LoginFlow:
    platform: str
    login_url: str
    qr_selector: str  # the QR image on the login page
    cookie_domains: tuple[str, ...]  # the cookies kept are those of these sites
    proof_cookies: tuple[str, ...]  # all present: the login is done
    expiry_cookie: str  # its expiry is the login's
    token_param: str = ""  # the query parameter of the page URL after login holding the token
    leave_cookies: tuple[str, ...] = ()  # the login page's own, of no use afterwards
    check_url: str = ""  # {token} is filled in

    def done(self, cookies: Mapping[str, str], url: str) -> bool:
        """Whether the browser now holds a login."""
        if not all(cookies.get(name) for name in self.proof_cookies):
            return False
        return not self.token_param or bool(self.token(url))

    def token(self, url: str) -> str:
        if not self.token_param:
            return ""
        values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(self.token_param)
        return values[0] if values else ""

    def check(self, token: str) -> str:
        return self.check_url.format(token=urllib.parse.quote(token, safe=""))

    def verdict(self, status: int, location: str, body: bytes) -> Verdict:
        """What the check request's answer says about the login (redirects not followed)."""
        if self.platform == "weibo":
            return _weibo_verdict(status, body)
        return _wechat_verdict(status, location, body)


def _weibo_verdict(status: int, body: bytes) -> Verdict:
    if status != 200:
        return "unknown"  # 418/432: throttled, which says nothing about the login
    try:
        data = json.loads(body)
    except ValueError:
        return "unknown"
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return "unknown"
    if data.get("ok") == -100:
        return "expired"
    login = data["data"].get("login")
    return "valid" if login is True else "expired" if login is False else "unknown"


def _wechat_verdict(status: int, location: str, body: bytes) -> Verdict:
    if status in (301, 302, 303):
        # sent back to the login page (the front page or bizlogin)
        path = urllib.parse.urlsplit(location).path
        return "expired" if path in ("", "/") or "login" in path else "unknown"
    if status != 200:
        return "unknown"
    if b'"ret":200003' in body.replace(b" ", b"") or b"invalid session" in body:
        return "expired"
    return "valid"


FLOWS: dict[str, LoginFlow] = {
    "weibo": LoginFlow(
        platform="weibo", login_url="https://passport.weibo.com/sso/signin?entry=miniblog",
        qr_selector="img#qrcode", cookie_domains=("weibo.com",), proof_cookies=("SUB", "SUBP"),
        expiry_cookie="SUB", check_url="https://m.weibo.cn/api/config"),
    "wechat": LoginFlow(
        platform="wechat", login_url="https://mp.weixin.qq.com/",
        qr_selector="img.login__type__container__scan__qrcode", cookie_domains=("mp.weixin.qq.com",),
        proof_cookies=("slave_sid", "slave_user"), expiry_cookie="slave_sid", token_param="token",
        leave_cookies=("uuid",),
        check_url="https://mp.weixin.qq.com/cgi-bin/home?t=home/index&lang=zh_CN&token={token}"),
}


def login_flow(platform: str) -> LoginFlow:
    try:
        return FLOWS[platform]
    except KeyError:
        raise ValueError(f"weidang can log in to weibo or wechat, not {platform!r}") from None
