"""`weidang seal`: a value to write down outside the collection."""

from __future__ import annotations

import click

from warc_store import make_seal
from weidang.context import AppContext, pass_app
from weidang.store import open_collection


@click.command("seal")
@click.option("--collection", "name", default="default", show_default=True, help="Collection name.")
@pass_app
def command(app: AppContext, name: str) -> int:
    """Print a seal value to record outside the collection.

    The value fixes the event chain's head and the manifest's digest.
    """
    seal = make_seal(open_collection(app.home, name))
    click.echo(str(seal))
    click.echo(f"Write this value down outside the collection (a register, a printed form). Later, "
               f"`weidang verify --seal VALUE` proves that the collection still extends it: event "
               f"{seal.event_seq} and the first {seal.manifest_lines} manifest entries unchanged.",
               err=True)
    return 0
