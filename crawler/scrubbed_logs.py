"""Every log record written during a harvest is scrubbed of secrets as it is made.

Scrapy and Twisted log requests by their address (``Gave up retrying <GET …?access_token=…>``),
spider errors with their traceback, and Twisted failures as text; whichever handler then shows
them (Scrapy's root handler, Python's last-resort handler on stderr, an embedding program's), it
must receive no token. Scrubbing at the record's making reaches every logger and every handler,
including the message's arguments and the exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def scrubbed_logs(scrub: Callable[[str], str]) -> Iterator[None]:
    """While inside, every LogRecord's message, traceback and stack pass through ``scrub``."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record, scrub)
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


def scrub_record(record: logging.LogRecord, scrub: Callable[[str], str]) -> None:
    """Format the record's message and exception now, scrubbed, so no handler formats the raw ones."""
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: the logging module reports it later
        return
    record.msg, record.args = scrub(message), None
    if record.exc_info:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
