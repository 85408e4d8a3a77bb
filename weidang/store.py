"""The face's access to the stores: settings in; a collection, capture writer or catalog out."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from warc_store import Collection
from weidang.home import DEFAULT_COLLECTION, Home
from weidang.settings import Settings

if TYPE_CHECKING:
    from catalog.credentials import CredentialStore
    from catalog.db import Database
    from warc_store import CaptureWriter, Recovered, RedactionPolicy, StoreConfig
    from warc_store.timestamp import TsaConfig

# What only some commands use (the capture writer with warcio, recovery, the credential store)
# loads in the function that uses it: every command's start, `weidang verify`'s too, pays for
# what this module imports at the top.


def store_config(settings: Settings) -> StoreConfig:
    from warc_store import StoreConfig  # noqa: PLC0415 - see the note at the top

    return StoreConfig(
        compress_level=settings["WARC_STORE_COMPRESS_LEVEL"],
        max_size=settings["WARC_STORE_MAX_SIZE"],
        max_age_seconds=settings["WARC_STORE_MAX_AGE_SECONDS"],
        prefix=settings["WARC_STORE_PREFIX"],
    )


def redaction_policy(settings: Settings, secret_values: list[str] | None = None) -> RedactionPolicy:
    from warc_store import RedactionPolicy  # noqa: PLC0415 - see the note at the top

    return RedactionPolicy.build(settings["WARC_STORE_REDACT_HEADERS"],
                                 settings["WARC_STORE_REDACT_PARAMS"], secret_values or [])


def open_collection(home: Home, name: str = DEFAULT_COLLECTION, create: bool = False) -> Collection:
    path = home.collection_dir(name)
    return Collection.create(path) if create else Collection.open(path)


def capture_writer(collection: Collection, settings: Settings, info: Mapping[str, str],
                   secret_values: list[str] | None = None) -> CaptureWriter:
    """A writer for this process, after recovering files that dead writers left open."""
    from warc_store import CaptureWriter  # noqa: PLC0415 - see the note at the top

    recover_and_warn(collection)
    return CaptureWriter(collection, store_config(settings),
                         redaction_policy(settings, secret_values), dict(info))


def recover_and_warn(collection: Collection) -> list[Recovered]:
    """Recover what dead writers left open; a file the collection did not begin is set aside,
    and the archivist is told at once (the collection's event log records it too)."""
    from warc_store import recover  # noqa: PLC0415 - see the note at the top
    from warc_store.recovery import quarantine_warnings  # noqa: PLC0415

    done = recover(collection)
    for warning in quarantine_warnings(collection, done):
        click.echo(f"Warning: {warning}", err=True)
    return done


def collection_of(path: Path) -> Collection | None:
    """The collection a WARC file belongs to (its folder's parent), if it is one."""
    root = path.resolve().parent.parent
    if path.resolve().parent.name == "warcs" and (root / "manifest.jsonl").exists():
        return Collection.open(root)
    return None


def home_path(home: Home, settings: Settings, setting: str) -> Path:
    """A file named by a setting, under the home (an absolute setting replaces the home)."""
    return home.root / str(settings[setting])


def tsa_config(home: Home, settings: Settings) -> TsaConfig:
    from warc_store.timestamp import TsaConfig  # noqa: PLC0415 - the time-stamp client loads only to seal or verify

    ca = str(settings["WARC_STORE_SEAL_TSA_CA_FILE"])
    return TsaConfig(url=settings["WARC_STORE_SEAL_TSA_URL"],
                     ca_file=home_path(home, settings, "WARC_STORE_SEAL_TSA_CA_FILE") if ca else None,
                     timeout=settings["WARC_STORE_SEAL_TSA_TIMEOUT_SECONDS"])


def catalog_target(home: Home, settings: Settings) -> Path | str:
    """The catalog's URL (``CATALOG_URL``), else its SQLite file in the home."""
    return str(settings["CATALOG_URL"]) or home_path(home, settings, "CATALOG_DB_FILE")


def catalog_exists(home: Home, settings: Settings) -> bool:
    """Whether there is a catalog to read (one on a server always is)."""
    target = catalog_target(home, settings)
    return isinstance(target, str) or target.exists()


def catalog_db(home: Home, settings: Settings, wait: bool = False) -> Database:
    """``wait``: a harvest waits out a catalog server's short outage (a command fails at once)."""
    from catalog.db import open_catalog  # noqa: PLC0415 - SQLAlchemy loads when a command opens the catalog, not for --help

    home.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    seconds = float(settings["CATALOG_UNREACHABLE_WAIT_SECONDS"]) if wait else 0.0
    return open_catalog(catalog_target(home, settings), seconds, _warn_line)


def _warn_line(text: str) -> None:
    click.echo(f"weidang: {text}", err=True)


def credential_store(home: Home, settings: Settings) -> CredentialStore:
    from catalog.credentials import CredentialStore  # noqa: PLC0415 - see the note at the top

    return CredentialStore(home_path(home, settings, "CATALOG_CREDENTIALS_FILE"))
