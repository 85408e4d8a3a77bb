"""The end of `weidang demo`: the archival half on what it captured. Every post is appraised
(kept, one discarded to show that a discard stays out of transfer), a transfer package of the
kept posts is written, and the collection's 四性 audit report, all in the demo home, through
the same functions `weidang appraise`, `weidang transfer create` and `weidang audit` use."""

from __future__ import annotations

from pathlib import Path

from weidang.appraising import collection_source, event_sink, now
from weidang.context import AppContext
from weidang.i18n import _
from weidang.store import catalog_db, open_collection
from weidang.transferring import form_renderer, package_auditor, transfer_id, transfer_sink

DEMO_CODES = ("DEMO", "XM", "BGS")  # 全宗号, 门类代码, 机构代码: plainly not an archive's own
DEMO_REVIEWER = "weidang-demo"
RETENTION = "永久"


def archival_demo(app: AppContext) -> list[str]:
    """Appraise, transfer and audit the demo home's collection; lines saying where things are."""
    from sqlalchemy import select  # noqa: PLC0415

    from catalog.appraisal import ArchiveCodes, Ask, appraise  # noqa: PLC0415
    from catalog.schema import posts  # noqa: PLC0415
    from catalog.transfer.create import TransferAsk, create_package  # noqa: PLC0415

    codes = ArchiveCodes(*(str(app.settings[f"CATALOG_ARCHIVE_{part}"]) or default for part, default
                           in zip(("FONDS", "CATEGORY", "UNIT"), DEMO_CODES, strict=True)))
    with catalog_db(app.home, app.settings) as db:
        with db.read() as conn:
            keys = [(str(p), str(i)) for p, i in conn.execute(
                select(posts.c.platform, posts.c.post_id).order_by(posts.c.platform, posts.c.post_id))]
        if not keys:
            return [_("Nothing was captured, so nothing was appraised or transferred.")]
        sink = event_sink(app)
        kept = appraise(db, keys[1:] or keys, Ask(True, RETENTION, DEMO_REVIEWER), codes, sink, now)
        discarded = appraise(db, keys[:1] if len(keys) > 1 else [],
                             Ask(False, "定期10年", DEMO_REVIEWER, reason="演示：重复转发 (demo)"),
                             codes, sink, now)
        when = now()
        out = app.home.root / "transfers" / transfer_id(when)
        out.parent.mkdir(exist_ok=True)
        ask = TransferAsk(out, "演示：全部保存的帖文 demo: every kept post", DEMO_REVIEWER,
                          out.name, when)
        made = create_package(db, keys, ask, collection_source(app), transfer_sink(app),
                              package_auditor(None),
                              form_renderer(str(app.settings["CRAWLER_BROWSER_EXECUTABLE"])))
    report = _audit_report(app)
    return [_("Appraised %(n)s posts: %(kept)s kept (%(retention)s, 档号 %(code)s …), %(discarded)s "
              "discarded (left out of transfer).", n=len(kept) + len(discarded), kept=len(kept),
              retention=RETENTION, code=kept[0].code, discarded=len(discarded)),
            _("Transfer package (移交包): %(folder)s (%(items)s posts, %(bytes)s bytes; its form: "
              "transfer-form/transfer-form.pdf). Check it with: weidang transfer verify %(folder)s",
              folder=made.folder, items=made.items, bytes=f"{made.payload_bytes:,}"),
            _("四性 audit report: %(path)s", path=report)]


def _audit_report(app: AppContext) -> Path:
    from catalog.audit import AuditContext, run_audit  # noqa: PLC0415
    from weidang.audit_report import render_html  # noqa: PLC0415

    with catalog_db(app.home, app.settings) as db:
        report = run_audit(AuditContext(open_collection(app.home), "default", db, app.home.root,
                                        workers=app.settings["WARC_STORE_VERIFY_WORKERS"]))
    path = app.home.root / "audit-report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path
