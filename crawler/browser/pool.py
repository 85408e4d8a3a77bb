"""The browser pool: one headless Chromium, started on first use and restarted when it must be.

Chromium is Debian's (``/usr/bin/chromium``, or ``CRAWLER_BROWSER_EXECUTABLE``), driven by
Playwright; Playwright's own browser download is never used. It is started with flags that keep
it from reaching out on its own, and trusts exactly the recording proxy's key. Each page gets a
fresh context (no cookies or cache shared between posts) whose proxy is that page's recording
proxy. The browser is restarted when it crashed, when its processes use more memory than the
cap, and after a number of pages (Chromium's memory creeps up over long runs).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.browser.keys import ProxyIdentity
from harvesters.dates import SHANGHAI

QUIET_FLAGS = ("--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-default-apps",
               "--disable-domain-reliability", "--metrics-recording-only",
               "--no-default-browser-check", "--disable-features=Translate,OptimizationHints")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


class BrowserUnavailable(Exception):
    """Browser capture cannot run here; the message says why in one sentence."""


@dataclass(frozen=True)
class BrowserSettings:
    """The ``CRAWLER_BROWSER_*`` settings, as plain values (see weidang/default_settings.py)."""

    enabled: bool = True
    executable: str = ""  # "" = the first of CANDIDATES on PATH
    page_budget_seconds: float = 60.0
    memory_cap_mb: int = 500
    restart_after_pages: int = 200
    viewport_width: int = 414
    viewport_height: int = 896
    upstream_proxy: str = ""  # CRAWLER_PROXY
    upstream_ca_file: str = ""  # CA bundle the platform's (or the emulator's) TLS is checked with
    pdf: bool = True
    user_agent: str = ""  # "" = Chromium's own

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> BrowserSettings:
        """From weidang's settings (``CRAWLER_BROWSER_*`` and ``CRAWLER_PROXY``), read by the face."""
        return cls(enabled=bool(values.get("CRAWLER_BROWSER_ENABLED", True)),
                   executable=str(values.get("CRAWLER_BROWSER_EXECUTABLE", "")),
                   page_budget_seconds=float(values.get("CRAWLER_BROWSER_PAGE_SECONDS", 60.0)),
                   memory_cap_mb=int(values.get("CRAWLER_BROWSER_MEMORY_CAP_MB", 500)),
                   restart_after_pages=int(values.get("CRAWLER_BROWSER_RESTART_PAGES", 200)),
                   upstream_proxy=str(values.get("CRAWLER_PROXY", "")),
                   upstream_ca_file=str(values.get("CRAWLER_BROWSER_CA_CERTS", "")),
                   pdf=bool(values.get("CRAWLER_BROWSER_PDF", True)),
                   user_agent=str(values.get("CRAWLER_BROWSER_USER_AGENT", "")))


def find_chromium(executable: str = "") -> str:
    """The Chromium to run, or BrowserUnavailable saying what is missing."""
    if executable:
        path = Path(executable)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        found = shutil.which(executable)
        if found:
            return found
        raise BrowserUnavailable(
            f"Browser capture is off: there is no Chromium at {executable} "
            "(CRAWLER_BROWSER_EXECUTABLE); install the chromium package or correct the setting.")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserUnavailable(
        "Browser capture is off: Chromium is not installed "
        "(apt-get install chromium fonts-noto-cjk).")


class BrowserPool:
    """Owns the Playwright driver and the Chromium process; used from one thread only."""

    def __init__(self, settings: BrowserSettings) -> None:
        self.settings = settings
        self.identity = ProxyIdentity()
        self.executable = find_chromium(settings.executable)
        self._playwright: Any = None
        self._browser: Any = None
        self.pages_since_start = 0
        self.restarts = 0
        self.peak_memory = 0

    def _launch(self) -> Any:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise BrowserUnavailable("Browser capture is off: the Python package playwright is "
                                     "not installed (pip install playwright).") from exc
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        args = [*QUIET_FLAGS, f"--ignore-certificate-errors-spki-list={self.identity.spki_hash}"]
        try:
            return self._playwright.chromium.launch(executable_path=self.executable,
                                                    headless=True, args=args)
        except Exception as exc:
            raise BrowserUnavailable(f"Browser capture is off: Chromium ({self.executable}) "
                                     f"did not start: {str(exc).splitlines()[0]}") from exc

    def context(self, proxy_url: str | None) -> Any:
        """A fresh browser context whose every request goes through ``proxy_url``; ``None``:
        straight out, which only replaying an archive on this machine may use (nothing is
        recorded then)."""
        if self._browser is None or not self._browser.is_connected():
            self._restart()
        try:
            return self._new_context(proxy_url)
        except Exception:  # noqa: BLE001 - Playwright learns of a crash only when it next asks
            self._restart()
            return self._new_context(proxy_url)

    def _restart(self) -> None:
        if self._browser is not None:
            self._close_browser()
            self.restarts += 1
        self._browser = self._launch()
        self.pages_since_start = 0

    def _new_context(self, proxy_url: str | None) -> Any:
        s = self.settings
        return self._browser.new_context(
            proxy={"server": proxy_url, "bypass": "<-loopback>"} if proxy_url else None,
            viewport={"width": s.viewport_width, "height": s.viewport_height},
            device_scale_factor=1, locale="zh-CN", timezone_id=str(SHANGHAI),
            service_workers="block", user_agent=s.user_agent or None)

    def after_page(self) -> None:
        """Counts the page; restarts Chromium if it grew over the memory cap or served enough."""
        self.pages_since_start += 1
        used = self.memory_bytes()
        self.peak_memory = max(self.peak_memory, used)
        over = used > self.settings.memory_cap_mb * 1024 * 1024
        if over or self.pages_since_start >= self.settings.restart_after_pages:
            self._close_browser()
            self.restarts += 1  # the next page launches a new one

    def memory_bytes(self) -> int:
        """Memory of this process's Chromium processes (PSS: shared pages counted once)."""
        return sum(_pss(pid) for pid in _descendants(os.getpid()) if _is_chromium(pid))

    def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close()
            except Exception:  # noqa: BLE001 - a crashed browser cannot close cleanly; it is gone
                pass

    def close(self) -> None:
        self._close_browser()
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        self.identity.close()


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(pid: int) -> list[int]:
    children, out, todo = _children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _is_chromium(pid: int) -> bool:
    try:
        return "chrom" in Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return False


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0
