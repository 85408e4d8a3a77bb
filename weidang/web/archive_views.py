"""The archivists' pages of the archival half: appraisal (鉴定) of one post, of a search's
results or of a 专题, and transfer (移交) packages. The same functions as `weidang appraise` and
`weidang transfer` (``weidang.appraising``, ``weidang.transferring``, ``catalog.appraisal``,
``catalog.transfer``), with the logged-in user as reviewer; a package is written beside the
server (``weidang.web.work``), into HOME/transfers/<id>, while its work page shows it under way."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from catalog.errors import CatalogError
from catalog.schema import RETENTION_CODES
from warc_store import StoreError
from weidang.context import AppContext
from weidang.transfer_form import HTML_NAME, PDF_NAME
from weidang.web.lang import _, current, fixed, told
from weidang.web.security import REPORT_CSP, requires, safe_next
from weidang.web.work import Work, WorkFailed

blueprint = Blueprint("archive", __name__)

RETENTIONS = tuple(RETENTION_CODES)  # 永久, 定期30年, 定期10年, as `weidang appraise` offers them
FORM_FILES = {"html": (HTML_NAME, "text/html"), "pdf": (PDF_NAME, "application/pdf")}


def app_context() -> AppContext:
    """The command line's context for this home and settings, for the functions shared with it."""
    config = current_app.config
    return AppContext(config["HOME"].root, _settings=config["SETTINGS"])


# -- appraisal ------------------------------------------------------------------------------------
@blueprint.route("/appraise")
@requires("archive")
def topics() -> Any:
    from catalog.topics import list_topics  # noqa: PLC0415

    with current_app.config["DB"].read() as conn:
        found = list_topics(conn)
    return render_template("appraise.html", topics=found, retentions=RETENTIONS)


@blueprint.route("/appraise", methods=["POST"])
@requires("archive")
def appraise() -> Any:
    """Keep or discard the posts the form names: one post, a 专题, or a search (its filters in
    the address, as the search page has them)."""
    from catalog.appraisal import Ask  # noqa: PLC0415
    from catalog.appraisal import appraise as decide  # noqa: PLC0415
    from weidang.appraising import default_codes, event_sink, now  # noqa: PLC0415

    form, back = request.form, safe_next(request.form.get("back"))
    try:
        decision = form.get("decision", "")
        if decision not in ("keep", "discard"):
            raise CatalogError(_("Choose keep or discard."))
        if form.get("retention") not in RETENTIONS:
            raise CatalogError(_("Choose a retention period: %(choices)s.", choices="、".join(RETENTIONS)))
        if decision == "discard" and not form.get("reason", "").strip():
            raise CatalogError(_("A discard needs a reason, so that the decision can be understood later."))
        ask = Ask(keep=decision == "keep", retention=form["retention"], reviewer=g.user.name,
                  reason=form.get("reason", "").strip(),
                  classification=form.get("classification", "").strip()).check()
        ctx = app_context()
        keys = _selected(ctx)
        done = decide(current_app.config["DB"], keys, ask, default_codes(ctx), event_sink(ctx), now)
    except (CatalogError, StoreError) as exc:
        flash(_("Not appraised: %(reason)s", reason=told(exc)), "error")
        return redirect(back)
    kept = [d for d in done if d.code]
    flash(_("%(n)s decisions recorded by %(reviewer)s: %(kept)s kept, %(discarded)s discarded.",
            n=len(done), reviewer=g.user.name, kept=len(kept), discarded=len(done) - len(kept)), "info")
    if kept:
        codes = kept[0].code if len(kept) == 1 else f"{kept[0].code} … {kept[-1].code}"
        flash(_("档号: %(codes)s", codes=codes), "info")
    return redirect(back)


def _selected(ctx: AppContext) -> list[tuple[str, str]]:
    from weidang.appraising import parse_post, searched_posts, topic_posts  # noqa: PLC0415
    from weidang.web.search_views import Form  # noqa: PLC0415

    what = request.form.get("selection", "")
    if what == "post":
        keys = [parse_post(request.form.get("post", ""))]
    elif what == "topic":
        with current_app.config["DB"].read() as conn:
            keys = topic_posts(ctx, conn, request.form.get("topic", ""))
    elif what == "search":
        search = Form.from_args()  # the search's own fields and their checks, from the address
        search.check()
        keys = searched_posts(ctx, {"text": search.q, "account": search.account or None,
                                    "platform": search.platform or None,
                                    "since": search.since or None, "until": search.until or None,
                                    "status": search.status or None})
    else:
        raise CatalogError(_("The form does not say which posts to appraise."))
    if not keys:
        raise CatalogError(_("No post was selected."))
    return keys


# -- transfer -------------------------------------------------------------------------------------
@blueprint.route("/transfers")
@requires("archive")
def transfers() -> Any:
    from catalog.topics import list_topics  # noqa: PLC0415
    from catalog.transfer.record import transfer_rows  # noqa: PLC0415

    with current_app.config["DB"].read() as conn:
        rows, found = list(reversed(transfer_rows(conn))), list_topics(conn)
    return render_template("transfers.html", rows=rows, topics=found)


@blueprint.route("/transfers", methods=["POST"])
@requires("archive")
def create() -> Any:
    form = request.form
    account, topic = form.get("account", "").strip() or None, form.get("topic", "").strip() or None
    try:
        year = int(form["year"]) if form.get("year", "").strip() else None
    except ValueError:
        flash(_("Not created: %(reason)s", reason=_("%(value)s is not a year; write it as 2024.",
                                                    value=form.get("year", ""))), "error")
        return redirect(url_for("archive.transfers"))
    if account is None and year is None and topic is None:
        flash(_("Not created: %(reason)s", reason=_("Choose an account and a year, or a 专题.")), "error")
        return redirect(url_for("archive.transfers"))
    job = _transfer_job(app_context(), account, year, topic, g.user.name, url_for("archive.transfers"))
    work = current_app.config["WORK"].start(_("Transfer package"), g.user.name, current(), job)
    return redirect(url_for("work.work", ident=work.ident))


def _transfer_job(ctx: AppContext, account: str | None, year: int | None, topic: str | None,
                  actor: str, listing: str) -> Any:
    """`weidang transfer create` for the web, run outside the request (``weidang.web.work``)."""
    def job(work: Work) -> None:
        from weidang.transferring import create_transfer  # noqa: PLC0415

        _ = fixed(work.lang)
        try:
            made = create_transfer(ctx, None, (), account, year, topic, actor)
        except (CatalogError, StoreError) as exc:
            work.say(_("Not created: %(reason)s", reason=told(exc, work.lang)), "error")
            raise WorkFailed from exc
        work.say(_("Transfer package %(id)s written: %(items)s kept posts (%(discarded)s discarded and "
                   "%(unappraised)s not appraised left out); audit of the package (四性): %(verdict)s.",
                   id=made.folder.name, items=made.items, discarded=made.discarded,
                   unappraised=made.unappraised, verdict=_("passed") if made.audit_ok else _("FAILED")),
                 "info" if made.audit_ok else "error")
        work.result = f"{listing}/{quote(made.folder.name)}"
    return job


def _row(ident: str) -> Any:
    from catalog.transfer.record import transfer_rows  # noqa: PLC0415

    with current_app.config["DB"].read() as conn:
        for row in transfer_rows(conn):
            if row.transfer_id == ident:
                return row
    abort(404, description=_("There is no transfer package %(id)s.", id=ident))


@blueprint.route("/transfers/<ident>")
@requires("archive")
def transfer(ident: str) -> Any:
    from catalog.transfer.verify import verify_package  # noqa: PLC0415
    from weidang.store import tsa_config  # noqa: PLC0415

    row = _row(ident)
    folder = Path(row.folder)
    check = None
    if folder.is_dir():
        config = current_app.config
        check = verify_package(folder, tsa_config(config["HOME"], config["SETTINGS"]).ca_file)
    return render_template("transfer.html", row=row, check=check, present=folder.is_dir())


@blueprint.route("/transfers/<ident>/form.<fmt>")
@requires("archive")
def form_file(ident: str, fmt: str) -> Any:
    from catalog.transfer.bag import FORM_FOLDER  # noqa: PLC0415

    if fmt not in FORM_FILES:
        abort(404)
    name, mimetype = FORM_FILES[fmt]
    path = Path(_row(ident).folder) / FORM_FOLDER / name
    if not path.is_file():
        abort(404, description=_("The package's folder no longer holds its transfer form."))
    response = send_file(path, mimetype=mimetype, as_attachment=fmt == "pdf",
                         download_name=f"{ident}-{name}")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response
