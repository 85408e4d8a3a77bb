"""The archivists' accounts pages: the dashboard, and adding, importing, scheduling, pausing
and opening accounts, and storing logins. Every change goes through the catalog's own account
functions (``catalog.accounts``, ``catalog.account_files``, ``catalog.credential_writer``), the
same ones the command line uses, and is recorded as theirs are, naming the user."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from catalog.account_fields import check_credentials_reference, format_duration
from catalog.account_files import FORMATS, BadRows, import_accounts
from catalog.accounts import Account, AccountRegistry
from catalog.credential_writer import save_login
from catalog.credentials import unknown_logins
from catalog.errors import CatalogError
from catalog.open_access import current_marks, set_open
from catalog.pauses import PauseScope
from catalog.runs import RunLog
from catalog.schema import iso
from weidang.commands.status import account_overview
from weidang.store import credential_store
from weidang.web import labels
from weidang.web.lang import _, told
from weidang.web.security import requires, safe_next

blueprint = Blueprint("accounts", __name__)
STATUS_REFRESH_SECONDS = 15  # the dashboard follows running harvests without a script
# What a login may hold (README "Logins stay out of the catalog"); the form fills only these.
LOGIN_FIELDS = ("cookie", "token", "appid", "secret", "feed_url")
MAX_IMPORT_BYTES = 1 << 20  # the app's request limit: a list of 10,000 accounts is far smaller


@blueprint.route("/accounts/status")
@requires("accounts")
def status() -> Any:
    statuses, daemon = account_overview(current_app.config["HOME"], current_app.config["SETTINGS"])
    return render_template("accounts_status.html", statuses=statuses, daemon=daemon, labels=labels,
                           refresh=STATUS_REFRESH_SECONDS)


@blueprint.route("/accounts")
@requires("accounts")
def manage() -> Any:
    registry = _registry()
    accounts = registry.list()
    db = current_app.config["DB"]
    paused = {p.scope for p in RunLog(db).active_pauses()}
    with db.read() as conn:
        opened = {m.subject for m in current_marks(conn, "account") if m.open}
    return render_template("accounts.html", accounts=accounts, paused=paused, opened=opened,
                           schedule=_schedule_text, formats=", ".join(FORMATS[1:]), logins=_login_names())


@blueprint.route("/accounts/add", methods=["POST"])
@requires("accounts")
def add() -> WerkzeugResponse:
    form = request.form
    fields = {k: form.get(k, "").strip() for k in ("name", "credentials", "notes", "schedule")}
    try:
        added = _registry().add(form.get("account", ""), **{k: v for k, v in fields.items() if v})
    except CatalogError as exc:
        flash(_("Not added: %(reason)s", reason=told(exc)), "error")
    else:
        flash(_("Added %(account)s; harvested %(schedule)s.", account=added.key,
                schedule=_schedule_text(added)), "info")
        _warn_unknown_logins([added])
    return redirect(url_for("accounts.manage"))


@blueprint.route("/accounts/find", methods=["GET", "POST"])
@requires("accounts")
def find() -> Any:
    """Look an account up by its name on its platform; each account found can be added from the
    page. The lookup is a POST with the session's CSRF token: it asks the platform with a stored
    login, which another site must not be able to make a logged-in archivist's browser do (a GET
    would follow any link). A GET shows the form, filled from its address."""
    from crawler.errors import CrawlError  # noqa: PLC0415 - the crawler loads when used
    from weidang.account_lookup import look_up  # noqa: PLC0415

    looked = request.method == "POST"
    asked = request.form if looked else request.args
    platform, name = asked.get("platform", "wechat"), asked.get("name", "").strip()
    login = asked.get("credentials", "").strip()
    found, error = [], ""
    if platform not in ("weibo", "wechat"):
        error = _("Choose the platform to look on: weibo or wechat.")
    elif name and looked:
        try:
            found = look_up(current_app.config["HOME"], current_app.config["SETTINGS"], platform, name,
                            login)
        except (CrawlError, CatalogError) as exc:
            error = told(exc)
    return render_template("accounts_find.html", platform=platform, name=name, login=login,
                           found=found, error=error, logins=_login_names(),
                           looked=looked)


def _login_names() -> list[str]:
    try:
        return credential_store(current_app.config["HOME"], current_app.config["SETTINGS"]).names()
    except CatalogError:
        return []  # the logins page says what is wrong with the file


@blueprint.route("/accounts/import", methods=["POST"])
@requires("accounts")
def import_file() -> Any:
    upload = request.files.get("file")
    name = Path((upload.filename or "").replace("\\", "/")).name if upload else ""
    if upload is None or not name:
        flash(_("Choose a CSV or XLSX file to import."), "error")
        return redirect(url_for("accounts.manage"))
    registry = _registry()
    with tempfile.TemporaryDirectory(prefix="weidang-import-") as tmp:
        path = Path(tmp) / name
        upload.save(path)
        try:
            result = import_accounts(registry, path)
        except BadRows as exc:
            problems = [(p.row.number, _problem(p)) for p in exc.problems]
            return render_template("accounts_import_errors.html", file=name, problems=problems), 422
        except CatalogError as exc:
            flash(_("%(file)s was not imported and nothing was changed: %(reason)s", file=name,
                    reason=told(exc)), "error")
            return redirect(url_for("accounts.manage"))
    flash(_("Imported %(file)s: %(added)s added, %(updated)s updated, %(restored)s restored, "
            "%(unchanged)s unchanged.", file=name, added=len(result.added),
            updated=len(result.updated), restored=len(result.restored),
            unchanged=len(result.unchanged)), "info")
    _warn_unknown_logins([registry.get(k) for k in result.added + result.updated + result.restored])
    return redirect(url_for("accounts.manage"))


def _problem(problem: Any) -> str:
    if problem.repeat_of is not None:
        return _("%(account)s is listed again (first in row %(row)s)", account=problem.account,
                 row=problem.repeat_of.number)
    return told(problem.error)


@blueprint.route("/accounts/change", methods=["POST"])
@requires("accounts")
def change() -> WerkzeugResponse:
    """Schedule, pause or resume an account."""
    action, key = request.form.get("action", ""), request.form.get("account", "")
    registry = _registry()
    try:
        account = registry.get(key)
        if action == "schedule":
            changed = registry.update(account.key, schedule=request.form.get("schedule", ""))
            flash(_("%(account)s is now harvested %(schedule)s.", account=changed.key,
                    schedule=_schedule_text(changed)), "info")
        elif action in ("pause", "resume"):
            _pause(account, action == "pause")
        else:
            flash(_("Unknown action."), "error")
    except CatalogError as exc:
        flash(_("Not done: %(reason)s", reason=told(exc)), "error")
    return redirect(url_for("accounts.manage"))


def _pause(account: Account, pause: bool) -> None:
    runs, scope = RunLog(current_app.config["DB"]), PauseScope.account(account.key)
    if pause:
        runs.pause(scope, f"paused by {g.user.name} in the web interface",
                   "resume it on the accounts page")
        flash(_("%(account)s is paused: no harvest starts until it is resumed.",
                account=account.key), "info")
    else:
        runs.clear(scope)
        flash(_("%(account)s is resumed.", account=account.key), "info")


@blueprint.route("/admin/open", methods=["POST"])
@requires("open")
def open_access() -> WerkzeugResponse:
    """Open or close an account's posts, or one post, to other archives (administrators)."""
    kind, subject = request.form.get("kind", ""), request.form.get("subject", "")
    is_open = request.form.get("open") == "1"
    try:
        with current_app.config["DB"].write() as conn:
            set_open(conn, kind, subject, is_open, g.user.name, iso(dt.datetime.now(dt.UTC)),
                     request.form.get("reason", ""))
    except CatalogError as exc:
        flash(_("Not done: %(reason)s", reason=told(exc)), "error")
    else:
        flash(_("%(subject)s is open to other archives.", subject=subject) if is_open else
              _("%(subject)s is closed to other archives.", subject=subject), "info")
    return redirect(safe_next(request.form.get("next")))


@blueprint.route("/accounts/logins", methods=["GET", "POST"])
@requires("accounts")
def logins() -> Any:
    """Store a login (cookie, token, AppID and AppSecret) in credentials.toml, readable by the
    server's user alone. The values are written to the file and nowhere else: never shown
    again, never put in a message, an event or a log line."""
    store = credential_store(current_app.config["HOME"], current_app.config["SETTINGS"])
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        values = {k: request.form.get(k, "").strip() for k in LOGIN_FIELDS}
        values = {k: v for k, v in values.items() if v}
        try:
            if check_credentials_reference(name) is None:
                raise CatalogError.told(labels.N_("Give the login a name, e.g. gov_weibo_login."))
            if not values:
                raise CatalogError.told(labels.N_("Fill in at least one field of the login."))
            save_login(store.path, name, values)
        except CatalogError as exc:
            flash(_("The login was not stored: %(reason)s", reason=told(exc)), "error")
        else:
            flash(_("The login %(name)s is stored (%(fields)s) in the credentials file, readable by "
                    "the server's user alone; it is not shown again.", name=name,
                    fields=", ".join(values)), "info")
        return redirect(url_for("accounts.logins"))
    names: list[str] = []
    problem: str | None = None
    try:
        names = store.names()
    except CatalogError as exc:
        problem = told(exc)
    return render_template("accounts_logins.html", names=names, problem=problem,
                           fields=LOGIN_FIELDS)


def _warn_unknown_logins(accounts: list[Account]) -> None:
    store = credential_store(current_app.config["HOME"], current_app.config["SETTINGS"])
    missing = unknown_logins(store, [a.credentials for a in accounts])
    if missing:
        flash(_("No login is stored under %(names)s: harvests of the accounts naming it will fail "
                "until it is added on the logins page.", names=", ".join(missing)), "warning")


def _registry() -> AccountRegistry:
    return AccountRegistry(current_app.config["DB"], actor=g.user.name, via="web")


def _schedule_text(account: Account) -> str:
    settings = current_app.config["SETTINGS"]
    schedule = account.schedule(int(settings["CATALOG_SCHEDULE_INTERVAL_SECONDS"]),
                                int(settings["CATALOG_SCHEDULE_JITTER_SECONDS"]))
    when = (_("at cron %(cron)s (China time)", cron=schedule.cron) if schedule.cron else
            _("every %(interval)s", interval=format_duration(schedule.interval_seconds)))
    return when + (_(" (default)") if schedule.is_default else "")
