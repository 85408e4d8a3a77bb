"""What passes between the harvest's spider and the middlewares, as two typed objects.

- ``Exchange``, one per request in ``request.meta[EXCHANGE]`` (read it with ``exchange_of``):
  the harvester's request with its purpose, the post whose follow-up it is, and what the
  middlewares learnt of its answer: the WARC records (crawler.recorder) and the parse
  (crawler.reading). Scrapy copies meta into a retry or a redirect, so the copies share the
  object, and the spider reads what the last answer left in it.
- ``HarvestState``, the spider's ``state`` (read it with ``state_of``): what the middlewares
  and the download handler may know of the harvest, and the one place where they record that
  it must ask nothing more (the platform refused it, or has not answered for too long).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from harvesters import HarvestError, HarvestProblem, ParseResult, Purpose, RequestSpec
from warc_store import CaptureWriter, ExchangeRecords

EXCHANGE = "weidang_exchange"  # the request meta key holding its Exchange


@dataclass
class Exchange:
    spec: RequestSpec
    post_key: str | None = None  # the post this request completes (long text, media, re-check)
    records: ExchangeRecords | None = None  # where its answer lies in the WARC store
    parsed: ParseResult | None = None  # its answer, read by the harvester
    parse_error: HarvestError | None = None  # or why the answer could not be read

    @property
    def purpose(self) -> Purpose:
        return self.spec.purpose


def exchange_of(message: Request | Response) -> Exchange | None:
    """The request's Exchange (a response's: its request's); None for a request weidang did not make."""
    value = message.meta.get(EXCHANGE)
    return value if isinstance(value, Exchange) else None


Reader = Callable[[RequestSpec, int, Mapping[str, str], bytes], ParseResult]


@dataclass
class HarvestState:
    clock: Callable[[], datetime]
    writer: CaptureWriter  # what the recording middleware writes into
    read: Reader  # the harvester's parse of an answer (status, headers, body) now
    refusal: HarvestProblem | None = None  # the platform refused the harvest (418, captcha, login)
    gave_up: bool = False  # the platform did not answer for UNREACHABLE_GIVE_UP_SECONDS
    no_answer: str = ""  # why the last request that got no answer got none, in words

    def refused(self, problem: HarvestProblem) -> None:
        """The platform refused the harvest: the first refusal is the one reported."""
        if self.refusal is None:
            self.refusal = problem

    @property
    def asks_nothing_more(self) -> bool:
        return self.refusal is not None or self.gave_up


def state_of(crawler: Crawler) -> HarvestState | None:
    """The harvest's state (None before its spider exists, or under another spider)."""
    state = getattr(crawler.spider, "state", None)
    return state if isinstance(state, HarvestState) else None
