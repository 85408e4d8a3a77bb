"""Scrapy settings for a harvest, built from weidang's CRAWLER_* settings (passed in as values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS

from warc_store.redaction import DECODED_ENCODINGS

RECORDER = "crawler.recorder.WarcRecorderMiddleware"
BACKOFF = "crawler.backoff.BackoffMiddleware"
READING = "crawler.reading.ReadingMiddleware"
REACHABILITY = "crawler.reachability.ReachabilityMiddleware"
HANDLER = "crawler.download_handler.ArchivingDownloadHandler"


@dataclass(frozen=True)
class Politeness:
    delay: float = 2.0  # seconds between requests to one host
    concurrency_per_host: int = 2
    autothrottle: bool = True
    retries: int = 3
    backoff_base: float = 2.0  # seconds; doubled at every retry
    timeout: float = 60.0
    give_up: float = 60.0  # seconds without any answer after which a harvest stops retrying
    bind_address: str = ""  # the local address requests leave from (a worker's egress); "" = any
    user_agent: str = ("Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/124.0 Mobile Safari/537.36")


def scrapy_settings(politeness: Politeness, record: bool = True) -> dict[str, Any]:
    """``record=False`` only for measuring what recording costs: a harvest always records."""
    return {
        "BOT_NAME": "weidang",
        "LOG_LEVEL": "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": False,
        # Scrapy re-reads the callback's source on every answer to warn about `return` in a
        # generator (its cache misses bound methods): ~1 ms per answer, for a check of our own code.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "TELNETCONSOLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,  # the archive captures public government posts by mandate
        "COOKIES_ENABLED": True,
        "USER_AGENT": politeness.user_agent,
        # Ask only for the content codings redaction can see through (a secret inside a body
        # in any other coding would reach the WARC): Scrapy's own list may grow.
        "DEFAULT_REQUEST_HEADERS": {**DEFAULT_REQUEST_HEADERS,
                                    "Accept-Encoding": ", ".join(DECODED_ENCODINGS)},
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        # REACHABILITY above the retry middleware (550): it sees a failed request before a retry;
        # and above BACKOFF: it caps a request's timeout once its backoff wait is over.
        "DOWNLOADER_MIDDLEWARES": {RECORDER: 950, BACKOFF: 560, REACHABILITY: 565, READING: 10},
        "WARC_RECORDER_ENABLED": record,
        "DOWNLOAD_DELAY": politeness.delay,
        "RANDOMIZE_DOWNLOAD_DELAY": politeness.delay > 0,
        "CONCURRENT_REQUESTS": 16,
        # Scrapy starts this many tasks for every answer to pass on what the callback yields;
        # the spider yields only requests (it records posts itself), so one is enough, and
        # the default 100 cost more CPU than parsing the answer.
        "CONCURRENT_ITEMS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": politeness.concurrency_per_host,
        "AUTOTHROTTLE_ENABLED": politeness.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(politeness.delay, 0.01),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(politeness.concurrency_per_host),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": politeness.retries,
        # 418, 432 and 429 are the platform refusing us: never retried, the harvest stops instead.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
        "BACKOFF_BASE": politeness.backoff_base,
        "DOWNLOAD_TIMEOUT": politeness.timeout,
        "DOWNLOAD_BIND_ADDRESS": politeness.bind_address or None,
        "UNREACHABLE_GIVE_UP_SECONDS": politeness.give_up,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "REDIRECT_ENABLED": True,
        "HTTPERROR_ALLOW_ALL": True,
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
    }
