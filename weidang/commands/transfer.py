"""`weidang transfer`: transfer (移交) packages of kept posts, and their check on the receiving side."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from weidang.context import AppContext, pass_app
from weidang.i18n import _
from weidang.store import catalog_db
from weidang.transferring import create_transfer


@click.group("transfer", short_help="Transfer (移交) packages: create one, or verify one received.")
def command() -> None:
    """Transfer (移交) packages: BagIt bags of WACZ files, DA/T 46 metadata, a register and a form."""


@command.command("create")
@click.argument("posts", nargs=-1, metavar="[PLATFORM:POST_ID]...")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="The package folder to write (new, or empty).")
@click.option("--account", default=None, help="Posts of this account (id or name).")
@click.option("--year", type=int, default=None, help="Posts published in this year (China time).")
@click.option("--topic", default=None, metavar="NAME", help="Posts of the topic (专题) NAME.")
@click.option("--by", "actor", default=None, help="Who transfers (default: the logged-in user).")
@pass_app
def create(app: AppContext, posts: tuple[str, ...], out: Path, account: str | None,
           year: int | None, topic: str | None, actor: str | None) -> int:
    """Write a transfer package of the kept posts selected (discarded ones are left out).

    Select by account and year, by topic, or name posts. Demo data is never packaged with
    real captures.
    """
    made = create_transfer(app, out, posts, account, year, topic, actor or getpass.getuser())
    click.echo(_("Transfer package: %(folder)s", folder=made.folder))
    click.echo("  " + _("%(items)s kept posts (%(discarded)s discarded and %(unappraised)s not appraised "
                        "left out); payload %(files)s files, %(bytes)s bytes", items=made.items,
                        discarded=made.discarded, unappraised=made.unappraised,
                        files=made.payload_files, bytes=f"{made.payload_bytes:,}")
               + ("; " + _("DEMO DATA") if made.demo else ""))
    click.echo("  " + _("Package digest (SHA-256 of manifest-sha256.txt): %(digest)s",
                        digest=made.payload_sha256))
    click.echo("  " + _("Audit of the package (四性): %(verdict)s; transfer form (移交登记表): %(form)s",
                        verdict=_("passed") if made.audit_ok else _("FAILED"),
                        form=made.folder / "transfer-form" / "transfer-form.pdf"))
    events = ", ".join(_("%(collection)s event %(seq)s", collection=name, seq=seq)
                       for name, (seq, _hash) in made.events.items())
    click.echo("  " + _("Recorded: the transfer event (%(events)s) and a row of the catalog's "
                        "transfers table.", events=events))
    return 0 if made.audit_ok else 1


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per package and line.")
@pass_app
def list_(app: AppContext, as_json: bool) -> int:
    """The packages written from this archive (the catalog's transfers table), oldest first."""
    import json  # noqa: PLC0415
    from dataclasses import asdict  # noqa: PLC0415

    from catalog.transfer.record import transfer_rows  # noqa: PLC0415

    with catalog_db(app.home, app.settings) as db, db.read() as conn:
        rows = transfer_rows(conn)
    for row in rows:
        if as_json:
            click.echo(json.dumps(asdict(row), ensure_ascii=False))
        else:
            demo = "  " + _("DEMO DATA") if row.demo else ""
            click.echo(_("%(at)s  %(id)s  %(items)s posts  %(bytes)s bytes  %(selection)s  → %(folder)s",
                         at=row.created_at, id=row.transfer_id, items=row.items,
                         bytes=f"{row.payload_bytes:,}", selection=row.selection, folder=row.folder) + demo)
    if not rows and not as_json:
        click.echo(_("No transfer package has been written yet (`weidang transfer create`)."))
    return 0


@command.command("verify")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--tsa-ca", "ca_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The time-stamping authority's CA certificate (PEM): who signed the seal's token.")
def verify(folder: Path, ca_file: Path | None) -> int:
    """Check a package on its own (no catalog, no home needed): BagIt manifests, SM3
    manifests, each WACZ's hashes, the seal and its time-stamp. Exit status 1 on any failure."""
    from catalog.transfer.verify import verify_package  # noqa: PLC0415

    if not folder.is_dir():
        raise click.BadParameter(_("%(folder)s is not a folder", folder=folder), param_hint="FOLDER")
    check = verify_package(folder, ca_file)
    demo = " (" + _("DEMO DATA") + ")" if check.demo else ""
    click.echo(_("Transfer package check: %(folder)s", folder=folder) + demo)
    for note in check.notes:
        click.echo(f"  ✓ {note}")
    for problem in check.problems:
        click.echo(f"  ✗ {problem}")
    if check.ok:
        click.echo("  " + _("All checks passed: %(files)s payload files, %(bytes)s bytes.",
                            files=check.payload_files, bytes=f"{check.payload_bytes:,}"))
        return 0
    click.echo("  " + _("PROBLEMS FOUND: %(n)s.", n=len(check.problems)))
    return 1

