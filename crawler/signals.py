"""Signals of the crawler, as documented sentinels (Scrapy's own pattern).

- ``warc_exchange_written(request, response, records)``: an exchange went into the WARC store;
  ``records`` is a ``warc_store.ExchangeRecords``.
- ``post_captured(post, outcome, version, metadata_record_id)``: a post version was recorded.
- ``post_status_changed(platform, post_id, status, reason)``: a post was found deleted/blocked.
- ``harvest_stopped(reason, advice)``: the platform refused us (rate limit, captcha, login).
"""

warc_exchange_written = object()
post_captured = object()
post_status_changed = object()
harvest_stopped = object()
