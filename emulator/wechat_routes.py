"""api.weixin.qq.com, mp.weixin.qq.com and the emulator's RSS/Atom feed host."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import secrets
import threading
import time
from typing import Any
from xml.sax.saxutils import escape

from emulator import article_page, ids, samples
from emulator.exchange import HTML, Request, Response, json_response, plain_json
from emulator.login_routes import LoginService
from emulator.wechat_world import Article, WechatAccount
from emulator.world import World

FEED_HOST = "rss.weidang-emulator.invalid"
TOKEN_LIFETIME = 7200
TOKEN_OVERLAP = 300  # a new token leaves the previous one valid for five minutes [D3]
LIST_EX_MAX = 5
FREEPUBLISH_MAX = 20


def rid() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def api_error(code: int, message: str) -> Response:
    return json_response({"errcode": code, "errmsg": f"{message} rid: {rid()}"}, weibo=False)


def base_resp(ret: int, message: str) -> Response:
    return json_response({"base_resp": {"ret": ret, "err_msg": message}}, weibo=False)


class WechatService:
    """Answers for the WeChat hosts; keeps the access tokens it has handed out."""

    def __init__(self, world: World, logins: LoginService | None = None) -> None:
        self.logins = logins if logins is not None else LoginService()
        self.world = world
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (appid, expires at)
        self._latest: dict[str, str] = {}  # appid -> newest token

    # -- official API ---------------------------------------------------------------------
    def _account_by_appid(self, appid: str) -> WechatAccount | None:
        return next((a for a in self.world.wechat.values() if a.appid == appid), None)

    def token(self, request: Request) -> Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return api_error(40002, "invalid grant_type")
        account = self._account_by_appid(query.get("appid", ""))
        if account is None:
            return api_error(40013, "invalid appid")
        if query.get("secret") != account.secret:
            return api_error(40125, "invalid appsecret")
        token = f"80_{secrets.token_urlsafe(96)}"
        now = time.time()
        with self._lock:
            previous = self._latest.get(account.appid)
            if previous in self._tokens:
                appid, expires = self._tokens[previous]
                self._tokens[previous] = (appid, min(expires, now + TOKEN_OVERLAP))
            self._tokens[token] = (account.appid, now + TOKEN_LIFETIME)
            self._latest[account.appid] = token
        return json_response({"access_token": token, "expires_in": TOKEN_LIFETIME}, weibo=False)

    def expire_tokens(self) -> int:
        """Make every token handed out so far expired (42001 on next use)."""
        with self._lock:
            for token, (appid, _) in list(self._tokens.items()):
                self._tokens[token] = (appid, 0.0)
            return len(self._tokens)

    def _token_account(self, token: str) -> WechatAccount | Response:
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return api_error(40001, "invalid credential, access_token is invalid or not latest")
        appid, expires = entry
        if time.time() >= expires:
            return api_error(42001, "access_token expired")
        account = self._account_by_appid(appid)
        return account if account is not None else api_error(40001, "invalid credential")

    def batchget(self, request: Request) -> Response:
        found = self._token_account(request.query.get("access_token", ""))
        if isinstance(found, Response):
            return found
        body = request.json_body()
        if (not isinstance(body, dict) or not isinstance(body.get("offset"), int)
                or not isinstance(body.get("count"), int)
                or not 1 <= body["count"] <= FREEPUBLISH_MAX or body["offset"] < 0):
            return api_error(40097, "invalid args")
        with self.world.lock:
            pushes = found.pushes[body["offset"]:body["offset"] + body["count"]]
            items = [{
                "article_id": ids.hex_id(40, "article_id", found.biz, push.mid),
                "content": {"news_item": [self._news_item(a, body.get("no_content") == 1)
                                          for a in push.articles],
                            "create_time": push.create_time, "update_time": push.create_time},
                "update_time": push.create_time,
            } for push in pushes]
            total = len(found.pushes)
        return json_response({"total_count": total, "item_count": len(items), "item": items},
                             weibo=False)

    @staticmethod
    def _news_item(article: Article, no_content: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "title": article.title, "author": article.author, "digest": article.digest,
            "content": article.body, "content_source_url": "",
            "thumb_media_id": ids.hex_id(43, "thumb", article.biz, article.mid, article.idx),
            "thumb_url": article.cover, "need_open_comment": 0, "only_fans_can_comment": 0,
            "url": article.link, "is_deleted": article.state == "deleted",
        }
        if no_content:
            del item["content"]
        return item

    # -- backend session ------------------------------------------------------------------
    def _session_ok(self, request: Request) -> bool:
        sid, token = request.cookie("slave_sid"), request.query.get("token", "")
        return any(a.session_id == sid and a.session_token == token
                   for a in self.world.wechat.values()) or (
            self.logins.session_for("wechat", request, token) is not None)  # a QR login's

    def home(self, request: Request) -> Response:
        """The backend's home page for a live session; an ended one goes back to the login page."""
        if not self._session_ok(request):
            return Response(status=302, body=b"", content_type=HTML).header("Location", "/")
        return Response(body="<html><head><title>公众号</title></head><body><div id=\"menuBar\">"
                        "首页</div></body></html>".encode(), content_type=HTML)

    def backend(self, request: Request) -> Response:
        if not self._session_ok(request):
            return base_resp(200003, "invalid session")
        query = request.query
        account, page = self.world.wechat.get(query.get("fakeid", "")), _begin_count(query)
        if account is None or page is None:
            return base_resp(200002, "invalid args")
        begin, count = page
        if request.path == "/cgi-bin/appmsg":
            return self._list_ex(account, begin, min(max(count, 1), LIST_EX_MAX))
        return self._publish_list(account, begin, min(max(count, 1), FREEPUBLISH_MAX))

    def searchbiz(self, request: Request) -> Response:
        """搜索公众号 for a live backend session: accounts whose name holds the query, or whose
        user name is it, the exact name first; ``fakeid`` is the ``__biz``. No answer was
        recorded; the fields are the ones PLATFORM-NOTES §1.4 lists."""
        if not self._session_ok(request):
            return base_resp(200003, "invalid session")
        query = request.query
        name, page = query.get("query", "").strip(), _begin_count(query)
        if page is None:
            return base_resp(200002, "invalid args")
        begin, count = page
        with self.world.lock:
            found = [a for a in self.world.wechat.values()
                     if name and (name in a.nickname or name == a.user_name)]
        found.sort(key=lambda a: a.nickname != name)
        head = "http://mmbiz.qpic.cn/mmbiz_png/{}/0?wx_fmt=png"
        listed = [{"fakeid": a.biz, "nickname": a.nickname, "alias": "", "service_type": 2,
                   "round_head_img": head.format(ids.hex_id(20, "head", a.biz)),
                   "signature": f"{a.nickname}官方公众号"}
                  for a in found[begin:begin + min(max(count, 1), 5)]]
        return json_response({"base_resp": {"ret": 0, "err_msg": "ok"}, "list": listed, "total": len(found)},
                             weibo=False)

    @staticmethod
    def _item(article: Article) -> bytes:
        if article.item_sample is not None and article.revision == 0:
            return article.item_sample
        template = json.loads(samples.lines(samples.APPMSG_ITEMS)[0])
        template.update({
            "aid": article.aid, "appmsgid": article.mid, "itemidx": article.idx,
            "title": article.title, "digest": article.digest, "cover": article.cover,
            "link": article.link.removesuffix("#rd"), "create_time": article.create_time,
            "update_time": article.create_time, "copyright_type": 0, "item_show_type": 0,
        })
        return json.dumps(template, ensure_ascii=False).encode("utf-8")

    def _list_ex(self, account: WechatAccount, begin: int, count: int) -> Response:
        with self.world.lock:
            articles = [a for a in account.articles() if a.state != "deleted"]
            chosen = [self._item(a) for a in articles[begin:begin + count]]
        body = (b'{"base_resp":{"ret":0,"err_msg":"ok"},"app_msg_cnt":'
                + str(len(articles)).encode() + b',"app_msg_list":[' + b",".join(chosen) + b"]}")
        return Response(body=body)

    def _publish_list(self, account: WechatAccount, begin: int, count: int) -> Response:
        with self.world.lock:
            pushes = account.pushes[begin:begin + count]
            publish_list = [{"publish_type": 1, "publish_info": json.dumps({
                "type": 9, "msgid": push.mid,
                "sent_info": {"time": push.create_time, "func_flag": 0, "is_send_all": True,
                              "is_published": 1},
                "appmsgex": [{
                    "aid": a.aid, "appmsgid": a.mid, "itemidx": a.idx, "title": a.title,
                    "digest": a.digest, "link": a.link.removesuffix("#rd"), "cover": a.cover,
                    "author_name": a.author, "create_time": a.create_time,
                    "update_time": a.create_time, "copyright_stat": 0,
                    "is_deleted": a.state == "deleted", "item_show_type": 0,
                } for a in push.articles],
            }, ensure_ascii=False)} for push in pushes]
            page = {"total_count": len(account.pushes), "publish_count": 0,
                    "masssend_count": len(account.pushes), "publish_list": publish_list}
        return json_response({"base_resp": {"ret": 0, "err_msg": "ok"},
                              "publish_page": json.dumps(page, ensure_ascii=False)}, weibo=False)

    # -- article pages --------------------------------------------------------------------
    def article(self, request: Request) -> Response:
        query = request.query
        article: Article | None = None
        if request.path.startswith("/s/"):
            article = self.world.short_links.get(request.path[3:])
        elif "src" in query and "signature" in query:
            return _page(samples.raw(samples.EXPIRED_PAGE))  # an expired Sogou temporary link
        else:
            try:
                article = self.world.article(query.get("__biz", ""), int(query.get("mid", "")),
                                             int(query.get("idx", "1") or 1))
            except ValueError:
                article = None
            if article is not None and article.sn and query.get("sn") != article.sn:
                article = None
        if article is None:
            return _page(article_page.unavailable("missing"))
        if article.state != "ok":
            return _page(article_page.unavailable(article.state))
        if article.sample is not None and article.revision == 0:
            return _page(samples.raw(article.sample))
        return _page(article_page.render(article, self.world.account_of(article)))

    # -- feeds ----------------------------------------------------------------------------
    def feed(self, request: Request) -> Response | None:
        name = request.path.removeprefix("/wechat/")
        biz, _, kind = name.rpartition(".")
        account = self.world.wechat.get(biz)
        if account is None or kind not in ("xml", "atom"):
            return Response(status=404, body=b"No such feed.\n", content_type="text/plain")
        with self.world.lock:
            articles = [a for a in account.articles() if a.state == "ok"]
        return rss(account, articles) if kind == "xml" else atom(account, articles)


def _page(body: bytes) -> Response:
    return Response(body=body, content_type=HTML, headers=[
        ("Set-Cookie", "rewardsn=; Path=/"), ("Set-Cookie", "wxtokenkey=777; Path=/; HttpOnly")])


def _when(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def rss(account: WechatAccount, articles: list[Article]) -> Response:
    items = "".join(
        f"<item><title>{escape(a.title)}</title><link>{escape(a.link)}</link>"
        f'<guid isPermaLink="false">{a.biz}:{a.mid}:{a.idx}</guid>'
        f"<pubDate>{email.utils.format_datetime(_when(a.create_time))}</pubDate>"
        f"<description>{escape(a.digest)}</description></item>" for a in articles)
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(account.nickname)}</title>"
            f"<link>https://mp.weixin.qq.com/mp/profile_ext?__biz={account.biz}</link>"
            f"<description>{escape(account.nickname)} (weidang emulator feed)</description>"
            f"{items}</channel></rss>")
    return Response(body=body.encode(), content_type="application/rss+xml; charset=utf-8")


def _begin_count(query: dict[str, str]) -> tuple[int, int] | None:
    """A backend call's ``begin`` and ``count``; None when they are not numbers."""
    try:
        return int(query.get("begin", "0") or 0), int(query.get("count", "5") or 5)
    except ValueError:
        return None


def atom(account: WechatAccount, articles: list[Article]) -> Response:
    updated = _when(max((a.create_time for a in articles), default=0)).isoformat()
    entries = "".join(
        f"<entry><title>{escape(a.title)}</title><link href=\"{escape(a.link)}\"/>"
        f"<id>urn:weidang-emulator:{a.biz}:{a.mid}:{a.idx}</id>"
        f"<updated>{_when(a.create_time).isoformat()}</updated>"
        f"<summary>{escape(a.digest)}</summary></entry>" for a in articles)
    body = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(account.nickname)}</title>"
            f"<id>urn:weidang-emulator:{account.biz}</id><updated>{updated}</updated>"
            f"{entries}</feed>")
    return Response(body=body.encode(), content_type="application/atom+xml; charset=utf-8")


def dispatch(service: WechatService, request: Request) -> Response | None:
    host, path = request.host, request.path
    if host == "api.weixin.qq.com":
        if path == "/cgi-bin/token":
            return service.token(request)
        if path == "/cgi-bin/freepublish/batchget":
            if request.method != "POST":
                return api_error(43002, "require POST method")
            return service.batchget(request)
        return None
    if host == "mp.weixin.qq.com":
        if path in ("/cgi-bin/appmsg", "/cgi-bin/appmsgpublish"):
            return service.backend(request)
        if path == "/cgi-bin/searchbiz":
            return service.searchbiz(request)
        if path == "/s" or path.startswith("/s/"):
            return service.article(request)
        if path == "/cgi-bin/home":
            return service.home(request)
        return service.logins.wechat(request)
    if host == FEED_HOST and path.startswith("/wechat/"):
        return service.feed(request)
    return None


__all__ = ["WechatService", "dispatch", "plain_json"]
