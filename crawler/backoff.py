"""Retries wait longer each time: base, 2x base, 4x base ... before the request goes out again.

Scrapy's RetryMiddleware re-schedules a failed request at once; against a struggling server that
is hammering. This middleware sits just above it and delays a retried request before download.
When the harvest is told to stop, a waiting retry gives up at once, and no request goes out.
"""

from __future__ import annotations

import asyncio
import contextlib

from scrapy import Request, Spider
from scrapy.crawler import Crawler

from crawler.stopping import HarvestStopped, on_stopping


class BackoffMiddleware:
    def __init__(self, base: float) -> None:
        self.base = base
        self.stopping = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        middleware = cls(crawler.settings.getfloat("BACKOFF_BASE", 2.0))
        on_stopping(crawler, middleware.stopping.set)
        return middleware

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        tries = int(request.meta.get("retry_times", 0))
        if tries and self.base > 0 and not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):  # waited the whole backoff: not stopping
                await asyncio.wait_for(self.stopping.wait(), min(self.base * 2 ** (tries - 1), 300))
        if self.stopping.is_set():
            raise HarvestStopped()
        return None
