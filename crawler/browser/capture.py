"""Capture one post's page in Chromium: every exchange, a screenshot, the rendered DOM, a PDF.

The harvest calls, for each new post or new version of a post::

    capture = BrowserCapture(BrowserSettings(upstream_proxy=..., ...))
    result = capture.capture_post(url, post_key, writer)   # writer: the harvest's CaptureWriter
    ...
    capture.close()

``capture_post`` never raises for anything the page or the browser does: it returns a
``BrowserResult`` with the ids of the records written (``page_response_id``, ``screenshot_id``,
``dom_id``, ``pdf_id``, and ``exchanges``), how many pictures were on the page and how many
loaded, and ``errors`` in plain words. When browser capture is off or Chromium is missing,
``skipped`` says so in one sentence and nothing is written. The page gets the budget
``page_budget_seconds`` in all: past it, the page is abandoned (and its late answers are not
recorded) and the next one starts. Call it from one thread (Playwright's sync API), outside an
asyncio loop. While it runs, the recording proxy's threads write into ``writer`` (under a lock
of the capture's own): nothing else may write to the same writer meanwhile. The post's metadata
record should list the page response and the renditions (``rendition_ids``).

Pictures: ``images_total`` counts the page's ``<img>`` with a source (``src`` or ``data-src``),
``images_loaded`` those that loaded; fewer loaded is said in ``errors`` but the page is kept.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from crawler.browser.pool import BrowserPool, BrowserSettings, BrowserUnavailable
from crawler.browser.proxy import RecordingProxy, Upstream
from warc_store import CaptureWriter, ExchangeRecords, HttpRequest, HttpResponse

POST_HEADER = "WARC-Weidang-Post"
# Scrolls the page a screen at a time, so lazy loaders (data-src, loading="lazy") see every
# picture; two animation frames a step let IntersectionObserver and layout run in between.
SCROLL_JS = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  for (let y = 0, i = 0; i < 400; i++, y += window.innerHeight) {
    if (y >= document.documentElement.scrollHeight) break;
    window.scrollTo(0, y);
    await frame();
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await frame();
  window.scrollTo(0, 0);
}"""
# Pictures are the <img> with a source (empty ones are placeholders the platform never fills).
PICTURES_JS = """() => Array.from(document.images).filter(
  (i) => i.getAttribute("src") || i.dataset.src)"""
# A picture is pending while its lazy source is not in place yet (data-src, or a data: stand-in)
# or it is still loading.
PENDING_JS = f"""() => ({PICTURES_JS})().filter((i) => !i.complete
  || (i.dataset.src && (!i.getAttribute("src") || i.src.startsWith("data:")))).length"""
IMAGES_JS = f"""() => {{ const p = ({PICTURES_JS})();
  return [p.length, p.filter((i) => i.complete && i.naturalWidth > 0
    && !(i.dataset.src && i.src.startsWith("data:"))).length]; }}"""


@dataclass
class BrowserResult:
    """What one page capture wrote and saw; ``errors`` are sentences for the archivist."""

    url: str
    post_key: str
    page_response_id: str | None = None
    screenshot_id: str | None = None
    dom_id: str | None = None
    pdf_id: str | None = None
    exchanges: list[ExchangeRecords] = field(default_factory=list)
    images_total: int = 0
    images_loaded: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: str = ""
    seconds: float = 0.0
    payload_bytes: int = 0  # bodies of the exchanges as received, and of the renditions

    @property
    def ok(self) -> bool:
        return not self.skipped and not self.errors and self.page_response_id is not None

    @property
    def rendition_ids(self) -> list[str]:
        """Ids of the screenshot, DOM and PDF records written, for the post's metadata record."""
        return [i for i in (self.screenshot_id, self.dom_id, self.pdf_id) if i]


@dataclass
class _Recorded:
    url: str
    document: bool
    status: int
    records: ExchangeRecords
    size: int = 0


class BrowserCapture:
    """The harvest's entry point to browser capture (see the module docstring)."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self._pool: BrowserPool | None = None
        self.unavailable = "" if settings.enabled else \
            "Browser capture is off (CRAWLER_BROWSER_ENABLED is false)."
        if not self.unavailable:
            try:
                self._pool = BrowserPool(settings)
            except BrowserUnavailable as exc:
                self.unavailable = str(exc)

    @property
    def pool(self) -> BrowserPool | None:
        return self._pool

    def capture_post(self, url: str, post_key: str, writer: CaptureWriter, *,
                     budget_seconds: float | None = None) -> BrowserResult:
        """Render ``url`` and record it into ``writer``; ``budget_seconds`` (default: the
        page budget setting) bounds everything this page may take."""
        result = BrowserResult(url=url, post_key=post_key, skipped=self.unavailable)
        if self._pool is None:
            return result
        started = time.monotonic()
        budget = budget_seconds or self.settings.page_budget_seconds
        recorded: list[_Recorded] = []
        s = self.settings
        proxy = RecordingProxy(self._pool.identity, Upstream(s.upstream_proxy, s.upstream_ca_file, budget),
                               _recorder(writer, recorded, threading.Lock()), started + budget)
        try:
            page = self._render(proxy, url, result, started, budget)
        except BrowserUnavailable as exc:
            result.skipped = self.unavailable = str(exc)
            page = None
        finally:
            proxy.close()
        result.exchanges = [r.records for r in recorded]
        result.payload_bytes = sum(r.size for r in recorded)
        result.errors += proxy.failures
        if page is not None:
            self._write_renditions(writer, page, recorded, result)
        result.seconds = time.monotonic() - started
        return result

    def _render(self, proxy: RecordingProxy, url: str, result: BrowserResult,
                started: float, budget: float) -> _Rendered | None:
        """Loads and scrolls the page, then takes what the renditions need; None if it failed."""
        from playwright.sync_api import Error as PlaywrightError

        assert self._pool is not None
        context = self._pool.context(proxy.url)
        try:
            context.set_default_timeout(budget * 1000)
            return _load(context.new_page(), url, started + budget, result, self.settings.pdf)
        except PlaywrightError as exc:
            result.errors.append(_plain(exc, url, budget))
            return None
        finally:
            _close_quietly(context)
            self._pool.after_page()

    def _write_renditions(self, writer: CaptureWriter, page: _Rendered,
                          recorded: list[_Recorded], result: BrowserResult) -> None:
        response = _page_response(recorded, page.final_url)
        if response is None:
            result.errors.append(f"the page {result.url} has no recorded response to refer to")
            return
        result.page_response_id = response.records.response_id
        extra = {"WARC-Refers-To-Target-URI": response.records.url, POST_HEADER: result.post_key}
        for attr, kind, body, ctype in (
                ("screenshot_id", "screenshot", page.screenshot, "image/png"),
                ("dom_id", "dom", page.dom, "text/html; charset=utf-8"),
                ("pdf_id", "pdf", page.pdf, "application/pdf")):
            if body:
                written = writer.write_resource(f"urn:weidang:{kind}:{response.records.url}", body,
                                                ctype, refers_to=response.records.response_id,
                                                extra=extra)
                setattr(result, attr, written.record_id)
                result.payload_bytes += len(body)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


@dataclass
class _Rendered:
    final_url: str
    screenshot: bytes
    dom: bytes
    pdf: bytes


def _load(page: Any, url: str, deadline: float, result: BrowserResult,
          pdf: bool) -> _Rendered:
    in_flight = _InFlight(page)
    # scrolling starts once the document is parsed; the page's scripts go on loading meanwhile
    response = page.goto(url, wait_until="domcontentloaded", timeout=_left_ms(deadline))
    # a quarter of what is left stays for the renditions, even if some picture never loads
    _settle_pictures(page, deadline - (deadline - time.monotonic()) / 4)
    page.wait_for_load_state("load", timeout=_left_ms(deadline))
    # Network idle is 500 ms without a request. With nothing in flight now, nothing can still
    # change the page through the network, so the renditions need not wait for it: the wait
    # comes after them, overlapping them, so that a late call is still recorded.
    if in_flight.count:
        _network_idle(page, deadline)
    result.images_total, result.images_loaded = page.evaluate(IMAGES_JS)
    if result.images_loaded < result.images_total:
        result.errors.append(f"{result.images_total - result.images_loaded} of "
                             f"{result.images_total} pictures on {url} did not load")
    rendered = _Rendered(final_url=response.url if response is not None else url,
                         screenshot=page.screenshot(full_page=True, timeout=_left_ms(deadline)),
                         dom=page.content().encode("utf-8"),
                         pdf=page.pdf(print_background=True) if pdf else b"")
    _network_idle(page, deadline)
    return rendered


class _InFlight:
    """Requests the page sent that are not answered (or failed) yet, as Playwright reports them."""

    def __init__(self, page: Any) -> None:
        self.count = 0
        page.on("request", lambda _r: self._add(1))
        page.on("requestfinished", lambda _r: self._add(-1))
        page.on("requestfailed", lambda _r: self._add(-1))

    def _add(self, step: int) -> None:
        self.count = max(0, self.count + step)


def _network_idle(page: Any, deadline: float) -> None:
    try:
        page.wait_for_load_state("networkidle", timeout=min(_left_ms(deadline), 3000))
    except Exception:  # noqa: BLE001 - a page that keeps polling is still captured
        pass


def _settle_pictures(page: Any, until: float) -> None:
    """Scrolls through the page until no picture is pending, again while the page grows (a
    picture that loads pushes the next ones down, past where the last pass looked), until
    ``until``."""
    while True:
        page.evaluate(SCROLL_JS)
        try:
            page.wait_for_function(f"() => ({PENDING_JS})() === 0", polling=50,
                                   timeout=min(_left_ms(until), 5000))
            return
        except Exception:  # noqa: BLE001 - still pending: scroll again, or give up at ``until``
            if time.monotonic() >= until:
                return


def _left_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _recorder(writer: CaptureWriter, recorded: list[_Recorded], lock: threading.Lock) -> Any:
    def record(request: HttpRequest, response: HttpResponse, document: bool) -> None:
        # the page itself is stored whole even if unchanged: the renditions refer to it
        with lock:
            records = writer.write_exchange(request, response, dedup=not document)
            recorded.append(_Recorded(request.url, document, response.status, records,
                                      len(response.body)))
    return record


def _page_response(recorded: list[_Recorded], final_url: str) -> _Recorded | None:
    """The response the browser showed: the last one stored whole for the page's final address
    (after redirects), the document's own first; else the last document."""
    stored = [r for r in recorded if r.records.revisit_of is None]
    for group in ([r for r in stored if r.document], stored):
        for r in reversed(group):
            if r.url == final_url:
                return r
    documents = [r for r in stored if r.document]
    return documents[-1] if documents else None


def _plain(exc: Exception, url: str, budget: float) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Timeout" in type(exc).__name__ or "Timeout" in text:
        return f"the page {url} did not finish within {budget:g} seconds and was abandoned"
    if "closed" in text.lower() or "crash" in text.lower():
        return f"Chromium stopped while capturing {url} ({text}); it is restarted for the next page"
    return f"the browser could not capture {url}: {text}"


def _close_quietly(context: Any) -> None:
    try:
        context.close()
    except Exception:  # noqa: BLE001 - a context of a crashed browser is gone already
        pass
