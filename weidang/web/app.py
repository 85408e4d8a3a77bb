"""The Flask application: one per home, its catalog and search index behind every page."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from weidang import i18n
from weidang.home import Home
from weidang.indexing import kept_collections
from weidang.settings import Settings
from weidang.store import catalog_db
from weidang.web import labels, lang, security
from weidang.web.replay import STATE_DIR, Replay, ReplayGate, ReplayUnavailable, find_wayback
from weidang.web.work import Work, WorkShelf

if TYPE_CHECKING:
    from warc_store import Collection

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # where install-replay.sh makes .venv-pywb
SECRET_FILE = "web-secret.key"  # under the home: signs the session cookies
SESSION_HOURS = 8
MACHINE_PATHS = ("/api/", "/oai")  # a working day: then log in again


def create_app(home: Home, settings: Settings, *, secure_cookies: bool = False,
               environ: dict[str, str] | None = None) -> Flask:
    """The web interface of ``home``. ``secure_cookies``: behind HTTPS (a reverse proxy), the
    session cookie is sent over HTTPS only."""
    env = dict(os.environ if environ is None else environ)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(home.root),
        SESSION_COOKIE_NAME="weidang_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax, not Strict: a shared link (/search?q=…) opened from a chat keeps the session;
        # every change is a POST with a CSRF token, which Lax does not send cross-site anyway.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=1 << 20,  # forms only: nothing large is ever uploaded
        HOME=home, SETTINGS=settings, DB=catalog_db(home, settings),
        COLLECTIONS=kept_collections(home),  # opened once: each index read once, then its tail
        LOGIN_THROTTLE=security.LoginThrottle(),
        LANG_FORCED=i18n.normalise_lang(env.get("WEIDANG_LANG")),
        LANG_FALLBACK=i18n.server_default({"LANG": env.get("LANG", "")}),
        WORK=WorkShelf(lambda: dt.datetime.now(dt.UTC), _work_failed),
        REPLAY_PORT=0,  # the replay origin's port (`weidang web` sets it); 0 = no replay origin
    )
    app.config["REPLAY"], app.config["REPLAY_MISSING"] = _replay(home, settings,
                                                                 app.config["COLLECTIONS"])
    _templates(app)
    _hooks(app)
    from weidang.web import (
        accounts_views,
        api_views,
        archive_views,
        audit_views,
        auth_views,
        login_views,
        oai_views,
        post_views,
        search_views,
        users_views,
        work_views,
    )

    for module in (auth_views, search_views, post_views, accounts_views, users_views, api_views,
                   oai_views, audit_views, archive_views, work_views, login_views):
        app.register_blueprint(module.blueprint)
    return app


def _replay(home: Home, settings: Settings, collections: Callable[[str], Collection | None],
            ) -> tuple[Replay | None, ReplayUnavailable | None]:
    """pywb for the post pages' replays, or why there is none (said on the post page)."""
    try:
        wayback = find_wayback(str(settings["WEB_PYWB"]), SOURCE_ROOT)
    except ReplayUnavailable as exc:
        return None, exc
    return Replay(wayback, home.root / STATE_DIR, collections), None


def replay_gate(app: Flask) -> ReplayGate | None:
    """The replay origin's application: pywb, for those logged in to ``app`` who may read."""
    replay = app.config["REPLAY"]
    if replay is None:
        return None

    def allowed(environ: dict[str, Any]) -> bool:
        # the session cookie is the web pages' own: cookies are per host, not per port
        with app.request_context(environ):
            security.load_user()
            return security.can("read")

    return ReplayGate(replay, allowed)


def _work_failed(work: Work, error: BaseException) -> str:
    _ = lang.fixed(work.lang)
    return _("It failed: %(reason)s (the server's log has the details).", reason=lang.told(error, work.lang))


def _templates(app: Flask) -> None:
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.gettext(message, lang.current()),
        lambda singular, plural, n: i18n.ngettext(singular, plural, n, lang.current()),
        newstyle=True)
    env.globals.update(csrf_token=security.csrf_token, can=security.can, china_time=i18n.china_time,
                       LANG_NAMES=i18n.LANG_NAMES, labels=labels)


def _hooks(app: Flask) -> None:
    @app.before_request
    def _before() -> None:
        g.lang = lang.choose_lang(app.config["LANG_FORCED"], app.config["LANG_FALLBACK"])
        security.load_user()
        security.check_csrf()

    @app.after_request
    def _after(response: Response) -> Response:
        chosen = i18n.normalise_lang(request.args.get("lang"))
        if chosen is not None:  # keep the choice for the next pages
            response.set_cookie(lang.LANG_COOKIE, chosen, max_age=365 * 86400, httponly=True,
                                samesite="Lax", secure=app.config["SESSION_COOKIE_SECURE"])
        return security.secure_headers(response)

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> Any:
        if request.path.startswith(MACHINE_PATHS):  # machines read these: JSON, not a page
            return {"error": exc.description or exc.name}, exc.code
        return render_template("error.html", code=exc.code, description=exc.description), exc.code


def _secret_key(root: Path) -> bytes:
    """The home's session key, made once and kept private; a new key logs everyone out."""
    path = root / SECRET_FILE
    if not path.exists():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process of the same home made it just now
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    return path.read_bytes()
