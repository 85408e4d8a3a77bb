"""`weidang web`: serve the web interface of the home (waitress, a production WSGI server)."""

from __future__ import annotations

import click

from weidang.context import AppContext, pass_app
from weidang.home import Home
from weidang.i18n import _
from weidang.settings import Settings

DEFAULT_PORT = 8470
THREADS = 8  # concurrent requests; searches and pages are short, pictures are small


@click.command("web", short_help="Serve the web interface: search, posts and pictures, accounts, users.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this computer only; give 0.0.0.0 "
              "(behind an HTTPS reverse proxy) to serve the network.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--secure-cookies", is_flag=True,
              help="Send the login cookie over HTTPS only (set this behind an HTTPS proxy).")
@pass_app
def command(app: AppContext, host: str, port: int, secure_cookies: bool) -> int:
    """Serve the web interface: search, posts with their versions and pictures, the accounts'
    status; Simplified Chinese by default (English with ?lang=en). Log in with a user made by
    `weidang users add`."""
    serve_home(app.home, app.settings, host, port, secure_cookies)
    return 0


def serve_home(home: Home, settings: Settings, host: str, port: int, secure_cookies: bool = False) -> None:
    """Serve ``home``'s web interface until Ctrl+C (`weidang web`, `weidang demo --serve`)."""
    from waitress import serve  # noqa: PLC0415 - only serving needs the server

    from catalog.users import count_users  # noqa: PLC0415
    from weidang.web import create_app  # noqa: PLC0415

    flask_app = create_app(home, settings, secure_cookies=secure_cookies)
    with flask_app.config["DB"].read() as conn:
        if count_users(conn) == 0:
            click.echo(_("No user can log in yet: add one first with `weidang users add NAME --role admin`."),
                       err=True)
    click.echo(_("Serving the web interface of %(home)s at %(url)s (Ctrl+C stops it).", home=home.root,
                 url=f"http://{host}:{port}/"), err=True)
    serve(flask_app, host=host, port=port, threads=THREADS, ident="weidang")
