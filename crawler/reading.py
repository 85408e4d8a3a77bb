"""Read each answer as soon as it leaves the downloader, so a refusal stops the harvest at once.

A rate limit (Weibo's 418 or ``ok: -100``, WeChat's ``ret`` 200013) must stop every request
still queued in the downloader, not only those the spider has not yielded yet. This middleware
sits at the very end of ``process_response`` (priority 10: after decompression and retries),
parses the answer with the harvester, keeps the result in ``meta["parsed"]`` for the spider
(the answer is parsed once), and on a refusal sets ``spider.stop`` so that the download handler
sends nothing more.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from harvesters import CaptchaRequired, HarvestError, LoginExpired, RateLimited

STOPPING = (RateLimited, CaptchaRequired, LoginExpired)


class ReadingMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReadingMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        spec = request.meta.get("spec")
        harvest: Any = self.crawler.spider  # the HarvestSpider: its harvester, clock and stop
        if spec is None or spec.purpose == "media" or harvest is None:
            return response
        try:
            result = harvest.harvester.parse(spec, response.status, response_headers(response),
                                             response.body, harvest.clock())
        except HarvestError as exc:
            request.meta["parse_error"] = exc
            return response
        request.meta["parsed"] = result
        if isinstance(result.problem, STOPPING) and getattr(harvest, "stop", None) is None:
            harvest.stop = result.problem
        return response


def response_headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): (response.headers.get(k) or b"").decode("latin-1")
            for k in response.headers.keys()}
