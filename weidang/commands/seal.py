"""`weidang seal`: a value to write down outside the collection, time-stamped by a TSA if one is set."""

from __future__ import annotations

import click

from warc_store import make_seal
from warc_store.seal import SEALS, Seal, StoredSeal, seal_bytes, store_seal
from warc_store.timestamp import Stamp, TimestampError, request_token
from weidang.context import AppContext, pass_app
from weidang.i18n import _, china_time
from weidang.store import open_collection, tsa_config


@click.command("seal")
@click.option("--collection", "name", default="default", show_default=True, help="Collection name.")
@click.option("--timestamp/--no-timestamp", default=None,
              help="Have the time-stamping authority (WARC_STORE_SEAL_TSA_URL) sign the seal; by "
                   "default when one is set. With --timestamp, no token means exit status 1.")
@pass_app
def command(app: AppContext, name: str, timestamp: bool | None) -> int:
    """Print a seal value to record outside the collection (time-stamped if a TSA is set).

    The value fixes the event chain's head and the manifest's digest. It is also kept in the
    collection's seals/ folder, with an RFC 3161 time-stamp token when one was obtained.
    """
    collection = open_collection(app.home, name)
    seal = make_seal(collection)
    click.echo(str(seal))
    tsa = tsa_config(app.home, app.settings)
    wanted = timestamp if timestamp is not None else bool(tsa.url)
    token, stamp, missing = None, None, ""
    if wanted:
        try:
            token, stamp = request_token(seal_bytes(seal), tsa)
        except TimestampError as exc:
            missing = str(exc)
    stored = None
    if collection.writable():
        stored = store_seal(collection, seal, token)
    elif token is not None:
        token = None
        missing = _("the collection %(folder)s is read-only, so the token could not be kept",
                    folder=collection.root)
    _tell(seal, stored, stamp if token is not None else None, missing)
    return 1 if timestamp and token is None else 0


def _tell(seal: Seal, stored: StoredSeal | None, stamp: Stamp | None, missing: str) -> None:
    click.echo(_("Write this value down outside the collection (a register, a printed form). Later, "
                 "`weidang verify --seal VALUE` proves that the collection still extends it: event "
                 "%(event)s and the first %(lines)s manifest entries unchanged.", event=seal.event_seq,
                 lines=seal.manifest_lines), err=True)
    if stored is not None:
        click.echo(_("Kept in %(file)s.", file=stored.seal_file), err=True)
    if stamp is not None and stored is not None and stored.token_file is not None:
        click.echo(_("Time-stamped at %(when)s by %(authority)s; the token is %(file)s. It proves the seal "
                     "existed then.", when=china_time(stamp.time, seconds=True), authority=stamp.authority,
                     file=stored.token_file), err=True)
        if not stamp.signer_checked:
            click.echo(_("Note: WARC_STORE_SEAL_TSA_CA_FILE is not set, so who signed the token was not "
                         "checked; set it to the time-stamping authority's CA certificate."), err=True)
    elif missing:
        click.echo(_("No time-stamp: %(why)s. The seal itself is valid and was still kept in %(folder)s; run "
                     "`weidang seal` again once the time-stamping authority can be reached.", why=missing,
                     folder=SEALS + "/") if stored else
                   _("No time-stamp: %(why)s. The seal itself is valid and was still printed; run `weidang "
                     "seal` again once the time-stamping authority can be reached.", why=missing), err=True)
