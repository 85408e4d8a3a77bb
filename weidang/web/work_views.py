"""The page of one piece of long work (``weidang.web.work``): waiting, under way, or what it found."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template

from weidang.web.security import can
from weidang.web.work import Work, WorkShelf

blueprint = Blueprint("work", __name__)
REFRESH_SECONDS = 3


def shelf() -> WorkShelf:
    found: WorkShelf = current_app.config["WORK"]
    return found


@blueprint.route("/work/<ident>")
def work(ident: str) -> Any:
    found = _mine(ident)
    return render_template("work.html", work=found, refresh=None if found.over else REFRESH_SECONDS)


@blueprint.route("/work/<ident>/picture")
def picture(ident: str) -> Response:
    """The picture the work shows while it runs (a login's QR code): its owner's alone, never
    kept by the browser or a proxy."""
    found = _mine(ident)
    png = found.picture
    # whoever scans a QR code gives the archive their login: its owner's alone, not an admin's
    if png is None or found.owner != g.user.name:
        abort(404)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


def _mine(ident: str) -> Work:
    if g.get("user") is None:
        abort(403)
    found: Work | None = shelf().get(ident)
    # someone else's work is not shown (its messages name what they chose); an admin sees all
    if found is None or (found.owner != g.user.name and not can("users")):
        abort(404)
    return found
