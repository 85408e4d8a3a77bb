"""Who may see what, and the protections every response carries.

- Login: a signed, HttpOnly, SameSite=Lax session cookie holding the user's name and a stamp
  of their password; each request looks the user up again, so disabling a user or changing
  their password ends their sessions at once.
- CSRF: every form carries the session's token; a POST without the right one is refused.
- Content-Security-Policy: no script at all (the pages need none), pictures and styles only
  from this server, no framing. Archived HTML is sanitised too (``weidang.web.sanitize``);
  the policy is the second wall should something slip through.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, redirect, request, session, url_for

from catalog.users import ROLES, User, get_user, session_stamp

F = TypeVar("F", bound=Callable[..., Any])

# What each role may do besides searching and reading (which every role may).
PERMISSIONS = {
    "researcher": frozenset({"read"}),
    # "archive": appraisal (鉴定, 档号) and transfer packages (移交).
    "archivist": frozenset({"read", "accounts", "archive"}),
    "auditor": frozenset({"read", "audit"}),
    # "open": what other archives may read through the API and OAI-PMH.
    "admin": frozenset({"read", "accounts", "archive", "audit", "users", "open"}),
}
assert set(PERMISSIONS) == set(ROLES)

# OAI-PMH harvesters may POST their (read-only) requests; no session or cookie is involved.
CSRF_FREE = frozenset({"oai"})

CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
# Pictures from the archive are served as they were captured: a captured "picture" that is in
# fact HTML or SVG with script must not run either, even opened on its own.
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# The 四性 report and the 移交登记表 are self-contained pages with their own inline styles and no
# script: they are served as they are written to disk, sandboxed.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"


class LoginThrottle:
    """Slows password guessing: after ``limit`` failed logins for one user name within
    ``window`` seconds, that name is refused until the oldest failure is that old. Kept in the
    server's memory (one waitress process serves a home)."""

    def __init__(self, limit: int = 5, window: float = 15 * 60) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name)) >= self.limit

    def failed(self, name: str) -> None:
        with self._lock:
            self._recent(name).append(time.monotonic())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)

    def _recent(self, name: str) -> deque[float]:
        times = self._failures.setdefault(name, deque())
        while times and time.monotonic() - times[0] > self.window:
            times.popleft()
        return times


def csrf_token() -> str:
    """The session's token for forms (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse a state-changing request whose form does not carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.blueprint in CSRF_FREE:
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")


def load_user() -> None:
    """``g.user``: the logged-in user, if their session is still valid."""
    g.user = None
    name = session.get("user")
    if not name:
        return
    with current_app.config["DB"].read() as conn:
        user = get_user(conn, str(name))
    if user is None or user.disabled or session.get("stamp") != session_stamp(user):
        session.clear()
        return
    g.user = user


def log_in(user: User) -> None:
    session.clear()  # a new session: no fixation of one made before the login
    session["user"] = user.name
    session["stamp"] = session_stamp(user)
    session.permanent = True
    csrf_token()


def can(permission: str) -> bool:
    user: User | None = g.get("user")
    return user is not None and permission in PERMISSIONS.get(user.role, frozenset())


def requires(permission: str) -> Callable[[F], F]:
    """A view for logged-in users with ``permission``: others go to the login page, or are
    refused (403) when logged in without it."""
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path of this site, never another site."""
    if not target:
        return url_for("search.search")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("search.search")
    return target


def secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint not in ("static",):
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold what a role may see
    return response
