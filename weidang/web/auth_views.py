"""Logging in and out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from catalog.users import authenticate
from weidang.web import security
from weidang.web.lang import _

blueprint = Blueprint("auth", __name__)


@blueprint.route("/")
def home() -> Any:
    return redirect(url_for("search.search") if g.get("user") else url_for("auth.login"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = request.values.get("next")
    if request.method == "POST":
        name = request.form.get("name", "").strip().lower()
        throttle = current_app.config["LOGIN_THROTTLE"]
        if throttle.blocked(name):
            flash(_("Too many failed logins for this user name: wait a quarter of an hour, or ask "
                    "an administrator to set a new password."), "error")
            return render_template("login.html", name=name, next=target), 429
        with current_app.config["DB"].write() as conn:
            user = authenticate(conn, name, request.form.get("password", ""))
        if user is not None:
            throttle.succeeded(name)
            security.log_in(user)
            return redirect(security.safe_next(target))
        throttle.failed(name)
        flash(_("The user name or the password is wrong, or the user is disabled."), "error")
        return render_template("login.html", name=name, next=target), 401
    return render_template("login.html", name="", next=target)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
