"""WeChat official accounts: listing sources, article pages, and what each answer means.

An account is harvested through one listing source, chosen per account:

- ``api``: the official API with the agency's AppID/AppSecret (``cgi-bin/token``, then
  ``freepublish/batchget`` paged by offset); the token exchange is never archived;
- ``backend``: a logged-in mp.weixin.qq.com session (cookie + token), listing through
  ``cgi-bin/appmsgpublish`` (covers 群发; preferred) or ``cgi-bin/appmsg?action=list_ex``;
- ``feed``: an RSS 2.0 or Atom feed of article links;
- ``urls``: a plain list of article URLs.

Every listing yields partial posts plus one article-page request each; the article page is the
evidence and completes the post.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from parsel import Selector

from harvesters.common import ParseResult, RequestSpec, query_param
from harvesters.errors import (
    HarvestError,
    HarvestProblem,
    LoginExpired,
    PlatformError,
    RateLimited,
    Unavailable,
)
from harvesters.purposes import Purpose
from harvesters.records import Post
from harvesters.refusals import refuse_unsupported
from harvesters.wechat_article import ARTICLE_HOST, canonical_link, is_article_page, parse_article
from harvesters.wechat_codes import (
    API_ERRORS,
    API_LOGIN_ADVICE,
    BACKEND_ERRORS,
    BACKEND_LOGIN_ADVICE,
    with_said,
)
from harvesters.wechat_listings import (
    app_msg_posts,
    feed_posts,
    freepublish_posts,
    publish_page_posts,
)

API = "https://api.weixin.qq.com"
BACKEND = f"https://{ARTICLE_HOST}"
SOURCES = ("api", "backend", "feed", "urls")
BROWSER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/126.0.0.0 Safari/537.36")
API_PAGE = 20  # freepublish/batchget allows 1-20 per call
BACKEND_PAGE = 5  # the backend answers at most 5 per call
class WechatHarvester:
    """Platform knowledge of WeChat official accounts; keeps no state between calls."""

    name = "wechat"
    counts_edits = False  # a listed article shows no edit count: only its page can show an edit

    def __init__(self, *, follow_media: bool = True, backend_list: str = "appmsgpublish",
                 source: str | None = None) -> None:
        if backend_list not in ("appmsgpublish", "appmsg"):
            raise ValueError("backend_list must be 'appmsgpublish' or 'appmsg'")
        self.follow_media = follow_media
        self.backend_list = backend_list
        self.source = source  # the account's listing source; inferred from credentials when None

    # -- requests -------------------------------------------------------------------------

    def start_requests(self, account_id: str, credentials: Mapping[str, Any] | None = None,
                       source: str | None = None, resume: Mapping[str, Any] | None = None
                       ) -> list[RequestSpec]:
        """The first requests for ``account_id`` (its ``__biz``) through its listing source.

        With ``resume`` (a ``listing_cursor``), also the listing page a backfill goes on from
        (``meta["chain"] = "backfill"``): one page earlier than where it stopped, because an
        offset shifts when the account deletes articles meanwhile (``meta["overlap"]``: that
        page does not count against the run's page budget). Feeds and URL lists have no pages
        to go on from."""
        creds = dict(credentials or {})
        source = source or self.source or creds.get("source") or _infer_source(creds)
        starts = self._starts(account_id, creds, source)
        offset = int((resume or {}).get("begin") or (resume or {}).get("offset") or 0)
        if source == "backend" and offset:
            page = self.backend_list_request(account_id, str(creds["cookie"]), str(creds["token"]),
                                             begin=max(offset - BACKEND_PAGE, 0),
                                             fakeid=creds.get("fakeid"))
            page.meta.update(chain="backfill", overlap=True)
            starts.append(page)
        elif source == "api" and offset:
            starts[0].meta["resume_offset"] = max(offset - API_PAGE, 0)
        return starts

    def listing_cursor(self, request: RequestSpec) -> dict[str, Any] | None:
        """Where a listing page lies (its offset), to go on from it in a later run."""
        if request.purpose != Purpose.LIST:
            return None
        for key in ("begin", "offset"):
            if key in request.meta:
                return {key: int(request.meta[key] or 0)}
        return None

    def _starts(self, account_id: str, creds: dict[str, Any], source: str) -> list[RequestSpec]:
        meta = {"platform": "wechat", "account_id": account_id, "source": source}
        if source == "api":
            if not (creds.get("appid") and creds.get("secret")):
                raise HarvestError("the WeChat API source needs the account's appid and secret "
                                   "in the credentials file")
            query = {"grant_type": "client_credential", "appid": creds["appid"],
                     "secret": creds["secret"]}
            return [RequestSpec(url=f"{API}/cgi-bin/token?" + urlencode(query), purpose=Purpose.TOKEN,
                                archive=False, meta=meta)]
        if source == "backend":
            if not (creds.get("cookie") and creds.get("token")):
                raise HarvestError("the WeChat backend source needs the mp.weixin.qq.com cookie "
                                   "and token in the credentials file")
            return [self.backend_list_request(account_id, str(creds["cookie"]),
                                              str(creds["token"]), fakeid=creds.get("fakeid"))]
        if source == "feed":
            feed_url = creds.get("feed_url") or creds.get("url")
            if not feed_url:
                raise HarvestError("the feed source needs the feed's address (feed_url)")
            return [RequestSpec(url=str(feed_url), purpose=Purpose.LIST,
                                headers={"User-Agent": BROWSER_AGENT}, meta=meta)]
        if source == "urls":
            urls = creds.get("urls") or []
            if isinstance(urls, str):  # one address, or several separated by white space
                urls = urls.split()
            if not urls:
                raise HarvestError("the urls source needs a list of article URLs")
            return [self.article_request(str(u), account_id) for u in urls]
        raise HarvestError(f"{source!r} is not a WeChat listing source; use one of "
                           + ", ".join(SOURCES))

    def backend_list_request(self, account_id: str, cookie: str, token: str, *, begin: int = 0,
                             fakeid: str | None = None) -> RequestSpec:
        common = {"begin": begin, "count": BACKEND_PAGE, "query": "",
                  "fakeid": fakeid or account_id, "token": token, "lang": "zh_CN", "f": "json",
                  "ajax": 1}
        if self.backend_list == "appmsgpublish":
            query = {"sub": "list", "search_field": "null", **common, "type": "101_1",
                     "free_publish_type": 1, "sub_action": "list_ex"}
            url = f"{BACKEND}/cgi-bin/appmsgpublish?" + urlencode(query)
        else:
            query = {"action": "list_ex", **common, "type": 9}
            url = f"{BACKEND}/cgi-bin/appmsg?" + urlencode(query)
        headers = {"Cookie": cookie, "User-Agent": BROWSER_AGENT,
                   "Referer": f"{BACKEND}/cgi-bin/appmsg?t=media/appmsg_edit_v2&action=edit"
                              f"&isNew=1&type=77&token={token}&lang=zh_CN",
                   "X-Requested-With": "XMLHttpRequest"}
        return RequestSpec(url=url, purpose=Purpose.LIST, headers=headers,
                           meta={"platform": "wechat", "account_id": account_id,
                                 "source": "backend", "begin": begin})

    def api_list_request(self, account_id: str, access_token: str, offset: int = 0
                         ) -> RequestSpec:
        body = json.dumps({"offset": offset, "count": API_PAGE, "no_content": 0}).encode()
        return RequestSpec(
            url=f"{API}/cgi-bin/freepublish/batchget?" + urlencode({"access_token": access_token}),
            purpose=Purpose.LIST, method="POST", body=body,
            headers={"Content-Type": "application/json"},
            meta={"platform": "wechat", "account_id": account_id, "source": "api",
                  "offset": offset})

    def article_request(self, url: str, account_id: str = "", listing: Post | None = None,
                        purpose: Purpose = Purpose.ARTICLE) -> RequestSpec:
        meta: dict[str, Any] = {"platform": "wechat", "account_id": account_id}
        if listing is not None:
            meta["listing"] = listing.to_json()
        return RequestSpec(url=canonical_link(url), purpose=purpose,
                           headers={"User-Agent": BROWSER_AGENT}, meta=meta)

    def recheck_request(self, post: Post) -> RequestSpec:
        """Fetch the article page again, to see whether it was deleted or blocked since."""
        return self.article_request(post.url, post.account_id, purpose=Purpose.RECHECK)

    def media_requests(self, post: Post) -> list[RequestSpec]:
        return [RequestSpec(url=m.url, purpose=Purpose.MEDIA, headers={"User-Agent": BROWSER_AGENT},
                            meta={"platform": "wechat", "account_id": post.account_id,
                                  "post_id": post.post_id, "kind": m.kind, "media_id": m.id})
                for m in post.media if m.kind != "embed"]

    def request_for_url(self, url: str = "", **meta: Any) -> RequestSpec:
        """A request standing for a saved answer of ``url`` (for parsing captures by hand)."""
        purpose = Purpose.ARTICLE if "/s?" in url or "/s/" in url else Purpose.LIST
        if "/cgi-bin/token" in url:
            purpose = Purpose.TOKEN
        return RequestSpec(url=url, purpose=purpose, meta={"platform": "wechat", **meta})

    # -- parsing --------------------------------------------------------------------------

    def parse(self, request: RequestSpec, status: int, headers: Mapping[str, str], body: bytes,
              captured_at: dt.datetime) -> ParseResult:
        if status in (429, 503) and request.purpose != Purpose.MEDIA:
            return ParseResult(problem=RateLimited(f"WeChat answered HTTP {status}",
                                                   url=request.url))
        if request.purpose == Purpose.MEDIA:
            if status >= 400:
                return ParseResult(problem=PlatformError(f"the media file answered HTTP {status}",
                                                         url=request.url))
            return ParseResult()
        if status >= 400:
            return ParseResult(problem=PlatformError(f"WeChat answered HTTP {status}",
                                                     url=request.url))
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if text.startswith(("{", "[")):
            return self._parse_json(request, text, captured_at)
        if text.startswith("<?xml") or text[:300].lstrip().startswith(("<rss", "<feed")):
            account_id = str(request.meta.get("account_id") or "")
            return self._listed(request, feed_posts(body, account_id, captured_at), None, True)
        if is_article_page(Selector(text=text)):
            return self._article(request, text, captured_at)
        refuse_unsupported(text, request.url)
        raise HarvestError(f"the answer{_at(request)} is neither a WeChat article page nor a "
                           "listing weidang reads (API, backend, feed)")

    def _article(self, request: RequestSpec, text: str, captured_at: dt.datetime) -> ParseResult:
        listing = request.meta.get("listing")
        post, problem = parse_article(text, request.url, captured_at,
                                      Post.from_json(listing) if listing else None)
        if post is None and problem is None:
            return ParseResult(problem=Unavailable(
                "WeChat shows a message page instead of the article", url=request.url,
                status="unavailable"))
        result = ParseResult(posts=[post] if post else [], problem=problem)
        if post is not None and problem is None and self.follow_media:
            result.follow_up_requests += self.media_requests(post)
        return result

    def _parse_json(self, request: RequestSpec, text: str, captured_at: dt.datetime
                    ) -> ParseResult:
        refuse_unsupported(text, request.url)
        try:
            data = json.loads(text)
        except ValueError:
            data = _json_lines(text, request)
        account_id = str(request.meta.get("account_id") or query_param(request.url, "fakeid"))
        if isinstance(data, list):
            items = [d for d in data if isinstance(d, dict)]
            if not items or not all("aid" in d or "appmsgid" in d for d in items):
                raise HarvestError(f"the JSON lines{_at(request)} are not app_msg_list items")
            errors: list[str] = []
            posts = app_msg_posts(items, account_id, captured_at, errors)
            result = self._listed(request, posts, None, True)
            result.item_errors = errors
            return result
        if not isinstance(data, dict):
            raise HarvestError(f"the WeChat answer{_at(request)} is JSON but not an object")
        errcode = data.get("errcode")
        if errcode not in (None, 0, "0"):
            kind, reason = API_ERRORS.get(int(errcode), (PlatformError, ""))
            reason = reason or f"the WeChat API answered error {errcode}"
            return ParseResult(problem=kind(with_said(reason, str(data.get("errmsg") or "")),
                                            url=request.url, advice=_login_advice(kind, API_LOGIN_ADVICE)))
        if "access_token" in data:
            token = str(data["access_token"])
            pages = [self.api_list_request(account_id, token)]
            if request.meta.get("resume_offset"):  # a backfill goes on from there too
                pages.append(self.api_list_request(account_id, token, int(request.meta["resume_offset"])))
                pages[-1].meta.update(chain="backfill", overlap=True)
            return ParseResult(next_requests=pages, secrets=[token])
        ret = (data.get("base_resp") or {}).get("ret")
        if ret not in (None, 0, "0"):
            kind, reason = BACKEND_ERRORS.get(int(ret), (PlatformError, ""))
            reason = reason or f"mp.weixin.qq.com answered ret {ret}"
            message = (data.get("base_resp") or {}).get("err_msg") or ""
            return ParseResult(problem=kind(with_said(reason, message), url=request.url,
                                            advice=_login_advice(kind, BACKEND_LOGIN_ADVICE)))
        return self._listing_page(request, data, account_id, captured_at)

    def _listing_page(self, request: RequestSpec, data: dict[str, Any], account_id: str,
                      captured_at: dt.datetime) -> ParseResult:
        """A page of a listing; each article read on its own (a bad one is an item error)."""
        errors: list[str] = []
        if "publish_page" in data:
            posts, total, ended = publish_page_posts(data, account_id, captured_at, errors)
            result = self._backend_page(request, posts, total, ended)
            result.reported_unit = "pushes"  # total_count counts pushes, not articles
        elif "app_msg_list" in data:
            items = data["app_msg_list"] or []
            posts = app_msg_posts(items, account_id, captured_at, errors)
            result = self._backend_page(request, posts, _int(data.get("app_msg_cnt")), not items)
        elif "item" in data and "total_count" in data:
            result = self._api_page(request, data, account_id, captured_at, errors)
            result.reported_unit = "pushes"  # freepublish items are pushes of 1-8 articles
        else:
            raise HarvestError(f"the WeChat answer{_at(request)} has none of the shapes weidang "
                               "reads (token, freepublish, appmsgpublish, app_msg_list)")
        result.item_errors = errors
        return result

    def _listed(self, request: RequestSpec, posts: list[Post], total: int | None,
                ended: bool) -> ParseResult:
        result = ParseResult(posts=posts, reported_total=total, end_of_listing=ended)
        for post in posts:
            if post.url:
                result.follow_up_requests.append(self.article_request(post.url, post.account_id,
                                                                      listing=post))
        return result

    def _backend_page(self, request: RequestSpec, posts: list[Post], total: int | None,
                      ended: bool) -> ParseResult:
        begin = int(request.meta.get("begin") or query_param(request.url, "begin") or 0)
        step = int(query_param(request.url, "count") or BACKEND_PAGE)
        ended = ended or (total is not None and begin + step >= total)
        result = self._listed(request, posts, total, ended)
        token = query_param(request.url, "token")
        if not ended and token:
            account_id = str(request.meta.get("account_id") or "")
            result.next_requests.append(self.backend_list_request(
                account_id, request.headers.get("Cookie", ""), token, begin=begin + step,
                fakeid=query_param(request.url, "fakeid") or None))
        return result

    def _api_page(self, request: RequestSpec, data: dict[str, Any], account_id: str,
                  captured_at: dt.datetime, errors: list[str]) -> ParseResult:
        posts = freepublish_posts(data, account_id, captured_at, errors)
        offset = int(request.meta.get("offset") or 0)
        count = int(data.get("item_count") or len(data.get("item") or []))
        total = _int(data.get("total_count"))
        ended = count == 0 or (total is not None and offset + count >= total)
        result = self._listed(request, posts, total, ended)
        token = query_param(request.url, "access_token")
        if not ended and token:
            result.next_requests.append(self.api_list_request(account_id, token, offset + count))
        return result


def _infer_source(creds: Mapping[str, Any]) -> str:
    if creds.get("appid"):
        return "api"
    if creds.get("cookie"):
        return "backend"
    if creds.get("feed_url"):
        return "feed"
    if creds.get("urls"):
        return "urls"
    raise HarvestError("the credentials say neither appid/secret, cookie/token, feed_url nor urls, "
                       "so weidang cannot tell how to list this WeChat account")


def _json_lines(text: str, request: RequestSpec) -> list[Any]:
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise HarvestError(f"the WeChat answer{_at(request)} is cut off or is not valid JSON"
                           ) from None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _at(request: RequestSpec) -> str:
    return f" from {request.url}" if request.url else ""


def _login_advice(kind: type[HarvestProblem], advice: str) -> str | None:
    """WeChat's own words for a refused login; other problems keep their kind's advice."""
    return advice if issubclass(kind, LoginExpired) else None
