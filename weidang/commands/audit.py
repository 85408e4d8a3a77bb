"""`weidang audit`: the 四性 (four-property, DA/T 70) audit report of a collection."""

from __future__ import annotations

import json
from pathlib import Path

import click

from warc_store import Collection, Seal, StoreError
from weidang.context import AppContext, pass_app
from weidang.home import DEFAULT_COLLECTION
from weidang.i18n import _
from weidang.store import catalog_db, catalog_exists, open_collection, tsa_config


@click.command("audit", short_help="四性检测 (DA/T 70 audit) of a collection or a transfer package.")
@click.argument("target", required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as an HTML page (Chinese and English) to this file.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as JSON to this file ('-' prints it instead of the summary).")
@click.option("--seal", "seal_value", metavar="VALUE",
              help="Also check the collection still extends this seal (as `weidang seal` printed it); "
              "the seals kept in its seals/ folder are always checked.")
@click.option("--workers", type=int, default=None, help="Processes for re-hashing (default: one per core).")
@pass_app
def command(app: AppContext, target: str | None, html_file: Path | None, json_file: Path | None,
            seal_value: str | None, workers: int | None) -> int:
    """四性检测 (authenticity, integrity, usability, security) of a collection or transfer package.

    TARGET is a collection of the home (its name, default "default"), a collection folder, or a
    transfer package folder (`weidang transfer create`; audited on its own, without the catalog).
    Every check gets one row: passed, failed or not applicable, with its evidence. Exit status
    0 only when no check failed.
    """
    from catalog.audit import AuditContext, run_audit  # noqa: PLC0415 - loads SQLAlchemy
    from weidang.audit_report import render_html, summary_lines  # noqa: PLC0415

    if target is not None and (Path(target) / "bagit.txt").is_file():
        from catalog.audit import PackageContext  # noqa: PLC0415

        report = run_audit(PackageContext(Path(target), tsa_config(app.home, app.settings).ca_file),
                           "package")
    else:
        collection, name, in_home = _collection(app, target)
        workers = workers if workers is not None else app.settings["WARC_STORE_VERIFY_WORKERS"]
        db = catalog_db(app.home, app.settings) if in_home and catalog_exists(app.home, app.settings) \
            else None
        try:
            ctx = AuditContext(collection, name, db, app.home.root if in_home else None,
                               seal=Seal.parse(seal_value) if seal_value else None,
                               workers=workers, tsa=tsa_config(app.home, app.settings))
            report = run_audit(ctx)
        finally:
            if db is not None:
                db.close()
    if html_file is not None:
        html_file.write_text(render_html(report), encoding="utf-8")
    data = json.dumps(report.to_json(), ensure_ascii=False, indent=2)
    if json_file is not None and str(json_file) == "-":
        click.echo(data)
    else:
        if json_file is not None:
            json_file.write_text(data + "\n", encoding="utf-8")
        click.echo("\n".join(summary_lines(report)))
        for what, where in (("HTML", html_file), ("JSON", json_file)):
            if where is not None:
                click.echo("  " + _("%(what)s report: %(file)s", what=what, file=where))
    return 0 if report.ok else 1


def _collection(app: AppContext, target: str | None) -> tuple[Collection, str, bool]:
    """The collection, its name, and whether it is one of the home's (so the catalog is its)."""
    name = target or DEFAULT_COLLECTION
    if "/" in name or (not app.home.collection_dir(name).is_dir() and Path(name).is_dir()):
        folder = Path(name)
        if not (folder / "manifest.jsonl").exists():
            raise StoreError(_("%(folder)s is not a collection folder (it has no manifest.jsonl), nor "
                               "a transfer package (it has no bagit.txt)", folder=folder))
        inside = folder.resolve().parent == (app.home.root / "collections").resolve()
        return Collection.open(folder), folder.name, inside
    if not app.home.collection_dir(name).is_dir():
        raise StoreError(_("there is no collection %(name)s in %(home)s", name=repr(name),
                           home=app.home.root))
    return open_collection(app.home, name), name, True
