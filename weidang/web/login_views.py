"""Logging in by QR code from the web, as `weidang login` does on the command line: the server's
headless Chromium opens the platform's login page, the archivist scans the QR code shown on the
work's page with a phone, and the login goes into credentials.toml under the name given.

The login runs as work beside the queue (``weidang.web.work``): it waits minutes on a person and
must not wait behind an audit. Only the cookies' names are ever said; their values go into the
credentials file and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from catalog.account_fields import check_credentials_reference
from catalog.errors import CatalogError
from crawler.login import LoginOptions
from weidang.commands.login import logged_in, login_options
from weidang.web import labels
from weidang.web.lang import _, current, fixed, told
from weidang.web.security import requires
from weidang.web.work import BESIDE_LIMIT, Job, ShelfFull, Work, WorkFailed

blueprint = Blueprint("qr_login", __name__)
PLATFORMS = ("weibo", "wechat")


@blueprint.route("/accounts/logins/qr", methods=["POST"])
@requires("accounts")
def start() -> WerkzeugResponse:
    name = request.form.get("name", "").strip()
    platform = request.form.get("platform", "")
    try:
        if check_credentials_reference(name) is None:
            raise CatalogError.told(labels.N_("Give the login a name, e.g. gov_weibo_login."))
        if platform not in PLATFORMS:
            raise CatalogError.told(labels.N_("Choose Weibo or WeChat."))
    except CatalogError as exc:
        flash(_("The login was not stored: %(reason)s", reason=told(exc)), "error")
        return redirect(url_for("accounts.logins"))
    options = login_options(current_app.config["HOME"], current_app.config["SETTINGS"], name)
    job = qr_login_job(name, platform, options, url_for("accounts.logins"))
    try:
        work = current_app.config["WORK"].start(
            _("QR login %(name)s (%(platform)s)", name=name, platform=labels.platform(platform)),
            g.user.name, current(), job, beside=True)
    except ShelfFull as full:
        if full.mine is not None:
            flash(_("Your QR login is still waiting for its scan; finish it (or let it time out) "
                    "before starting another."), "error")
            return redirect(url_for("work.work", ident=full.mine.ident))
        flash(_("%(count)s QR logins are waiting for their scans, as many as the server runs at "
                "once; try again in a few minutes.", count=BESIDE_LIMIT), "error")
        return redirect(url_for("accounts.logins"))
    return redirect(url_for("work.work", ident=work.ident))


def qr_login_job(name: str, platform: str, options: LoginOptions, page: str) -> Job:
    """The login as `weidang login` runs it; its QR code is the work's picture until it ends."""
    def job(work: Work) -> None:
        from crawler.login import LoginError, log_in  # noqa: PLC0415 - Playwright loads for a login only

        _ = fixed(work.lang)

        def show(png: Path, _text: str | None) -> None:
            work.picture = png.read_bytes()
            work.say(_("Scan this QR code with your phone and confirm the login. This page "
                         "follows the login by itself."))

        try:
            result = log_in(name, platform, options, show)
        except LoginError as exc:
            work.say(_("The login was not stored: %(reason)s", reason=told(exc, work.lang)), "error")
            raise WorkFailed from None
        finally:
            options.qr_png.unlink(missing_ok=True)  # a used QR code is of no use to anyone
        work.say(logged_in(result, options.credentials, _))
        work.result = page
    return job
