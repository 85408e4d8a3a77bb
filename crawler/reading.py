"""Read each answer as soon as it leaves the downloader, so a refusal stops the harvest at once.

A rate limit (Weibo's 418 or ``ok: -100``, WeChat's ``ret`` 200013) must stop every request
still queued in the downloader, not only those the spider has not yielded yet. This middleware
sits at the very end of ``process_response`` (priority 10: after decompression and retries),
parses the answer with the harvester, keeps the result in the request's Exchange for the spider
(the answer is parsed once), and on a refusal records it in the harvest's state, so that the
download handler sends nothing more (crawler.exchange).
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.exchange import exchange_of, state_of
from harvesters import CaptchaRequired, HarvestError, LoginExpired, Purpose, RateLimited

STOPPING = (RateLimited, CaptchaRequired, LoginExpired)


class ReadingMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReadingMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        exchange, state = exchange_of(request), state_of(self.crawler)
        if exchange is None or state is None or exchange.purpose is Purpose.MEDIA:
            return response
        try:
            exchange.parsed = state.read(exchange.spec, response.status, response_headers(response),
                                         response.body)
        except HarvestError as exc:
            exchange.parse_error = exc
            return response
        if isinstance(exchange.parsed.problem, STOPPING):
            state.refused(exchange.parsed.problem)
        return response


def response_headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): (response.headers.get(k) or b"").decode("latin-1")
            for k in response.headers.keys()}
