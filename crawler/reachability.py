"""Requests that got no answer: why, in plain words, and when to stop asking.

A platform (or the proxy in front of it) that cannot be reached fails every request the same way:
the name does not resolve, the connection is refused, nothing answers in time, or the proxy
cannot open a tunnel. Retrying each request with backoff would then take minutes and end in a
list of Twisted exceptions. ``ReachabilityMiddleware`` notes when the platform last answered and,
once it has not answered for ``UNREACHABLE_GIVE_UP_SECONDS``, marks the harvest as given up
(``gave_up`` in the harvest's state, crawler.exchange): no retry follows and the download
handler sends nothing more. Neither a request's timeout nor a retry's backoff reaches past that
time (by more than ``SHORT_STEP``), so a harvest of a platform that never answers ends within
about the give-up time.
The state's ``no_answer`` keeps the cause of the last request that got no answer, in words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response
from twisted.internet import error as tx

from crawler.exchange import state_of
from warc_store.lines import DISK_FULL, is_disk_full

PLATFORM_NAMES = {"weibo": "Weibo", "wechat": "WeChat"}
_RESOLVE = (CannotResolveHostError, tx.DNSLookupError)
_REFUSED = (DownloadConnectionRefusedError, tx.ConnectionRefusedError)
_TIMEOUT = (DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError)
_DROPPED = (DownloadFailedError, ResponseDataLossError, tx.ConnectionDone, tx.ConnectionLost)
_NO_CONNECTION = (*_RESOLVE, *_REFUSED, *_TIMEOUT, TunnelError, tx.ConnectError)
GIVE_UP_AT = "give_up_at"  # request meta: when the harvest gives up unless something answers
FULL_TIMEOUT = "full_download_timeout"  # request meta: its timeout before any cap
SHORT_STEP = 1.0  # seconds: the least a request is given, however close the give-up time


def is_no_connection(exc: BaseException) -> bool:
    """The request never reached the platform: nothing from it will answer the next one either."""
    return isinstance(exc, _NO_CONNECTION)


def in_words(exc: BaseException, url: str, proxy: str = "", timeout: float = 0) -> str:
    """Why a request got no answer, for the archivist (never a Twisted exception's repr)."""
    host = urlsplit(url).hostname or url
    through = urlsplit(proxy).netloc or proxy
    if is_disk_full(exc):
        return f"{DISK_FULL}, so the answer could not be stored"
    if isinstance(exc, _RESOLVE):
        return (f"the name of the proxy {through} could not be found (DNS)" if through
                else f"the name {host} could not be found (DNS)")
    if isinstance(exc, _REFUSED):
        return (f"the proxy {through} refused the connection" if through
                else f"{host} refused the connection")
    if isinstance(exc, _TIMEOUT):
        within = f" within {timeout:g} second{'' if timeout == 1 else 's'}" if timeout else ""
        via = f" through the proxy {through}" if through else ""
        return f"{host} did not answer{via}{within} (timeout)"
    if isinstance(exc, TunnelError):
        return f"the proxy {through} could not open a connection to {host}"
    if isinstance(exc, tx.ConnectError):
        return f"no connection to {host} could be opened ({exc.__class__.__name__})"
    if isinstance(exc, _DROPPED):
        return f"the connection to {host} was dropped before the answer was complete"
    return f"{exc.__class__.__name__}: {exc}"


def unreachable_reason(platform: str, cause: str) -> str:
    return f"{PLATFORM_NAMES.get(platform, platform)} could not be reached: {cause}"


def unreachable_advice(cause: str, proxy: str, give_up_seconds: float) -> str:
    """What to do about a platform that did not answer, after the cause."""
    if proxy and "proxy" in cause:
        return (f"Check the proxy set in CRAWLER_PROXY ({proxy}): its address, and that it runs and "
                "can be reached from this machine; then harvest again (nothing is lost, the next "
                "harvest continues).")
    if "(DNS)" in cause:
        return ("Check this machine's network connection and DNS settings, then harvest again "
                "(nothing is lost, the next harvest continues).")
    return ("Check this machine's network connection; if it works, the platform may be down: "
            f"harvest again later (weidang stops trying after {give_up_seconds:g} seconds without "
            "an answer, CRAWLER_UNREACHABLE_GIVE_UP_SECONDS).")


class ReachabilityMiddleware:
    """Sits above Scrapy's retry middleware (its ``process_exception`` runs first)."""

    def __init__(self, crawler: Crawler, give_up_seconds: float) -> None:
        self.crawler = crawler
        self.give_up_seconds = give_up_seconds
        self.last_answer: datetime | None = None  # or, before any answer, the first request

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReachabilityMiddleware:
        return cls(crawler, crawler.settings.getfloat("UNREACHABLE_GIVE_UP_SECONDS", 60.0))

    def _now(self) -> datetime | None:
        state = state_of(self.crawler)
        return state.clock() if state is not None else None

    def seconds_left(self) -> float | None:
        """Seconds until the harvest gives up if nothing answers (None: no clock to tell)."""
        now = self._now()
        if now is None or self.last_answer is None:
            return None
        return self.give_up_seconds - (now - self.last_answer).total_seconds()

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.last_answer is None:
            self.last_answer = self._now()
        # A request must not outwait the give-up time: the timeout ends with it (one short
        # step past it at least, for the request to go out at all).
        left = self.seconds_left()
        timeout = float(request.meta.setdefault(FULL_TIMEOUT, request.meta.get("download_timeout") or 0))
        if left is not None:
            capped = max(left, SHORT_STEP)
            request.meta["download_timeout"] = min(timeout, capped) if timeout else capped

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        self.last_answer = self._now()
        return response

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> None:
        state = state_of(self.crawler)
        if state is None or not is_no_connection(exception):
            return None
        state.no_answer = in_words(exception, request.url, str(request.meta.get("proxy") or ""),
                                     float(request.meta.get("download_timeout") or 0))
        now = self._now()
        if now is not None and self.last_answer is not None and \
                (now - self.last_answer).total_seconds() >= self.give_up_seconds:
            state.gave_up = True
        if state.gave_up:
            request.meta["dont_retry"] = True  # the retry middleware lets it fail now
        elif self.last_answer is not None:  # a retry's backoff waits no longer (crawler.backoff)
            request.meta[GIVE_UP_AT] = self.last_answer + timedelta(seconds=self.give_up_seconds)
        return None
