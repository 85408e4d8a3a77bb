"""The harvest's browser stage: each new post or new version rendered in Chromium, into the same WARC.

Why after the crawl, in the same process: a collection's WARC file has one writer, and during
the crawl that writer belongs to Scrapy's reactor thread. Playwright's sync API cannot run inside
the reactor's asyncio loop, and a browser in a thread of its own would have its recording proxy
write while the crawl writes. So the capture book holds back the metadata records of the posts
to render (``CaptureBook.render``); once the reactor has stopped, this stage renders them one
after another. While a page is rendered nothing else writes: the recording proxy's threads write
its exchanges one at a time (under the capture's lock), then the screenshot, DOM and PDF, then the
post's metadata record, linking them all, is written by the book.

A stop (SIGTERM, Ctrl-C) during this stage lets the page in progress end (within its budget), and
writes the remaining posts' records without a rendering.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

from catalog.metadata import BrowserLinks
from crawler.browser import BrowserCapture, BrowserResult, BrowserSettings
from crawler.job import HarvestJob, HarvestSummary
from crawler.stopping import STOP_SIGNALS
from harvesters import Post
from warc_store import CaptureWriter

OFF_FOR_ACCOUNT = "Browser capture is off for this account (its browser field)."
STOPPED = ("The harvest was stopped during its browser stage; the posts not rendered by then are "
           "kept without their pages.")


def page_url(post: Post) -> str:
    """The page a reader opens: a WeChat article's own address; a Weibo post's mobile page
    (``weibo.com/UID/BID`` asks for a login; ``m.weibo.cn/detail/ID`` shows the post to anyone)."""
    if post.platform == "weibo" and post.post_id.isdigit():
        return f"https://m.weibo.cn/detail/{post.post_id}"
    return post.url or ""


class BrowserStage:
    """One Chromium for the whole process (started at the first page), shared by its harvests."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._capture: BrowserCapture | None = None
        self.stopping = False

    @property
    def capture(self) -> BrowserCapture:
        if self._capture is None:
            self._capture = BrowserCapture(self.settings)
        return self._capture

    def note(self, job: HarvestJob) -> str:
        """One sentence when this job's pages will not be rendered (off, or no Chromium)."""
        if not job.browser:
            return OFF_FOR_ACCOUNT
        return self.capture.unavailable

    def run(self, job: HarvestJob, held: list[Post], writer: CaptureWriter,
            summary: HarvestSummary) -> Callable[[Post], BrowserLinks | None] | None:
        """What renders ``job``'s held posts (None: they are written without), noting why not."""
        summary.browser_note = self.note(job)
        if summary.browser_note or not held:
            return None

        def render(post: Post) -> BrowserLinks | None:
            if self.stopping:
                summary.browser_note = STOPPED
                return None
            url = page_url(post)
            result = self.capture.capture_post(url, f"{post.platform}:{post.post_id}", writer)
            if result.skipped:  # Chromium could not start: said once, nothing written
                summary.browser_note = result.skipped
                return None
            return _count(result, summary)

        return render

    @contextlib.contextmanager
    def stoppable(self) -> Iterator[None]:
        """A stop signal ends the stage after the page in progress (see the module docstring)."""
        def on_signal(_signum: int, _frame: Any) -> None:
            self.stopping = True  # only a flag: a signal handler must not write

        previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def close(self) -> None:
        capture, self._capture = self._capture, None
        # Ctrl-C reaches Chromium and Playwright's driver too (one process group): closing what
        # is already gone must not cost the harvest its summary
        with contextlib.suppress(Exception):
            if capture is not None:
                capture.close()

    @property
    def peak_memory(self) -> int:
        pool = self._capture.pool if self._capture is not None else None
        return pool.peak_memory if pool is not None else 0


def _count(result: BrowserResult, summary: HarvestSummary) -> BrowserLinks:
    """The summary's browser counts, and the links for the post's metadata record."""
    if result.page_response_id is None:
        summary.browser_failed += 1
    else:
        summary.browser_pages += 1
    summary.browser_exchanges += len(result.exchanges)
    summary.browser_bytes += result.payload_bytes
    summary.browser_problems += result.errors
    return BrowserLinks(url=result.url, page_record_id=result.page_response_id,
                        screenshot_record_id=result.screenshot_id, dom_record_id=result.dom_id,
                        pdf_record_id=result.pdf_id, exchanges=len(result.exchanges),
                        images_total=result.images_total, images_loaded=result.images_loaded,
                        problems=tuple(result.errors))
