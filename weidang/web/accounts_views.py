"""The archivists' dashboard of accounts: last run, health, next run (read-only for now)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from weidang.commands.status import account_overview
from weidang.web import labels
from weidang.web.security import requires

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/accounts/status")
@requires("accounts")
def status() -> Any:
    statuses, daemon = account_overview(current_app.config["HOME"], current_app.config["SETTINGS"])
    return render_template("accounts_status.html", statuses=statuses, daemon=daemon, labels=labels)
