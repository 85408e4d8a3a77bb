"""Signals of the crawler, as documented sentinels (Scrapy's own pattern).

- ``warc_exchange_written(request, response, records)``: an exchange went into the WARC store;
  ``records`` is a ``warc_store.ExchangeRecords`` (the harvest's progress bar listens to it).
- ``harvest_stopping()``: SIGTERM or Ctrl-C; what waits (a retry's backoff, a queued download)
  gives up at once instead of holding the stop back (sent by crawler/stopping.py).
"""

warc_exchange_written = object()
harvest_stopping = object()
