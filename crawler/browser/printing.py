"""Printing an HTML page of weidang's own to PDF with the same Chromium browser capture uses.

For documents weidang makes (the 移交登记表 of a transfer package), not for captures: the page is
given as text and never loads anything from outside (Chromium runs with the quiet flags and the
page's own network requests are refused), so the PDF shows exactly the HTML, with
fonts-noto-cjk drawing the Chinese.
"""

from __future__ import annotations

from typing import Any

from crawler.browser.pool import QUIET_FLAGS, BrowserUnavailable, find_chromium


def html_to_pdf(html: str, executable: str = "", timeout_seconds: float = 120.0) -> bytes:
    """The page printed on A4 (backgrounds kept); BrowserUnavailable when Chromium cannot run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable("cannot print the PDF: the Python package playwright is not "
                                 "installed (pip install playwright)") from exc
    path = find_chromium(executable)
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=path, headless=True, args=list(QUIET_FLAGS))
        except Exception as exc:  # noqa: BLE001 - Playwright raises its own error types
            raise BrowserUnavailable(f"cannot print the PDF: Chromium ({path}) did not start: "
                                     f"{str(exc).splitlines()[0]}") from exc
        try:
            page = browser.new_page()
            page.route("**/*", _refuse)  # set_content needs no request; anything else is refused
            page.set_content(html, wait_until="load", timeout=timeout_seconds * 1000)
            return bytes(page.pdf(format="A4", print_background=True,
                                  margin={"top": "15mm", "bottom": "15mm", "left": "12mm",
                                          "right": "12mm"}))
        finally:
            browser.close()


def _refuse(route: Any) -> None:
    route.abort()
