"""The administrators' page of users: who may log in, with which role; add, disable, enable.

A user is never deleted (``catalog.users``); every change is an event naming the administrator.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from catalog.users import ROLES, UserError, add_user, list_users, set_disabled, set_role, user_history
from weidang.web import labels
from weidang.web.lang import _
from weidang.web.security import requires

blueprint = Blueprint("users", __name__)


@blueprint.route("/admin/users")
@requires("users")
def users() -> Any:
    with current_app.config["DB"].read() as conn:
        people, events = list_users(conn), user_history(conn)[-50:]
    return render_template("users.html", people=people, events=list(reversed(events)),
                           roles=ROLES, labels=labels)


@blueprint.route("/admin/users", methods=["POST"])
@requires("users")
def change() -> Any:
    action, name = request.form.get("action", ""), request.form.get("name", "").strip().lower()
    actor = g.user.name
    try:
        with current_app.config["DB"].write() as conn:
            if action == "add":
                add_user(conn, name, request.form.get("role", ""), request.form.get("password", ""),
                         actor, request.form.get("display_name", "").strip())
            elif action in ("disable", "enable"):
                if name == actor:
                    raise UserError(_("You cannot disable yourself."))
                set_disabled(conn, name, action == "disable", actor)
            elif action == "role":
                set_role(conn, name, request.form.get("role", ""), actor)
            else:
                raise UserError(_("Unknown action."))
    except UserError as exc:
        flash(_("Not done: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("Done: %(name)s", name=name), "info")
    return redirect(url_for("users.users"))
