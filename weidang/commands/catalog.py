"""`weidang catalog rebuild|repair`: recreate or repair the catalog's post tables from the WARC files."""

from __future__ import annotations

import sys

import click

from catalog.errors import CatalogError
from warc_store import Collection
from weidang.context import AppContext, pass_app
from weidang.indexing import catch_up_index
from weidang.store import catalog_db, open_collection, recover_and_warn


def _collections(app: AppContext, names: tuple[str, ...]) -> list[Collection]:
    existing = {p.name for p in app.home.collections() if (p / "warcs").is_dir()}
    for name in names:
        if name not in existing:
            raise CatalogError(f"there is no collection {name} in {app.home.root}")
    chosen = list(names) or sorted(existing)
    if not chosen:
        raise CatalogError(f"there is no collection in {app.home.root} to read posts from")
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
        with click.progressbar(length=total, label="Reading WARC files", show_pos=True,
                               file=sys.stderr) as bar:
            summary = rebuild(db, collections, progress=lambda _path: bar.update(1))
    where = ", ".join(c.name for c in collections)
    click.echo(f"Rebuilt the post tables from {summary.files} WARC files ({where}): "
               f"{summary.metadata_records} metadata records, {summary.posts} posts, "
               f"{summary.versions} versions, {summary.statuses} status events.")
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
            click.echo(f"{collection.name}: {summary.metadata_records} post metadata records in the "
                       f"index. Recorded {summary.added} metadata records the catalog lacked.")
            if summary.dropped:
                click.echo(f"  Dropped {summary.dropped} catalog entries of "
                           f"{len(summary.dropped_posts)} posts whose metadata record is in no WARC "
                           "file (lost when the machine stopped); the next harvest captures them "
                           "again.")
    # What the repair recorded is searchable at once (the index follows the catalog).
    catch_up_index(app.home, app.settings, "the repaired catalog is safe, but")
    return _problems(problems)


def _problems(problems: list[str]) -> int:
    for problem in problems:
        click.echo(f"  Problem: {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problems: the records concerned are not in the catalog "
                   "(run `weidang verify` to check the files).", err=True)
    return 1 if problems else 0
