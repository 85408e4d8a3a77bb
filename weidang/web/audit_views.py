"""The auditors' pages: run verify and the 四性 audit of a collection, read the report, the
collection's event log and its seals. The same functions as `weidang audit`, `weidang verify`
and `weidang seal` (``catalog.audit.run_audit``, ``warc_store``). An audit runs beside the
server (``weidang.web.work``): the auditor is sent to its page, which shows it under way and
then what it found, with a link to the report."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, send_file, url_for

from warc_store import Collection, StoreError
from warc_store.seal import stored_seals, verify_stamp
from warc_store.timestamp import TimestampError
from weidang.home import Home
from weidang.store import open_collection, tsa_config
from weidang.web.lang import _, current, fixed
from weidang.web.security import REPORT_CSP, requires
from weidang.web.work import Work

blueprint = Blueprint("audit", __name__)

REPORTS = "audit-reports"  # under the home: one HTML page per audit run from the web
EVENTS_PER_PAGE = 50
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _home() -> Home:
    home: Home = current_app.config["HOME"]
    return home


def _collection(name: str) -> Collection:
    if not NAME.match(name) or not _home().collection_dir(name).is_dir():
        abort(404, description=_("There is no collection %(name)s.", name=name))
    try:
        return open_collection(_home(), name)
    except StoreError:
        abort(404, description=_("There is no collection %(name)s.", name=name))


def _reports(name: str) -> list[Path]:
    folder = _home().root / REPORTS
    if not folder.is_dir():
        return []
    own = re.compile(re.escape(name) + r"-\d{8}T\d{6}Z(?:-\d+)?\.html")
    return sorted((p for p in folder.iterdir() if own.fullmatch(p.name)), reverse=True)


@blueprint.route("/audit")
@requires("audit")
def index() -> Any:
    names = [p.name for p in _home().collections()]
    return render_template("audit.html", names=names,
                           latest={n: next(iter(_reports(n)), None) for n in names})


@blueprint.route("/audit/<name>")
@requires("audit")
def collection(name: str) -> Any:
    coll = _collection(name)
    tsa = tsa_config(_home(), current_app.config["SETTINGS"])
    seals: list[dict[str, Any]] = []
    for stored in reversed(stored_seals(coll)):
        value = stored.seal_file.read_text(encoding="ascii", errors="replace").strip()
        if stored.token_file is None:
            seals.append({"name": stored.name, "value": value, "stamped": None, "note": ""})
            continue
        try:
            stamp = verify_stamp(stored, tsa)
        except TimestampError as exc:
            seals.append({"name": stored.name, "value": value, "stamped": False, "note": str(exc)})
        else:
            seals.append({"name": stored.name, "value": value, "stamped": True,
                          "when": stamp.time, "authority": stamp.authority,
                          "note": "" if stamp.signer_checked else _(
                              "who signed it was not checked: WARC_STORE_SEAL_TSA_CA_FILE is not set")})
    return render_template("audit_collection.html", name=name, seals=seals,
                           reports=[p.name for p in _reports(name)][:20])


@blueprint.route("/audit/<name>/run", methods=["POST"])
@requires("audit")
def run(name: str) -> Any:
    coll = _collection(name)
    job = _audit_job(coll, name, _home(), current_app.config["DB"], current_app.config["SETTINGS"],
                     url_for("audit.collection", name=name))
    work = current_app.config["WORK"].start(_("Verify and 四性 audit of %(name)s", name=name),
                                            g.user.name, current(), job)
    return redirect(url_for("work.work", ident=work.ident))


def _audit_job(coll: Collection, name: str, home: Home, db: Any, settings: Any, page: str) -> Any:
    """The audit as `weidang audit` runs it, its report kept under the home, told on the work's
    page; run outside the request (``weidang.web.work``)."""
    def job(work: Work) -> None:
        from catalog.audit import AuditContext, run_audit  # noqa: PLC0415
        from weidang.audit_report import render_html  # noqa: PLC0415

        _ = fixed(work.lang)
        ctx = AuditContext(coll, name, db, home.root, workers=settings["WARC_STORE_VERIFY_WORKERS"],
                           tsa=tsa_config(home, settings))
        report = run_audit(ctx)  # verifies the collection once (ctx.verify) and runs every check
        path = _report_path(home, name, ctx.now)
        path.write_text(render_html(report), encoding="utf-8")
        verified = ctx.verify
        counts = report.counts()
        work.say(_("Verify: %(files)s files, %(mb)s MB re-hashed: %(verdict)s.", files=len(verified.files),
                   mb=f"{verified.bytes_checked / 1e6:,.1f}",
                   verdict=_("all checks passed") if verified.ok else _("PROBLEMS FOUND")),
                 "info" if verified.ok else "error")
        work.say(_("四性 audit: %(passed)s passed, %(failed)s failed, %(na)s not applicable.",
                   passed=counts["passed"], failed=counts["failed"], na=counts["not_applicable"]),
                 "info" if report.ok else "error")
        work.result = f"{page}?{urlencode({'report': path.name})}"
    return job


def _report_path(home: Home, name: str, when: dt.datetime) -> Path:
    folder = home.root / REPORTS
    folder.mkdir(mode=0o700, exist_ok=True)
    base = f"{name}-{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    path, n = folder / f"{base}.html", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.html"
    return path


@blueprint.route("/audit/<name>/reports/<report>")
@requires("audit")
def report(name: str, report: str) -> Any:
    _collection(name)
    if report not in {p.name for p in _reports(name)}:
        abort(404)
    response = send_file(_home().root / REPORTS / report, mimetype="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


@blueprint.route("/audit/<name>/events")
@requires("audit")
def events(name: str) -> Any:
    entries = _collection(name).events.entries()
    pages = max(1, -(-len(entries) // EVENTS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    newest_first = list(reversed(entries))
    shown = [{**e, "detail_text": json.dumps(e.get("detail", {}), ensure_ascii=False, sort_keys=True)}
             for e in newest_first[(page - 1) * EVENTS_PER_PAGE:page * EVENTS_PER_PAGE]]  # 中文 as is
    return render_template("audit_events.html", name=name, entries=shown, page=page, pages=pages,
                           total=len(entries))
