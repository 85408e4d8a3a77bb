"""Stopping a harvest within seconds on SIGTERM or Ctrl-C, keeping everything it captured.

Scrapy's own graceful stop waits for every request in progress: one sleeping before a retry
(up to minutes with a long backoff), one whose answer is slow (up to the download timeout),
requests queued behind the per-host delay. The daemon's SIGTERM then took 20-40 s. Here:

- the first signal tells every crawler ``harvest_stopping``: retries waiting in the backoff give
  up and nothing new is downloaded, then Scrapy's graceful stop runs (the spider closes with
  reason "shutdown", so the run is recorded ``partial``);
- whatever is still in flight after ``grace`` seconds, or at a second signal, is abandoned: the
  reactor stops. The WARC writer writes synchronously, so every record already written is whole;
  the caller records the run as cut short (``spider_closed`` never came) and closes the file.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest

from crawler import signals

STOP_GRACE_SECONDS = 3.0  # what is in flight at a stop gets this long before it is abandoned
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class HarvestStopped(IgnoreRequest):
    """A request given up because the harvest is stopping (not an error of the platform's)."""

    def __init__(self) -> None:
        super().__init__("the harvest was stopping; the request was not sent")


def run_until_stopped(process: CrawlerProcess, grace: float = STOP_GRACE_SECONDS) -> None:
    """``process.start()``, stopping within about ``grace`` seconds of SIGTERM or SIGINT."""
    from twisted.internet import reactor as installed  # noqa: PLC0415 - the one Scrapy installed

    reactor: Any = installed
    signalled: list[int] = []

    def force() -> None:
        with contextlib.suppress(RuntimeError):  # already stopped or stopping
            reactor.stop()

    def begin() -> None:
        for crawler in list(process.crawlers):
            crawler.signals.send_catch_log(signal=signals.harvest_stopping)
        process.stop()
        reactor.callLater(grace, force)

    def on_signal(signum: int, _frame: Any) -> None:
        # Only hand the work to the reactor here: a signal handler must not log or write.
        signalled.append(signum)
        reactor.callFromThread(begin if len(signalled) == 1 else force)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        process.start(install_signal_handlers=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def on_stopping(crawler: Any, handler: Callable[[], None]) -> None:
    """Call ``handler`` when the harvest is told to stop (for middlewares and handlers)."""
    crawler.signals.connect(lambda **_: handler(), signal=signals.harvest_stopping, weak=False)
