"""The downloader middleware that records every exchange into the WARC store.

It sits at 950, above HttpCompressionMiddleware (590): ``process_response`` runs from the highest
number down, so it sees the body exactly as it arrived (still gzip-encoded if it came so), and
every response, including the 5xx ones a retry will follow and the redirects. A request with
``meta["dont_archive"]`` (token exchanges, logins) is never recorded. A payload already stored, of
whatever purpose, becomes a revisit (identical-payload-digest, WARC-Refers-To the original): an
unchanged re-harvest then stores headers, not the same article pages and pictures again. An
empty body is not deduplicated: there is nothing to save, and a revisit of an empty 404 would
point at an unrelated answer. The record ids go into the request's Exchange for the spider.
The writer is the one in the harvest's state (crawler.exchange; settings are deep-copied by
Scrapy, so an open file cannot go there).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from crawler import signals
from crawler.download_handler import reason_of
from crawler.exchange import exchange_of, state_of
from warc_store import CaptureWriter, HttpRequest, HttpResponse


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Every header line, repeated names (two Set-Cookie) kept, bytes decoded losslessly."""
    out = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class WarcRecorderMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        if not crawler.settings.getbool("WARC_RECORDER_ENABLED", True):
            raise NotConfigured("WARC recording is switched off")
        return cls(crawler)

    @property
    def writer(self) -> CaptureWriter:
        state = state_of(self.crawler)
        if state is None:
            raise NotConfigured("the spider has no harvest state with a WARC writer to record into")
        return state.writer

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        if request.meta.get("dont_archive"):
            return response
        req_headers = header_pairs(request.headers)
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", urlsplit(request.url).netloc))
        body = request.body or b""
        exchange = exchange_of(request)
        records = self.writer.write_exchange(
            HttpRequest(request.method, request.url, req_headers, body),
            HttpResponse(response.status, reason_of(response), header_pairs(response.headers),
                         response.body, protocol=response.protocol or "HTTP/1.1"),
            dedup=bool(response.body),
        )
        if exchange is not None:
            exchange.records = records
        stats: Any = self.crawler.stats
        if stats is not None:
            stats.inc_value("warc/exchanges")
            stats.inc_value("warc/payload_bytes", len(response.body))
            if records.revisit_of:
                stats.inc_value("warc/revisits")
        self.crawler.signals.send_catch_log(signals.warc_exchange_written, request=request,
                                            response=response, records=records)
        return response
