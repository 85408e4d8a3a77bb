"""Signals of the crawler, as documented sentinels (Scrapy's own pattern).

- ``warc_exchange_written(request, response, records)``: an exchange went into the WARC store;
  ``records`` is a ``warc_store.ExchangeRecords`` (the harvest's progress bar listens to it).
"""

warc_exchange_written = object()
