"""`weidang catalog rebuild|repair`: recreate or repair the catalog's post tables from the WARC files."""

from __future__ import annotations

import sys

import click

from catalog.errors import CatalogError
from warc_store import Collection
from weidang.context import AppContext, pass_app
from weidang.i18n import _
from weidang.indexing import catch_up_index
from weidang.store import catalog_db, open_collection, recover_and_warn


def _collections(app: AppContext, names: tuple[str, ...]) -> list[Collection]:
    existing = {p.name for p in app.home.collections() if (p / "warcs").is_dir()}
    for name in names:
        if name not in existing:
            raise CatalogError(_("there is no collection %(name)s in %(home)s", name=name,
                                 home=app.home.root))
    chosen = list(names) or sorted(existing)
    if not chosen:
        raise CatalogError(_("there is no collection in %(home)s to read posts from", home=app.home.root))
    return [open_collection(app.home, name) for name in chosen]


@click.group("catalog")
def command() -> None:
    """Recreate or repair the catalog's post tables from the WARC files."""


@command.command("rebuild")
@click.option("--collection", "names", multiple=True, metavar="NAME",
              help="Collection to read (repeatable; default: every collection of the home).")
@pass_app
def rebuild_command(app: AppContext, names: tuple[str, ...]) -> int:
    """Drop the post tables (posts, versions, media, statuses) and recreate them from the metadata
    records of every WARC file. Accounts, run history and pauses are kept."""
    collections = _collections(app, names)
    for collection in collections:  # rebuild reads dead writers' files: only the collection's own
        recover_and_warn(collection)
    from catalog.rebuild import rebuild, warc_files  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    total = sum(len(warc_files(c)) for c in collections)
    with catalog_db(app.home, app.settings) as db:
        with click.progressbar(length=total, label=_("Reading WARC files"), show_pos=True,
                               file=sys.stderr) as bar:
            summary = rebuild(db, collections, progress=lambda _path: bar.update(1))
    where = ", ".join(c.name for c in collections)
    click.echo(_("Rebuilt the post tables from %(files)s WARC files (%(where)s): %(records)s metadata "
                 "records, %(posts)s posts, %(versions)s versions, %(statuses)s status events.",
                 files=summary.files, where=where, records=summary.metadata_records, posts=summary.posts,
                 versions=summary.versions, statuses=summary.statuses))
    return _problems(summary.problems)


@command.command("repair")
@click.option("--collection", "names", multiple=True, metavar="NAME",
              help="Collection to read (repeatable; default: every collection of the home).")
@pass_app
def repair_command(app: AppContext, names: tuple[str, ...]) -> int:
    """Record the posts that reached the WARC files but not the catalog (after a crash).

    Files left open by a harvest that died are closed first, as every harvest does."""
    from catalog.rebuild import repair  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    problems: list[str] = []
    with catalog_db(app.home, app.settings) as db:
        for collection in _collections(app, names):
            recover_and_warn(collection)
            summary = repair(db, collection)
            problems += summary.problems
            click.echo(_("%(collection)s: %(records)s post metadata records in the index. Recorded "
                         "%(added)s metadata records the catalog lacked.", collection=collection.name,
                         records=summary.metadata_records, added=summary.added))
            if summary.dropped:
                click.echo("  " + _("Dropped %(dropped)s catalog entries of %(posts)s posts whose metadata "
                                    "record is in no WARC file (lost when the machine stopped); the next "
                                    "harvest captures them again.", dropped=summary.dropped,
                                    posts=len(summary.dropped_posts)))
    # What the repair recorded is searchable at once (the index follows the catalog).
    catch_up_index(app.home, app.settings, _("the repaired catalog is safe, but"))
    return _problems(problems)


def _problems(problems: list[str]) -> int:
    for problem in problems:
        click.echo("  " + _("Problem: %(problem)s", problem=problem), err=True)
    if problems:
        click.echo(_("%(n)s problems: the records concerned are not in the catalog (run `weidang verify` "
                     "to check the files).", n=len(problems)), err=True)
    return 1 if problems else 0
