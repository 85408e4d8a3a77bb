"""`weidang index rebuild|status`: recreate the search index from the catalog, or compare them."""

from __future__ import annotations

import sys

import click

from weidang.context import AppContext, pass_app
from weidang.i18n import _
from weidang.indexing import (
    catalog_versions,
    index_lag_of,
    open_search_index,
    rebuild_index,
    where_index,
)


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
    with click.progressbar(length=total, label=_("Indexing post versions"), show_pos=True,
                           file=sys.stderr) as bar:
        done = rebuild_index(app.home, app.settings, progress=bar.update)
    click.echo(_("Rebuilt the %(backend)s search index (%(where)s) from the catalog: %(n)s post versions "
                 "in %(seconds)s s.", backend=done.backend, where=done.where, n=f"{done.indexed:,}",
                 seconds=f"{done.seconds:.1f}"))
    return 0


@command.command("status")
@pass_app
def status_command(app: AppContext) -> int:
    """Say where the search index is and whether it holds every post version of the catalog."""
    with open_search_index(app.home, app.settings) as index:
        backend = index.backend
        lag = index_lag_of(app.home, app.settings, index)
    click.echo(_("Search index: %(backend)s, %(where)s.", backend=backend,
                 where=where_index(app.home, app.settings)))
    indexed = f"{lag.indexed:,}"
    if not lag.behind:
        click.echo(_("It holds %(n)s post versions, as many as the catalog.", n=indexed))
        return 0
    if lag.indexed != lag.catalog:
        click.echo(_("It holds %(n)s post versions, the catalog %(catalog)s: run `weidang index rebuild` to "
                     "bring it up to date.", n=indexed, catalog=f"{lag.catalog:,}"))
    else:
        click.echo(_("It holds %(n)s post versions, as many as the catalog, but not the catalog's latest "
                     "changes: run `weidang index rebuild` to bring it up to date.", n=indexed))
    return 1
