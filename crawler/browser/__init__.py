"""Browser capture: Chromium renders a post's page through weidang's recording proxy.

See ``capture`` for the entry point (``BrowserCapture.capture_post``), ``pool`` for the browser
and its limits, ``proxy`` for how the browser's exchanges reach the WARC.
"""

from crawler.browser.capture import BrowserCapture, BrowserResult
from crawler.browser.pool import BrowserSettings, BrowserUnavailable, find_chromium

__all__ = ["BrowserCapture", "BrowserResult", "BrowserSettings", "BrowserUnavailable",
           "find_chromium"]
