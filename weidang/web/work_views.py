"""The page of one piece of long work (``weidang.web.work``): waiting, under way, or what it found."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, render_template

from weidang.web.security import can
from weidang.web.work import Work, WorkShelf

blueprint = Blueprint("work", __name__)
REFRESH_SECONDS = 3


def shelf() -> WorkShelf:
    found: WorkShelf = current_app.config["WORK"]
    return found


@blueprint.route("/work/<ident>")
def work(ident: str) -> Any:
    if g.get("user") is None:
        abort(403)
    found: Work | None = shelf().get(ident)
    # someone else's work is not shown (its messages name what they chose); an admin sees all
    if found is None or (found.owner != g.user.name and not can("users")):
        abort(404)
    return render_template("work.html", work=found, refresh=None if found.over else REFRESH_SECONDS)
