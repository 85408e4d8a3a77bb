"""`weidang index rebuild|status`: recreate the search index from the catalog, or compare them."""

from __future__ import annotations

import sys

import click

from weidang.context import AppContext, pass_app
from weidang.indexing import catalog_versions, open_search_index, rebuild_index, where_index


@click.group("index")
def command() -> None:
    """Rebuild the search index from the catalog, or see whether it is complete."""


@command.command("rebuild")
@pass_app
def rebuild_command(app: AppContext) -> int:
    """Recreate the search index (CATALOG_SEARCH_BACKEND) from every post version of the catalog.

    Searches keep answering from the old index until the new one is complete. Run it after
    `weidang catalog rebuild`, after changing the backend, or when a harvest warned that it
    could not index its posts.
    """
    total = catalog_versions(app.home, app.settings)
    with click.progressbar(length=total, label="Indexing post versions", show_pos=True,
                           file=sys.stderr) as bar:
        done = rebuild_index(app.home, app.settings, progress=bar.update)
    click.echo(f"Rebuilt the {done.backend} search index ({done.where}) from the catalog: "
               f"{done.indexed:,} post versions in {done.seconds:.1f} s.")
    return 0


@command.command("status")
@pass_app
def status_command(app: AppContext) -> int:
    """Say where the search index is and whether it holds every post version of the catalog."""
    with open_search_index(app.home, app.settings) as index:
        indexed, backend = index.count(), index.backend
    total = catalog_versions(app.home, app.settings)
    click.echo(f"Search index: {backend}, {where_index(app.home, app.settings)}.")
    if indexed == total:
        click.echo(f"It holds {indexed:,} post versions, as many as the catalog.")
        return 0
    click.echo(f"It holds {indexed:,} post versions, the catalog {total:,}: run "
               "`weidang index rebuild` to bring it up to date.")
    return 1
