"""The one spider: drives any harvester (platform knowledge) and feeds the capture book.

It knows nothing of a particular platform: the harvester turns an account into requests and
answers into posts; the spider turns those into Scrapy requests, follows pages (stopping an
incremental harvest at the first post the archive already holds, pinned posts aside), asks for
media only for new or edited posts, each media address once per harvest, and stops the whole
harvest when the platform refuses us. For an account with comments on, it asks the comments of
each new or edited post of the account, page after page up to the cap, and writes them to the
catalog linked to the answer's record (catalog.comments). Posts of earlier harvests are
re-checked once the listing is done, and only those it did not show: a post the listing showed
was just read, and asking its page again could show nothing more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import scrapy
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from catalog.comments import CommentCatalog
from catalog.posts import PostCatalog
from crawler.backfill import BackfillWalk
from crawler.book import CaptureBook
from crawler.exchange import EXCHANGE, Exchange, HarvestState, exchange_of
from crawler.job import HarvestJob, HarvestSummary
from crawler.media_once import MediaAnswer, MediaOnce
from crawler.outcome import Ending
from crawler.reachability import in_words, is_no_connection
from crawler.reading import STOPPING, response_headers
from crawler.stopping import HarvestStopped
from harvesters import (
    HarvestError,
    ParseResult,
    Post,
    Purpose,
    RequestSpec,
    Unavailable,
    make_harvester,
)
from warc_store.lines import is_disk_full


class HarvestSpider(scrapy.Spider):
    """Its ``state`` (crawler.exchange.HarvestState) is all the middlewares may see of it."""

    name = "weidang"

    def __init__(self, job: HarvestJob, book: CaptureBook, catalog: PostCatalog,
                 summary: HarvestSummary, clock: Callable[[], datetime],
                 recheck: list[Post] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.book = book
        self.catalog = catalog
        self.summary = summary
        self.clock = clock
        self.recheck = recheck or []
        self.due = {CaptureBook.key(p) for p in self.recheck}  # the posts to re-check, by key
        self.rechecks_asked = False  # asked when the spider first runs out of requests
        self.media = MediaOnce()
        # Media are asked for here, once a post is known to be new or edited.
        self.harvester = make_harvester(job.platform, job.source, follow_media=False)
        self.state = HarvestState(clock, book.writer, self._read)
        self.not_started = ""  # why the harvester could not ask for anything (no login, no URLs)
        self.disk_full = False  # an answer or a post could not be stored: the harvest stops
        self._keys: frozenset[str] | None = None  # the account's ids, as last read
        self.comments = CommentCatalog(catalog.db, catalog.collection)
        self.comments_read: dict[str, int] = {}  # post id -> comments read in this harvest
        self.backfill = BackfillWalk(job.max_pages, self.harvester.listing_cursor,
                                     frontier=job.cursor or None) if job.backfill else None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HarvestSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_spider_error, signal=scrapy_signals.spider_error)
        crawler.signals.connect(spider.on_idle, signal=scrapy_signals.spider_idle)
        return spider

    def ending(self, closed: str, give_up_seconds: float) -> Ending:
        """What the spider knew when it closed (``closed``: why Scrapy closed it)."""
        return Ending(closed=closed, not_started=self.not_started, no_answer=self.state.no_answer,
                      gave_up=self.state.gave_up, give_up_seconds=give_up_seconds,
                      posts_seen=self.book.posts_seen,
                      disk_full=self.disk_full or self.book.disk_full)

    def on_spider_error(self, failure: Failure, **_: Any) -> None:
        """A post that could not be recorded: on a full disk, nothing more can be, so stop."""
        if failure.value is not None and is_disk_full(failure.value) and not self.disk_full:
            self.disk_full = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk full"))

    async def start(self) -> AsyncIterator[Any]:
        resume = self.job.cursor if self.job.backfill == "resume" else None
        try:
            first = self.harvester.start_requests(self.job.account_id, self.job.credentials or None,
                                                  resume=resume)
        except HarvestError as exc:  # nothing can be asked: the harvest fails, saying why
            self.not_started = str(exc)
            return
        for spec in first:
            spec.meta.setdefault("chain", "backfill" if self.job.backfill == "start" else "top")
            yield self._request(spec)

    def on_idle(self) -> None:
        """The listing and everything it led to is done: re-check the earlier posts it did not
        show (deleted, blocked, or beyond the pages read), then let the spider close."""
        if self.rechecks_asked or self.state.asks_nothing_more or self.disk_full:
            return
        self.rechecks_asked = True
        asked = False
        for post in self.recheck:
            if self.book.seen(post):
                continue
            spec = self.harvester.recheck_request(post)
            spec.meta.setdefault("post_id", post.post_id)
            self.crawler.engine.crawl(self._request(spec, key=self.book.rechecking(post)))
            asked = True
        if asked:
            raise DontCloseSpider

    # -- requests ---------------------------------------------------------------------------
    def _request(self, spec: RequestSpec, key: str | None = None) -> scrapy.Request:
        self.summary.requests += 1
        meta: dict[str, Any] = {EXCHANGE: Exchange(spec, key), "dont_archive": not spec.archive,
                                "handle_httpstatus_all": True}
        if self.job.proxy:
            meta["proxy"] = self.job.proxy
        # Scrapy's cookie middleware replaces a Cookie header with its jar: hand the login to the jar.
        headers = {k: v for k, v in spec.headers.items() if k.lower() != "cookie"}
        cookies = _cookie_pairs(next((v for k, v in spec.headers.items() if k.lower() == "cookie"), ""))
        return scrapy.Request(spec.url, method=spec.method, headers=headers, body=spec.body or b"",
                              cookies=cookies, meta=meta, callback=self.on_response,
                              errback=self.on_error, dont_filter=True)

    # -- answers ----------------------------------------------------------------------------
    def _read(self, spec: RequestSpec, status: int, headers: Mapping[str, str],
              body: bytes) -> ParseResult:
        return self.harvester.parse(spec, status, headers, body, self.clock())

    def on_response(self, response: Response) -> Any:
        exchange = exchange_of(response)
        if exchange is None:  # not a request of this spider's: nothing to read in it
            return
        if exchange.purpose is Purpose.MEDIA:
            self._media_answered(exchange, MediaAnswer(
                exchange.records, ok=response.status < 400,
                error=f"{exchange.spec.url} answered HTTP {response.status}"))
            return
        result = self._result(exchange, response)
        if result is None:
            self.book.answered(exchange.post_key)
            return
        if not _valid_utf8(response):
            self.summary.errors.append(
                f"{exchange.spec.url} answered text that is not valid UTF-8; it was read leniently "
                "and is stored exactly as it arrived")
        if exchange.purpose is Purpose.COMMENTS:
            yield from self._comments_answered(exchange, result)
            return
        yield from self._handle(exchange, result)

    def _result(self, exchange: Exchange, response: Response) -> ParseResult | None:
        """The answer as the reading middleware read it (read here when that is off); None, the
        error counted, when it could not be read."""
        if exchange.parsed is None and exchange.parse_error is None:
            try:
                exchange.parsed = self._read(exchange.spec, response.status,
                                             response_headers(response), response.body)
            except HarvestError as exc:
                exchange.parse_error = exc
        if exchange.parse_error is not None or exchange.parsed is None:
            self.summary.errors.append(str(exchange.parse_error))
            return None
        return exchange.parsed

    def _handle(self, exchange: Exchange, result: ParseResult) -> Any:
        self._take_notice(result)
        purpose = exchange.purpose
        if purpose.is_page:
            self.summary.pages += 1
        if isinstance(result.problem, Unavailable):
            self._unavailable(exchange, result, result.problem)
            return
        self._note_errors(exchange, result)
        # Asked before this page's posts are recorded: does the page reach what the archive holds?
        reached_known = purpose.leads_on and self._reaches_the_archive(result)
        self.book.look_up(result.posts)  # what the catalog holds of them, asked once
        held = self._held_whole(result)
        follow_ups = [r for r in result.follow_up_requests if r.purpose is not Purpose.MEDIA
                      and not (r.purpose is Purpose.LONG_TEXT and _owner(r) in held)]
        if purpose.leads_on:
            # The next page first: its round trip overlaps the work on this page's posts.
            yield from self._following(exchange.spec, result, reached_known, follow_ups)
        yield from self._offer_posts(exchange, result, follow_ups, held)
        if purpose.completes_post:
            self.book.answered(exchange.post_key)
        for request in follow_ups:
            yield self._request(request, key=_owner(request))
        if purpose.is_page:
            self.book.page_done()

    def _take_notice(self, result: ParseResult) -> None:
        """What an answer tells the whole harvest: secrets, a refusal (the harvest stops), a total."""
        if result.secrets:  # learnt before any request carrying them is made, recorded or told
            self.state.writer.learn_secrets(result.secrets)
        if isinstance(result.problem, STOPPING):
            self.state.refused(result.problem)
            raise CloseSpider(f"stopped: {self.state.refusal}")
        if result.reported_total is not None:
            self.summary.reported_total = result.reported_total
            self.summary.reported_unit = result.reported_unit

    def _unavailable(self, exchange: Exchange, result: ParseResult, problem: Unavailable) -> None:
        shown = result.posts[0] if result.posts else None
        if not self.book.unavailable(exchange.post_key, shown, problem.status, problem.reason,
                                     exchange.records):
            # the account itself: the harvest's outcome must say what the platform showed
            self.summary.errors.append(str(problem))

    def _note_errors(self, exchange: Exchange, result: ParseResult) -> None:
        if result.problem is not None:
            self.summary.errors.append(str(result.problem))
        self.summary.errors += [_item_error(exchange.spec, exchange.records, e)
                                for e in result.item_errors]

    def _held_whole(self, result: ParseResult) -> set[str]:
        """The cut posts whose long text is not asked for again: the platform counts every edit
        and the archive holds them whole, unchanged by that count (``CaptureBook.held_whole``)."""
        if not self.harvester.counts_edits:
            return set()
        return {CaptureBook.key(p) for p in result.posts if self.book.held_whole(p)}

    def _offer_posts(self, exchange: Exchange, result: ParseResult, follow_up_requests: list[RequestSpec],
                     held: set[str]) -> Any:
        """Hand the answer's posts to the book; a post complete and new or edited gets its media
        asked for (one waiting for a follow-up, such as its long text, is decided later)."""
        follow_ups: dict[str, int] = {}
        for request in follow_up_requests:
            owner = _owner(request)
            if owner:
                follow_ups[owner] = follow_ups.get(owner, 0) + 1
        for post in result.posts:
            key = CaptureBook.key(post)
            changed = self.book.offer(post, exchange.records, exchange.purpose.role,
                                      follow_ups=follow_ups.get(key, 0), held_whole=key in held)
            if changed is None:
                continue
            yield from self._ask_comments(changed)
            media = self.harvester.media_requests(changed) if self.job.media else []
            self.book.expect_media(key, len(media))
            for m in media:
                if self.media.first(m.url, key):
                    yield self._request(m, key=key)
                elif (answer := self.media.known(m.url)) is not None:
                    self.book.media_done(key, answer.records, ok=answer.ok, error=answer.error)

    def _ask_comments(self, post: Post) -> Any:
        """The first comments page of a new or edited post of the account (comments on). Its
        post's record does not wait for it: comments are rows of their own, not the post's text.
        Re-checked posts are not asked: a re-check asks whether a post is still there, once
        per post and harvest, and its comments would cost as many requests again."""
        asks = getattr(self.harvester, "comments_request", None)
        if (not self.job.comments_max or asks is None or post.account_id != self.job.account_id
                or post.post_id in self.comments_read):
            return
        self.comments_read[post.post_id] = 0
        yield self._request(asks(post.post_id, cookie=str(self.job.credentials.get("cookie") or "")))

    def _comments_answered(self, exchange: Exchange, result: ParseResult) -> Any:
        """A comments page: its comments to the catalog, linked to the record holding the
        answer; the next page while the post has fewer than the cap."""
        if result.problem is not None:
            self._take_notice(result)  # a refusal stops the harvest, as on any answer
            self.summary.errors.append(str(result.problem))
            return
        post_id = str(exchange.spec.meta.get("post_id") or "")
        self.summary.comment_pages += 1
        records = exchange.records
        if records is not None and result.comments:
            self.summary.comments += self.comments.record(
                result.comments, records.revisit_of or records.response_id)
            if not self.comments_read.get(post_id):
                self.summary.posts_with_comments += 1
        self.comments_read[post_id] = self.comments_read.get(post_id, 0) + len(result.comments)
        if self.comments_read[post_id] < self.job.comments_max and result.comments:
            for request in result.next_requests:
                yield self._request(request)

    def _media_answered(self, exchange: Exchange, answer: MediaAnswer) -> None:
        """A media answer counts for every post of this harvest that showed its address."""
        for key in [exchange.post_key, *self.media.answered(exchange.spec.url, answer)]:
            self.book.media_done(key, answer.records, ok=answer.ok, error=answer.error)

    def _following(self, spec: RequestSpec, result: ParseResult, reached_known: bool,
                   follow_ups: list[RequestSpec]) -> Any:
        """The backfill walk's next pages within its budget (crawler.backfill); others as ever."""
        if self.backfill is not None and spec.meta.get("chain") == "backfill":
            return map(self._request, self.backfill.next_pages(spec, result))
        return self._next_pages(result, reached_known, follow_ups)

    def _next_pages(self, result: ParseResult, reached_known: bool, follow_ups: list[RequestSpec]) -> Any:
        if not result.next_requests:
            return
        if self.job.mode == "incremental" and reached_known and not self._reads_due_posts(result, follow_ups):
            return  # the rest is already in the archive
        if self.job.mode == "full" and self.summary.pages >= self.job.max_pages:
            self.summary.errors.append(f"stopped after {self.job.max_pages} pages (the page limit)")
            return
        for request in result.next_requests:
            yield self._request(request)

    def _reads_due_posts(self, result: ParseResult, follow_ups: list[RequestSpec]) -> bool:
        """Whether the listing, though it reached what the archive holds, goes on to the next page:
        while its pages re-check posts that are due, more than one each without a request of its
        own (a page costs one request; a re-check costs one per post), and some are still unseen.
        A WeChat listing re-checks nothing by itself (each article's page is asked for anyway);
        a Weibo timeline page shows its posts whole, long texts aside."""
        asking = {_owner(r) for r in follow_ups}
        shown = {CaptureBook.key(p) for p in result.posts}
        if len((shown & self.due) - asking) < 2:
            return False
        return any(CaptureBook.key(p) not in shown and not self.book.seen(p) for p in self.recheck)

    def _reaches_the_archive(self, result: ParseResult) -> bool:
        """Whether the answer shows a post (not pinned) an earlier, finished harvest of this
        account captured: only then is everything older held.

        A post captured as the original of another account's repost is known to the catalog, and
        so are the first pages of a harvest that was stopped (418, captcha) or killed, but the
        posts published before them were never listed; stopping there would lose them.
        """
        listed = [p for p in result.posts if not p.pinned]
        if not listed:
            return False
        shown = {f"{p.platform}:{p.account_id}" for p in listed}
        if self._keys is None or not shown <= self._keys:
            # the account's ids (a WeChat account's gh_ id and __biz are one), read again only
            # when a post shows one not among them: a harvest may link a new id, never drop one
            self._keys = self.catalog.account_keys(self.job.account)
        ours = [p for p in listed if f"{p.platform}:{p.account_id}" in self._keys]
        return bool(ours) and self.catalog.held_by_complete_run(
            ours[0].platform, [p.post_id for p in ours], self.job.account)

    def on_error(self, failure: Failure) -> None:
        if failure.check(HarvestStopped) or (
                self.state.asks_nothing_more and failure.check(IgnoreRequest)):
            return  # not sent: the harvest had stopped (SIGTERM, a refusal, or the platform unreachable)
        request = getattr(failure, "request", None)
        exchange = exchange_of(request) if request is not None else None
        error = failure.value or Exception(failure.getErrorMessage())
        if is_disk_full(error):  # the answer came but could not be stored: nor can the next
            self.disk_full = True
            raise CloseSpider("disk full")
        self.summary.errors.append(_failed(request, exchange, error))
        if exchange is None:
            return
        if exchange.purpose is Purpose.MEDIA:  # the error is already counted
            self._media_answered(exchange, MediaAnswer(None, ok=True))
        else:
            self.book.answered(exchange.post_key)


def _failed(request: scrapy.Request | None, exchange: Exchange | None, error: BaseException) -> str:
    """A request that got no answer, or failed: which, and why in words."""
    meta = request.meta if request is not None else {}
    url = exchange.spec.url if exchange is not None else "a request"
    why = in_words(error, url, str(meta.get("proxy") or ""), float(meta.get("download_timeout") or 0))
    got = "got no answer" if is_no_connection(error) else "failed"
    return f"{url} {got}: {why}"


def _owner(request: RequestSpec) -> str | None:
    """The post a follow-up request completes (long text, article page, media)."""
    post = request.meta.get("post") or request.meta.get("listing")
    if isinstance(post, dict) and post.get("post_id"):
        return f"{post.get('platform')}:{post['post_id']}"
    if request.meta.get("post_id") and request.meta.get("platform"):
        return f"{request.meta['platform']}:{request.meta['post_id']}"
    return None


def _item_error(spec: RequestSpec, records: Any, error: str) -> str:
    """A listing item that could not be read: where its answer lies, as stored (logins redacted)."""
    if records is None:
        return f"{spec.url}: {error}"
    return (f"{records.url}: {error}; the whole answer is kept in the WARC as record "
            f"{records.response_id}")


def _cookie_pairs(header: str) -> dict[str | bytes, str | bytes | bool | float | int]:
    pairs: dict[str | bytes, str | bytes | bool | float | int] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            pairs[name] = value
    return pairs


def _valid_utf8(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").lower()
    if not (b"json" in ctype or b"text" in ctype or b"xml" in ctype or b"javascript" in ctype):
        return True
    if b"charset" in ctype and b"utf-8" not in ctype and b"utf8" not in ctype:
        return True  # declared in another charset (GBK pages of older sites)
    try:
        response.body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
