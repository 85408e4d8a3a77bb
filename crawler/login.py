"""`weidang login`: one short-lived Chromium shows the platform's QR code, waits for the phone to
scan it, and hands the cookies (and token) to credentials.toml; and the cheap request that tells
whether a stored login still works.

The QR code is read from the page as the archivist would see it: a screenshot of the QR element
(saved as a PNG in the home) decoded by zxing-cpp, then drawn again as terminal text. A DOM
attribute or data URL would be simpler but the real pages serve the QR as an image from a URL
whose content only the image holds; the pixels are the one thing both pages promise to show.

No value of a cookie or token is printed, logged or put in an exception here: only their names.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.credential_writer import save_login
from catalog.login_status import LoginStatus, status_path, write_status
from catalog.secret_shapes import scrub_secrets
from crawler import plain_request
from crawler.errors import CrawlError
from harvesters.logins import LoginFlow, Verdict, login_flow

CHROMIUM = Path("/usr/bin/chromium")
POLL_MS = 1000  # how often the browser's cookies are looked at while the page waits for the scan


class LoginError(CrawlError):
    """The login could not be completed (no browser, no QR code, nobody scanned in time)."""


@dataclass(frozen=True)
class LoginOptions:
    credentials: Path  # HOME/credentials.toml
    qr_png: Path  # where the QR code is saved for the archivist
    proxy: str = ""
    proxy_ca: str = ""  # the CA of an intercepting proxy (the emulator's): TLS errors are allowed
    headed: bool = False
    wait_seconds: float = 300.0
    browser: Path = CHROMIUM


@dataclass(frozen=True)
class LoginResult:
    name: str
    platform: str
    cookie_names: tuple[str, ...]
    has_token: bool
    expires: datetime | None


QrShower = Callable[[Path, str | None], None]  # (PNG path, terminal text or None if unreadable)


def log_in(name: str, platform: str, options: LoginOptions, show_qr: QrShower) -> LoginResult:
    """Show the QR code, wait for the scan, store the login under ``name``."""
    flow = login_flow(platform)
    if not options.browser.exists():
        raise LoginError(f"{options.browser} is not installed; install it with "
                         "`apt-get install -y chromium fonts-noto-cjk`")
    from playwright.sync_api import Error as PlaywrightError  # noqa: PLC0415 - loaded for a login only
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**_launch_arguments(options))
            try:
                context = browser.new_context(ignore_https_errors=bool(options.proxy_ca),
                                              locale="zh-CN")
                page = context.new_page()
                page.goto(flow.login_url, wait_until="domcontentloaded")
                png = _qr_screenshot(page, flow)
                _save_private(options.qr_png, png)
                show_qr(options.qr_png, qr_text(png))
                cookies, token = _wait_for_login(context, page, flow, options.wait_seconds)
            finally:
                browser.close()
    except PlaywrightError as exc:
        # Playwright's messages name URLs and selectors; a URL after the login holds the token.
        first_line = scrub_secrets(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise LoginError(f"the browser could not complete the {platform} login ({first_line})") from None
    return _store(name, flow, cookies, token, options)


def _launch_arguments(options: LoginOptions) -> dict[str, Any]:
    arguments: dict[str, Any] = {"executable_path": str(options.browser), "headless": not options.headed,
                                 "args": ["--no-first-run", "--disable-gpu"]}
    if options.proxy:
        arguments["proxy"] = {"server": options.proxy}
    return arguments


def _qr_screenshot(page: Any, flow: LoginFlow) -> bytes:
    element = page.wait_for_selector(f"{flow.qr_selector}[src]", state="visible", timeout=30_000)
    # a screenshot of a half-loaded image would be a QR code nobody can scan
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=element, timeout=30_000)
    return bytes(element.screenshot(type="png"))


def qr_text(png: bytes) -> str | None:
    """The QR code in the PNG drawn as terminal text, or None when no QR code can be read in it."""
    import qrcode  # noqa: PLC0415
    import zxingcpp  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    with Image.open(io.BytesIO(png)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    texts = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode and b.text]
    if not texts:
        return None
    code = qrcode.QRCode(border=2)
    code.add_data(texts[0])
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def _wait_for_login(context: Any, page: Any, flow: LoginFlow,
                    wait_seconds: float) -> tuple[dict[str, Any], str]:
    """The site's cookies and the token once the login is done; the page runs meanwhile."""
    deadline = time.monotonic() + wait_seconds
    while True:
        cookies = {c["name"]: c for c in context.cookies() if _ours(flow, c)}
        url = page.url
        if flow.done({k: c["value"] for k, c in cookies.items()}, url):
            return cookies, flow.token(url)
        if time.monotonic() > deadline:
            raise LoginError(f"nobody scanned the {flow.platform} QR code within "
                             f"{wait_seconds:.0f} seconds; log in again")
        page.wait_for_timeout(POLL_MS)


def _ours(flow: LoginFlow, cookie: Mapping[str, Any]) -> bool:
    domain = str(cookie.get("domain", "")).lstrip(".")
    return cookie.get("name") not in flow.leave_cookies and any(
        domain == d or domain.endswith("." + d) for d in flow.cookie_domains)


def _store(name: str, flow: LoginFlow, cookies: dict[str, Any], token: str,
           options: LoginOptions) -> LoginResult:
    fields = {"cookie": "; ".join(f"{k}={c['value']}" for k, c in cookies.items())}
    if token:
        fields["token"] = token
    save_login(options.credentials, name, fields)
    expiry = cookies.get(flow.expiry_cookie, {}).get("expires", -1)
    expires = datetime.fromtimestamp(expiry, UTC) if expiry and expiry > 0 else None
    now = datetime.now(UTC).isoformat(timespec="seconds")
    write_status(status_path(options.credentials), name, LoginStatus(
        flow.platform, now, expires.isoformat(timespec="seconds") if expires else None, now))
    return LoginResult(name, flow.platform, tuple(cookies), bool(token), expires)


def _save_private(path: Path, data: bytes) -> None:
    # Whoever scans this QR code decides whose login the browser gets: the archivist's eyes only.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(data)


def check_login(platform: str, fields: Mapping[str, Any], proxy: str = "", proxy_ca: str = "",
                timeout: float = 20.0) -> Verdict:
    """Ask the platform whether the stored login still works ("unknown": it could not tell)."""
    flow = login_flow(platform)
    cookie, token = str(fields.get("cookie", "")), str(fields.get("token", ""))
    if not cookie or (flow.token_param and not token):
        return "expired"  # nothing there that could log in
    try:
        answer = plain_request.get(flow.check(token), {"Cookie": cookie}, proxy, proxy_ca, timeout)
    except (OSError, ValueError):
        return "unknown"  # the network, not the login
    return flow.verdict(answer.status, answer.location, answer.body)
