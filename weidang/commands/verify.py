"""`weidang verify`: prove that not one byte of a collection changed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from warc_store import Collection, Seal, StoreError, VerifyReport, check_files, verify_collection
from warc_store.timestamp import TsaConfig
from weidang.context import AppContext, pass_app
from weidang.i18n import N_, _
from weidang.store import collection_of, open_collection, tsa_config


@click.command("verify")
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report for machines.")
@click.option("--seal", "seal_value", metavar="VALUE",
              help="Also check that the collection still extends this sealed state.")
@click.option("--workers", type=int, default=None, help="Processes to use (default: one per core).")
@pass_app
def command(app: AppContext, targets: tuple[Path, ...], as_json: bool, seal_value: str | None,
            workers: int | None) -> int:
    """Re-hash and check WARC files, manifest, event log, stored seals and time-stamps.

    TARGETS are collection folders or WARC files (default: every collection of the home).
    Exit status 0 only when every check holds.
    """
    seal = Seal.parse(seal_value) if seal_value else None
    workers = workers if workers is not None else app.settings["WARC_STORE_VERIFY_WORKERS"]
    tsa = tsa_config(app.home, app.settings)
    reports = [_verify(target, workers, seal, tsa, as_json) for target in _resolve(app, targets)]
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            _print(report)
    return 0 if all(r.ok for r in reports) else 1


def _resolve(app: AppContext, targets: tuple[Path, ...]) -> list[Collection | Path]:
    if not targets:
        if not app.home.collections():
            raise StoreError(_("there is no collection to verify in %(home)s", home=app.home.root))
        return [open_collection(app.home, p.name) for p in app.home.collections()]
    out: list[Collection | Path] = []
    for target in targets:
        if target.is_dir():
            out.append(Collection.open(target))
        elif target.is_file():
            out.append(target)
        else:
            raise StoreError(_("%(target)s is neither a collection folder nor a WARC file", target=target))
    return out


def _verify(target: Collection | Path, workers: int, seal: Seal | None, tsa: TsaConfig,
            quiet: bool) -> VerifyReport:
    with click.progressbar(length=0, label=_("Verifying"), show_pos=True, hidden=quiet,
                           file=sys.stderr) as bar:
        def progress(_check: object) -> None:
            bar.update(1)

        if isinstance(target, Collection):
            bar.length = len(target.closed_files())
            return verify_collection(target, workers, seal, progress, tsa=tsa)
        collection = collection_of(target)
        if collection is not None:
            bar.length = 1
            return verify_collection(collection, workers, seal, progress, only=[target], tsa=tsa)
        if seal is not None:
            raise StoreError(_("%(target)s is not inside a collection, so there is no seal to check",
                               target=target))
        report = VerifyReport(collection=None)
        report.files = check_files([target], workers, progress)
        report.bytes_checked = sum(f.size for f in report.files)
        return report


def _print(report: VerifyReport) -> None:
    where = report.collection or _("(files outside any collection)")
    click.echo(_("Collection %(where)s", where=where))
    if report.demo:
        click.echo("  " + _("Note: this collection holds demo data written by `weidang demo`, not captures."))
    for f in report.files:
        mark = _("ok") if f.ok else _("BAD")
        click.echo(f"  {mark:3} {f.name}  " + _("%(size)s bytes, %(records)s records", size=f"{f.size:,}",
                                                records=f.records))
        click.echo(f"       sha256 {f.sha256}")
        click.echo(f"       sm3    {f.sm3}")
        if f.error:
            click.echo(f"       {f.error}")
        for bad in f.bad_records:
            rid = f" {bad.record_id}" if bad.record_id else ""
            click.echo("       " + _("offset %(offset)s (+%(length)s bytes)", offset=bad.offset,
                                         length=bad.length) + f"{rid} {bad.record_type}: "
                       + "; ".join(bad.problems))
    for title, items in ((N_("Missing (in the manifest, not on disk)"), report.missing),
                         (N_("Unexpected (on disk, not in the manifest)"), report.unexpected),
                         (N_("Differs from the manifest"), report.mismatched),
                         (N_("Manifest"), report.manifest_problems),
                         (N_("Event log"), report.chain_problems),
                         (N_("Index"), report.index_problems),
                         (N_("Manifest and event log disagree"), report.cross_problems),
                         (N_("Seal"), report.seal_problems),
                         (N_("Still open (being written, or left by a writer that died)"),
                          report.open_files)):
        for item in items:
            click.echo(f"  {_(title)}: {item}")
    for note in report.seal_notes:
        click.echo(f"  {_('Seal')}: {note}.")
    if report.not_recorded:
        click.echo("  " + _("Note: %(note)s.", note=report.not_recorded))
    mb = f"{report.bytes_checked / 1e6:,.1f}"
    verdict = _("all checks passed") if report.ok else _("PROBLEMS FOUND")
    click.echo("  " + _("%(files)s files, %(mb)s MB checked: %(verdict)s.", files=len(report.files), mb=mb,
                        verdict=verdict))
