"""`weidang web`: serve the web interface of the home (waitress, a production WSGI server)."""

from __future__ import annotations

import atexit
import threading
from typing import Any

import click

from weidang.context import AppContext, pass_app
from weidang.home import Home
from weidang.i18n import _, told
from weidang.settings import Settings

DEFAULT_PORT = 8470
THREADS = 8  # concurrent requests; searches and pages are short, pictures are small


@click.command("web", short_help="Serve the web interface: search, posts and pictures, accounts, users.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this computer only; give 0.0.0.0 "
              "(behind an HTTPS reverse proxy) to serve the network.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--replay-port", default=None, type=click.IntRange(0, 65535),
              help="Port of the replay origin, where archived pages are replayed by pywb for "
              "those logged in (a separate origin, so archived scripts cannot reach these pages); "
              "default: --port + 1; 0: no replays.")
@click.option("--secure-cookies", is_flag=True,
              help="Send the login cookie over HTTPS only (set this behind an HTTPS proxy).")
@pass_app
def command(app: AppContext, host: str, port: int, replay_port: int | None,
            secure_cookies: bool) -> int:
    """Serve the web interface: search, posts with their versions and pictures, the accounts'
    status; Simplified Chinese by default (English with ?lang=en). Log in with a user made by
    `weidang users add`."""
    serve_home(app.home, app.settings, host, port, secure_cookies,
               port + 1 if replay_port is None else replay_port)
    return 0


def serve_home(home: Home, settings: Settings, host: str, port: int, secure_cookies: bool = False,
               replay_port: int = 0) -> None:
    """Serve ``home``'s web interface until Ctrl+C (`weidang web`, `weidang demo --serve`)."""
    from waitress import create_server  # noqa: PLC0415 - only serving needs the server

    from catalog.users import count_users  # noqa: PLC0415
    from weidang.web import create_app  # noqa: PLC0415

    flask_app = create_app(home, settings, secure_cookies=secure_cookies)
    # Both ports are taken before pywb picks a free one of its own, so it cannot take either.
    server = create_server(flask_app, host=host, port=port, threads=THREADS, ident="weidang")
    if replay_port:
        _serve_replays(flask_app, host, replay_port)
    with flask_app.config["DB"].read() as conn:
        if count_users(conn) == 0:
            click.echo(_("No user can log in yet: add one first with `weidang users add NAME --role admin`."),
                       err=True)
    click.echo(_("Serving the web interface of %(home)s at %(url)s (Ctrl+C stops it).", home=home.root,
                 url=f"http://{host}:{port}/"), err=True)
    server.run()


def _serve_replays(flask_app: Any, host: str, port: int) -> None:
    """The replay origin on its own port, beside the pages (a thread of this process)."""
    from waitress import create_server  # noqa: PLC0415

    from weidang.web.app import replay_gate  # noqa: PLC0415
    from weidang.web.replay import ReplayUnavailable  # noqa: PLC0415

    gate = replay_gate(flask_app)
    if gate is None:
        click.echo(_("Archived pages are not replayed: %(reason)s.",
                     reason=told(flask_app.config["REPLAY_MISSING"])), err=True)
        return
    server = create_server(gate, host=host, port=port, threads=THREADS, ident="weidang-replay")
    try:
        gate.replay.start()
    except ReplayUnavailable as exc:
        server.close()
        click.echo(_("Archived pages are not replayed: %(reason)s.", reason=told(exc)), err=True)
        return
    flask_app.config["REPLAY_PORT"] = port
    atexit.register(gate.replay.close)
    threading.Thread(target=server.run, daemon=True, name="weidang-replay").start()
    click.echo(_("Replaying archived pages at %(url)s (for those logged in).",
                 url=f"http://{host}:{port}/"), err=True)
