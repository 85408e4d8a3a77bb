"""Retries wait longer each time: base, 2x base, 4x base ... before the request goes out again.

Scrapy's RetryMiddleware re-schedules a failed request at once; against a struggling server that
is hammering. This middleware sits just above it and delays a retried request before download.
"""

from __future__ import annotations

import asyncio

from scrapy import Request, Spider
from scrapy.crawler import Crawler


class BackoffMiddleware:
    def __init__(self, base: float) -> None:
        self.base = base

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        return cls(crawler.settings.getfloat("BACKOFF_BASE", 2.0))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        tries = int(request.meta.get("retry_times", 0))
        if tries and self.base > 0:
            await asyncio.sleep(min(self.base * 2 ** (tries - 1), 300))
        return None
