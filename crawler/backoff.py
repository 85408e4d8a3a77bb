"""Retries wait longer each time: base, 2x base, 4x base ... before the request goes out again.

Scrapy's RetryMiddleware re-schedules a failed request at once; against a struggling server that
is hammering. This middleware sits just above it and delays a retried request before download.
When the harvest is told to stop, a waiting retry gives up at once, and no request goes out. A
wait ends by the time the harvest gives up on a platform that does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler

from crawler.exchange import state_of
from crawler.reachability import GIVE_UP_AT
from crawler.stopping import HarvestStopped, on_stopping


class BackoffMiddleware:
    def __init__(self, base: float, clock: Callable[[], datetime | None] = lambda: None) -> None:
        self.base = base
        self.clock = clock
        self.stopping = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        def now() -> datetime | None:
            state = state_of(crawler)
            return state.clock() if state is not None else None

        middleware = cls(crawler.settings.getfloat("BACKOFF_BASE", 2.0), now)
        on_stopping(crawler, middleware.stopping.set)
        return middleware

    def wait(self, request: Request) -> float:
        """This retry's wait: doubled each time, but never past the harvest's give-up time
        (crawler.reachability): a platform that does not answer is not waited for longer."""
        tries = int(request.meta.get("retry_times", 0))
        wait = min(self.base * 2 ** (tries - 1), 300) if tries and self.base > 0 else 0.0
        give_up_at, now = request.meta.get(GIVE_UP_AT), self.clock()
        if wait and give_up_at is not None and now is not None:
            wait = min(wait, max((give_up_at - now).total_seconds(), 0.0))
        return wait

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        wait = self.wait(request)
        if wait > 0 and not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):  # waited the whole backoff: not stopping
                await asyncio.wait_for(self.stopping.wait(), wait)
        if self.stopping.is_set():
            raise HarvestStopped()
        return None
