"""The platforms' QR-code login pages, and the sessions they hand out.

Modelled on the real flows (the parts no public source confirms are marked in the notes below):

Weibo (passport.weibo.com): the sign-in page asks ``/sso/v2/qrcode/image`` for a QR id and the
image's address, shows the image, and polls ``/sso/v2/qrcode/check?qrid=`` (retcode 50114001
waiting, 50114002 scanned, 20000000 confirmed with ``data.url``). That URL is the cross-domain
step that sets the login cookies SUB and SUBP (and ALF, the auto-login expiry in unix seconds)
on .weibo.com and .weibo.cn, then sends the browser to weibo.com. ``m.weibo.cn/api/config``
tells whether the cookie is logged in (``data.login``).

WeChat (mp.weixin.qq.com): the backend's front page starts a login (``bizlogin?action=
startlogin``, a ``uuid`` cookie), shows ``scanloginqrcode?action=getqrcode`` and polls
``scanloginqrcode?action=ask`` (status 0 waiting, 4 scanned, 1 confirmed, 2 expired). Then
``bizlogin?action=login`` sets the session cookies (slave_sid, slave_user, data_ticket, bizuin)
and answers ``redirect_url`` with the session's ``token`` in it. ``/cgi-bin/home?token=`` is the
backend's home page for a live session; an ended one is sent back to the login page.

The control API "scans" the newest QR code (``POST /login/scan``) and ends every session
handed out (``POST /login/expire``).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate

import qrcode

from emulator.exchange import HTML, Request, Response, php_json, plain_json

PASSPORT_HOST = "passport.weibo.com"
SESSION_DAYS = 30  # how long the emulated logins last (Weibo's ALF is about this far out)
WAITING, SCANNED, CONFIRMED = "waiting", "scanned", "confirmed"
_WEIBO_RETCODE = {WAITING: 50114001, SCANNED: 50114002, CONFIRMED: 20000000}
_WECHAT_STATUS = {WAITING: 0, SCANNED: 4, CONFIRMED: 1}


@dataclass
class QrLogin:
    platform: str
    qrid: str
    state: str = WAITING
    ticket: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass
class Session:
    platform: str
    cookies: dict[str, str]
    token: str
    expires: float
    ended: bool = False

    @property
    def live(self) -> bool:
        return not self.ended and time.time() < self.expires


class LoginService:
    """QR logins in progress, and the sessions they led to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[QrLogin] = []
        self._sessions: list[Session] = []

    # -- control ----------------------------------------------------------------------------
    def scan(self, platform: str, confirm: bool = True) -> dict[str, object]:
        """The phone scans the newest QR code of ``platform`` (and confirms the login)."""
        with self._lock:
            waiting = [q for q in self._pending if q.platform == platform and q.state != CONFIRMED]
            if not waiting:
                raise ValueError(f"No {platform} login page is showing a QR code to scan.")
            qr = waiting[-1]
            qr.state = CONFIRMED if confirm else SCANNED
            return {"qrid": qr.qrid, "state": qr.state}

    def expire(self, platform: str | None = None) -> int:
        """Every session handed out (for ``platform``) ends, as when the platform logs it out."""
        with self._lock:
            ended = [s for s in self._sessions if platform in (None, s.platform) and not s.ended]
            for session in ended:
                session.ended = True
            return len(ended)

    def describe(self) -> dict[str, object]:
        with self._lock:
            return {"pending": [{"platform": q.platform, "state": q.state} for q in self._pending],
                    "sessions": [{"platform": s.platform, "live": s.live} for s in self._sessions]}

    # -- sessions ---------------------------------------------------------------------------
    def _new_qr(self, platform: str) -> QrLogin:
        qr = QrLogin(platform, secrets.token_hex(12))
        with self._lock:
            self._pending = [*self._pending[-20:], qr]
        return qr

    def _find(self, platform: str, qrid: str) -> QrLogin | None:
        with self._lock:
            return next((q for q in self._pending if q.platform == platform and q.qrid == qrid), None)

    def _open_session(self, qr: QrLogin) -> Session | None:
        with self._lock:
            if qr.state != CONFIRMED or qr not in self._pending:
                return None
            self._pending.remove(qr)  # a ticket logs in once
            if qr.platform == "weibo":
                cookies = {"SUB": "_2A25" + secrets.token_urlsafe(60),
                           "SUBP": "0033Wr" + secrets.token_urlsafe(40)}
            else:
                cookies = {"slave_sid": secrets.token_urlsafe(48), "slave_user": "gh_" + qr.qrid[:12],
                           "data_ticket": secrets.token_urlsafe(48), "bizuin": "3" + qr.qrid[:9]}
            token = str(1_000_000_000 + secrets.randbelow(999_999_999))
            session = Session(qr.platform, cookies, token, time.time() + SESSION_DAYS * 86400)
            self._sessions.append(session)
            return session

    def session_for(self, platform: str, request: Request, token: str | None = None) -> Session | None:
        """The live session the request's cookies (and token) belong to."""
        key = "SUB" if platform == "weibo" else "slave_sid"
        value = request.cookie(key)
        with self._lock:
            return next((s for s in self._sessions if s.platform == platform and s.live
                         and s.cookies[key] == value and (token is None or s.token == token)), None)

    # -- Weibo --------------------------------------------------------------------------------
    def passport(self, request: Request) -> Response | None:
        path, query = request.path, request.query
        if path == "/sso/signin":
            return Response(body=_WEIBO_PAGE.encode(), content_type=HTML)
        if path == "/sso/v2/qrcode/image":
            qr = self._new_qr("weibo")
            image = f"https://{PASSPORT_HOST}/sso/v2/qrcode/png?qrid={qr.qrid}"
            return Response(body=php_json({"retcode": 20000000, "msg": "succ",
                                           "data": {"qrid": qr.qrid, "image": image}}))
        if path == "/sso/v2/qrcode/png":
            found = self._find("weibo", query.get("qrid", ""))
            if found is None:
                return None
            return _png(f"https://passport.weibo.cn/signin/qrcode/scan?qr={found.qrid}")
        if path == "/sso/v2/qrcode/check":
            return self._weibo_check(query.get("qrid", ""))
        if path == "/sso/v2/login/crossdomain":
            return self._weibo_crossdomain(query.get("qrid", ""), query.get("ticket", ""))
        return None

    def _weibo_check(self, qrid: str) -> Response:
        qr = self._find("weibo", qrid)
        if qr is None:
            return Response(body=php_json({"retcode": 50114004, "msg": "该二维码已过期", "data": None}))
        data = None
        if qr.state == CONFIRMED:
            data = {"url": f"https://{PASSPORT_HOST}/sso/v2/login/crossdomain?qrid={qr.qrid}"
                           f"&ticket={qr.ticket}"}
        return Response(body=php_json({"retcode": _WEIBO_RETCODE[qr.state], "msg": qr.state,
                                       "data": data}))

    def _weibo_crossdomain(self, qrid: str, ticket: str) -> Response | None:
        qr = self._find("weibo", qrid)
        if qr is None or not secrets.compare_digest(qr.ticket, ticket):
            return None
        session = self._open_session(qr)
        if session is None:
            return None
        response = Response(status=302, body=b"", content_type=HTML).header("Location", "https://weibo.com/")
        expires = formatdate(session.expires, usegmt=True)
        for domain in (".weibo.com", ".weibo.cn"):
            for name, value in session.cookies.items():
                response.header("Set-Cookie", f"{name}={value}; expires={expires}; path=/; "
                                f"domain={domain}; secure; httponly")
            response.header("Set-Cookie", f"ALF={int(session.expires)}; expires={expires}; path=/; "
                            f"domain={domain}")
        return response

    def weibo_config(self, request: Request) -> Response:
        """m.weibo.cn/api/config: whether the cookie is a live login."""
        session = self.session_for("weibo", request)
        data: dict[str, object] = {"login": session is not None, "st": secrets.token_hex(3)}
        if session is not None:
            data["uid"] = "7" + session.token[:9]
        return Response(body=php_json({"data": data, "ok": 1}))

    # -- WeChat -------------------------------------------------------------------------------
    def wechat(self, request: Request) -> Response | None:
        path, query = request.path, request.query
        if path == "/":
            return Response(body=_WECHAT_PAGE.encode(), content_type=HTML)
        if path == "/cgi-bin/bizlogin" and query.get("action") == "startlogin":
            started = self._new_qr("wechat")
            return Response(body=plain_json({"base_resp": {"ret": 0, "err_msg": "ok"}})).header(
                "Set-Cookie", f"uuid={started.qrid}; path=/; secure; httponly")
        if path == "/cgi-bin/bizlogin" and query.get("action") == "login":
            return self._wechat_login(request)
        if path == "/cgi-bin/scanloginqrcode":
            qr = self._find("wechat", request.cookie("uuid") or "")
            if qr is None:
                return Response(body=plain_json({"base_resp": {"ret": 0}, "status": 2}))
            if query.get("action") == "getqrcode":
                return _png(f"https://mp.weixin.qq.com/cgi-bin/loginqrcode?action=scan&uuid={qr.qrid}")
            return Response(body=plain_json({"base_resp": {"ret": 0}, "status": _WECHAT_STATUS[qr.state]}))
        return None

    def _wechat_login(self, request: Request) -> Response:
        qr = self._find("wechat", request.cookie("uuid") or "")
        session = self._open_session(qr) if qr is not None else None
        if session is None:
            return Response(body=plain_json({"base_resp": {"ret": 200008, "err_msg": "invalid session"}}))
        url = f"/cgi-bin/home?t=home/index&lang=zh_CN&token={session.token}"
        response = Response(body=plain_json({"base_resp": {"ret": 0, "err_msg": "ok"},
                                             "redirect_url": url}))
        expires = formatdate(session.expires, usegmt=True)
        for name, value in session.cookies.items():
            response.header("Set-Cookie", f"{name}={value}; expires={expires}; path=/; secure; httponly")
        return response


def _png(text: str) -> Response:
    out = io.BytesIO()
    qrcode.make(text, border=4).save(out)
    return Response(body=out.getvalue(), content_type="image/png")


_WEIBO_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>微博-登录</title>
</head><body><div class="qrcode-box"><p>扫描二维码登录</p><img id="qrcode" alt="二维码">
<p id="tip">请使用微博客户端扫码登录</p></div><script>
async function start() {
  const r = await (await fetch('/sso/v2/qrcode/image?entry=miniblog&size=180')).json();
  document.getElementById('qrcode').src = r.data.image;
  const qrid = r.data.qrid;
  async function poll() {
    const c = await (await fetch('/sso/v2/qrcode/check?entry=miniblog&qrid=' + qrid)).json();
    if (c.retcode === 20000000) { location.href = c.data.url; return; }
    const tip = document.getElementById('tip');
    if (c.retcode === 50114002) tip.textContent = '成功扫描，请在手机点击确认以登录';
    if (c.retcode === 50114004) { tip.textContent = '该二维码已过期'; return; }
    setTimeout(poll, 1000);
  }
  poll();
}
start();
</script></body></html>"""

_WECHAT_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>微信公众平台</title>
</head><body><div class="login__type__container__scan"><img class="login__type__container__scan__qrcode"
alt="二维码"><p id="tip">使用账号绑定的管理员微信扫码登录</p></div><script>
async function start() {
  await fetch('/cgi-bin/bizlogin?action=startlogin', {method: 'POST'});
  document.querySelector('.login__type__container__scan__qrcode').src =
      '/cgi-bin/scanloginqrcode?action=getqrcode&random=' + Date.now();
  async function poll() {
    const ask = '/cgi-bin/scanloginqrcode?action=ask&token=&lang=zh_CN&f=json&ajax=1';
    const c = await (await fetch(ask)).json();
    if (c.status === 1) {
      const r = await (await fetch('/cgi-bin/bizlogin?action=login', {method: 'POST'})).json();
      if (r.redirect_url) { location.href = r.redirect_url; return; }
    }
    if (c.status === 4) document.getElementById('tip').textContent = '已扫码，请在微信中确认登录';
    if (c.status === 2) { document.getElementById('tip').textContent = '二维码已过期'; return; }
    setTimeout(poll, 1000);
  }
  poll();
}
start();
</script></body></html>"""
