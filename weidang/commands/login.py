"""`weidang login NAME weibo|wechat`: log in by scanning a QR code; the login goes into
credentials.toml under NAME, never onto the screen."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from weidang.context import AppContext, pass_app
from weidang.home import Home
from weidang.i18n import _, china_time
from weidang.settings import Settings

if TYPE_CHECKING:
    from crawler.login import LoginOptions, LoginResult

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@click.command("login")
@click.argument("name")
@click.argument("platform", type=click.Choice(["weibo", "wechat"]))
@click.option("--headless", is_flag=True, help="Never open a browser window, even where a screen "
              "exists; the QR code is shown in the terminal and saved as a PNG.")
@pass_app
def command(app: AppContext, name: str, platform: str, headless: bool) -> int:
    """Log in to Weibo or a WeChat official-account backend by scanning a QR code.

    Chromium opens the platform's login page (in a window when a screen exists; otherwise the
    QR code is printed here and saved as a PNG in the home). Scan it with the phone and confirm.
    The cookies (and WeChat's token) are stored under NAME in HOME/credentials.toml, readable by
    you alone; register accounts with --credentials NAME to use them.
    """
    from crawler.login import log_in  # noqa: PLC0415 - Playwright loads for a login only

    if not NAME.fullmatch(name):
        raise click.BadParameter(_("use letters, digits, - and _ only (such as gov-weibo)"),
                                 param_hint="NAME")
    options = login_options(app.home, app.settings, name,
                            headed=bool(os.environ.get("DISPLAY")) and not headless)
    if options.headed:
        click.echo(_("A Chromium window shows the %(platform)s login page: scan its QR code with your phone.",
                     platform=platform))
    result = log_in(name, platform, options, _show_qr)
    click.echo(logged_in(result, options.credentials, _))
    click.echo(_("Use it with: weidang accounts add ... --credentials %(name)s", name=name))
    return 0


def login_options(home: Home, settings: Settings, name: str, headed: bool = False) -> LoginOptions:
    """How a QR login under ``name`` runs in this home, from the command line or the web."""
    from crawler.login import LoginOptions  # noqa: PLC0415
    from weidang.store import credential_store  # noqa: PLC0415

    home.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return LoginOptions(
        credentials=credential_store(home, settings).path, qr_png=home.root / f"login-qr-{name}.png",
        proxy=settings["CRAWLER_PROXY"], proxy_ca=settings["CRAWLER_PROXY_CA"], headed=headed,
        wait_seconds=settings["CRAWLER_LOGIN_WAIT_SECONDS"])


def logged_in(result: LoginResult, credentials: Path, _: Callable[..., str]) -> str:
    """What a finished login says, translated by ``_`` (the command line's or a web page's): the
    cookies' names and how long it lasts, never a value."""
    kept = ", ".join(result.cookie_names) + (_(" and the token") if result.has_token else "")
    until = (_("; the platform says it lasts until %(when)s", when=china_time(result.expires))
             if result.expires else "")
    return _("Logged in. The %(platform)s login is stored as [%(name)s] in %(file)s (cookies "
             "%(cookies)s)%(until)s.", platform=result.platform, name=result.name,
             file=credentials, cookies=kept, until=until)


def _show_qr(png: Path, text: str | None) -> None:
    if text is not None:
        click.echo(text)
    else:
        click.echo(_("The QR code could not be drawn here; open the picture instead."))
    click.echo(_("Scan this QR code with your phone and confirm the login. It is also saved as %(file)s",
                 file=png))
    click.echo(_("Waiting for the scan..."))
