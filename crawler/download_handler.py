"""An HTTP/1.1 download handler that keeps what Scrapy drops and an archive needs: the reason phrase.

Scrapy's handler builds its Response without the status line's reason phrase. This one keeps
it in the response's flags (``reason:<phrase>``), where the WARC-recording middleware reads it.
What still differs from the wire, and is documented in README.md: header names arrive
title-cased (Twisted canonicalises them), chunked bodies arrive de-chunked, and header order
within one name is kept but not across names. The classes used are private to Scrapy, so the
Scrapy version is pinned to a minor release in pyproject.toml and a test checks the phrase.

When the harvest is told to stop, downloads in flight are cancelled and none is started, so a
slow answer (up to the download timeout) does not hold the stop back.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers import http11
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from crawler.exchange import state_of
from crawler.stopping import HarvestStopped, on_stopping

REASON_FLAG = "reason:"


class _ReasonKeepingAgent(http11._ScrapyAgent):
    def _cb_bodydone(self, result: Any, url: str) -> Response:
        response = super()._cb_bodydone(result, url)
        phrase = result["txresponse"].phrase
        if isinstance(phrase, bytes):
            phrase = phrase.decode("latin-1")
        response.flags.append(REASON_FLAG + (phrase or ""))
        return response


class ArchivingDownloadHandler(http11.HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with the reason-keeping agent."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._stopping = False
        self._in_flight: set[Deferred[Response]] = set()
        on_stopping(crawler, self._stop)

    def _stop(self) -> None:
        self._stopping = True
        for download in list(self._in_flight):
            download.cancel()

    async def download_request(self, request: Request) -> Response:
        if self._stopping:
            raise HarvestStopped()
        state = state_of(self._crawler)
        if state is not None and state.refusal is not None:
            # Requests already queued in the downloader would still go out after a 418 or a
            # captcha: the platform refused us, so nothing more is asked of it.
            raise IgnoreRequest("the platform refused the harvest; nothing more is requested")
        if state is not None and state.gave_up:  # the platform has not answered for too long
            raise IgnoreRequest("the platform could not be reached; nothing more is requested")
        agent = _ReasonKeepingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        download = agent.download_request(request)
        self._in_flight.add(download)
        try:
            with http11.wrap_twisted_exceptions():
                return await maybe_deferred_to_future(download)
        except Exception:
            if self._stopping:  # cancelled by the stop: not the platform's failure
                raise HarvestStopped() from None
            raise
        finally:
            self._in_flight.discard(download)


def reason_of(response: Response) -> str:
    for flag in response.flags:
        if flag.startswith(REASON_FLAG):
            return flag[len(REASON_FLAG):]
    return ""
