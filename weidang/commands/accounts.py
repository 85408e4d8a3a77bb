"""`weidang accounts`: register the accounts to harvest (add, list, remove, import, export)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from catalog.account_fields import format_duration
from catalog.errors import CatalogError
from weidang import errors
from weidang.context import AppContext, pass_app
from weidang.store import catalog_db, credential_store

if TYPE_CHECKING:
    from catalog.accounts import Account, AccountRegistry


def _registry(app: AppContext) -> AccountRegistry:
    from catalog.accounts import AccountRegistry  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    return AccountRegistry(catalog_db(app.home, app.settings), via="command line")


def _schedule_text(app: AppContext, account: Account) -> str:
    schedule = account.schedule(int(app.settings["CATALOG_SCHEDULE_INTERVAL_SECONDS"]),
                                int(app.settings["CATALOG_SCHEDULE_JITTER_SECONDS"]))
    when = f"cron {schedule.cron}" if schedule.cron else f"every {format_duration(schedule.interval_seconds)}"
    text = f"{when} ± {format_duration(schedule.jitter_seconds) or '0s'}"
    return text + " (default)" if schedule.is_default else text


F = TypeVar("F", bound=Callable[..., int])


def schedule_options(function: F) -> F:
    """The schedule's options, the same in `accounts add` and `accounts schedule`: --interval (as the
    `interval` column of account lists), --cron, --jitter. --every, the old name of --interval in
    `accounts schedule`, is still taken but not shown, so that existing scripts keep working."""
    for option in reversed([
        click.option("--interval", default=None, help="How often to harvest: seconds, or 30m, 6h, 1d."),
        click.option("--every", "old_every", default=None, hidden=True),
        click.option("--cron", default=None,
                     help="Or at these times: five crontab fields, China time, e.g. '30 6 * * *'."),
        click.option("--jitter", default=None, help="Start up to this much later, e.g. 10m."),
    ]):
        function = option(function)
    return function


def _schedule_fields(interval: str | None, old_every: str | None, cron: str | None,
                     jitter: str | None) -> dict[str, str]:
    """The schedule fields given, by the names the registry takes."""
    if interval is not None and old_every is not None:
        raise click.UsageError("give --interval only once (--every is its old name)")
    given = {"interval": interval if interval is not None else old_every, "cron": cron, "jitter": jitter}
    return {k: v for k, v in given.items() if v is not None}


@click.group("accounts")
def command() -> None:
    """Register the accounts to harvest: add, list, remove, import, export."""


@command.command("add")
@click.argument("account")
@click.option("--name", default="", help="Display name, e.g. 国家档案局.")
@click.option("--credentials", default=None, metavar="NAME",
              help="Name of the login in HOME/credentials.toml (never the cookie or key itself).")
@click.option("--source", default=None, help="WeChat listing source: api, backend, feed or urls.")
@schedule_options
@click.option("--notes", default="", help="Anything to remember about the account.")
@click.option("--browser", type=click.Choice(["on", "off"]), default=None,
              help="Render its new posts' pages in Chromium (default on, where Chromium is found).")
@pass_app
def add(app: AppContext, account: str, interval: str | None, old_every: str | None, cron: str | None,
        jitter: str | None, **fields: str | None) -> int:
    """Register ACCOUNT (platform:id, e.g. weibo:1669879400)."""
    registry = _registry(app)
    given = {k: v for k, v in fields.items() if v is not None}
    added = registry.add(account, **given, **_schedule_fields(interval, old_every, cron, jitter))
    label = f"{added.key} ({added.name})" if added.name else added.key
    click.echo(f"Registered {label}; harvested {_schedule_text(app, added)}.")
    if added.credentials:
        _check_credentials(app, added.credentials)
    return 0


def _check_credentials(app: AppContext, name: str) -> None:
    """A missing login is not an error yet (it may be added later), but the archivist should know."""
    store = credential_store(app.home, app.settings)
    try:
        store.get(name)
    except CatalogError as exc:
        click.echo(f"Note: {errors.sentence(exc)} Harvests of this account need it.", err=True)


@command.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Also show removed accounts.")
@click.option("--platform", type=click.Choice(["weibo", "wechat"]), default=None, help="Only this platform.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def list_(app: AppContext, include_removed: bool, platform: str | None, as_json: bool) -> int:
    """Show the registered accounts as a table."""
    accounts = _registry(app).list(include_removed=include_removed, platform=platform)
    if as_json:
        click.echo(json.dumps([{"account": a.key, **asdict(a), "schedule": _schedule_text(app, a)}
                               for a in accounts], ensure_ascii=False, indent=2))
        return 0
    if not accounts:
        click.echo("No accounts are registered; add one with `weidang accounts add weibo:UID --name NAME`.")
        return 0
    header = ["ACCOUNT", "NAME", "CREDENTIALS", "SOURCE", "SCHEDULE", "NOTES"]
    rows = [[a.key, a.name, a.credentials or "-", a.source or "-", _schedule_text(app, a), a.notes]
            for a in accounts]
    if include_removed:
        header.insert(1, "STATUS")
        for row, a in zip(rows, accounts, strict=True):
            row.insert(1, "active" if a.active else f"removed {a.removed_at}")
    for line in _table([header, *rows]):
        click.echo(line)
    return 0


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()
            for row in rows]


@command.command("remove")
@click.argument("account")
@pass_app
def remove(app: AppContext, account: str) -> int:
    """Stop harvesting ACCOUNT; its captures and history are kept."""
    removed = _registry(app).remove(account)
    label = f"{removed.key} ({removed.name})" if removed.name else removed.key
    click.echo(f"Removed {label} from the accounts harvested; its captures and change history are kept, "
               f"and `weidang accounts add {removed.key}` restores it.")
    return 0


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_(app: AppContext, file: Path) -> int:
    """Add or update the accounts listed in FILE (.toml, .csv or .xlsx); all rows or none."""
    from catalog.account_files import import_accounts  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    result = import_accounts(_registry(app), file)
    click.echo(f"Imported {file.name}: {result.summary()}.")
    return 0


@command.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "include_removed", is_flag=True, help="Also export removed accounts.")
@pass_app
def export(app: AppContext, file: Path, include_removed: bool) -> int:
    """Write the registered accounts to FILE (.toml, .csv or .xlsx)."""
    from catalog.account_files import export_accounts  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    count = export_accounts(_registry(app).list(include_removed=include_removed), file)
    click.echo(f"Wrote {count} account(s) to {file}.")
    return 0


@command.command("schedule")
@click.argument("account")
@schedule_options
@pass_app
def schedule(app: AppContext, account: str, interval: str | None, old_every: str | None, cron: str | None,
             jitter: str | None) -> int:
    """Set when ACCOUNT is harvested; a running daemon picks it up without a restart."""
    fields = _schedule_fields(interval, old_every, cron, jitter)
    if not fields:
        raise click.UsageError("give --interval, --cron or --jitter")
    changed = _registry(app).update(account, **fields)
    click.echo(f"{changed.key} is now harvested {_schedule_text(app, changed)}.")
    return 0


@command.command("browser")
@click.argument("account")
@click.argument("switch", type=click.Choice(["on", "off"]))
@pass_app
def browser(app: AppContext, account: str, switch: str) -> int:
    """Turn browser capture of ACCOUNT's new posts on or off (README "Browser capture")."""
    changed = _registry(app).update(account, browser=switch)
    state = "rendered in Chromium and recorded" if changed.browser else "not rendered"
    click.echo(f"{changed.key}: the pages of its new posts are {state} from its next harvest.")
    return 0


@command.command("codes")
@click.argument("account")
@click.option("--fonds", required=True, help="全宗号, e.g. 0194.")
@click.option("--category", required=True, help="档案门类代码, e.g. XM.")
@click.option("--unit", required=True, help="机构（问题）代码, e.g. BGS.")
@pass_app
def codes(app: AppContext, account: str, fonds: str, category: str, unit: str) -> int:
    """Set the fonds, category and unit codes of ACCOUNT's 档号 (posts kept from now on)."""
    import datetime as dt  # noqa: PLC0415
    import getpass  # noqa: PLC0415

    from catalog.appraisal import ArchiveCodes, set_account_codes  # noqa: PLC0415 - SQLAlchemy loads with the catalog
    from catalog.identity import account_keys  # noqa: PLC0415

    chosen = ArchiveCodes(fonds.strip(), category.strip(), unit.strip()).check(f"for {account}")
    with catalog_db(app.home, app.settings) as db, db.write() as conn:
        # Every id the account is known under (a WeChat gh_ name and its __biz) gets the codes.
        keys = sorted(account_keys(conn, account))
        for key in keys:
            set_account_codes(conn, key, chosen, getpass.getuser(), dt.datetime.now(dt.UTC))
    click.echo(f"{', '.join(keys)}: 档号 {chosen.fonds}-{chosen.category}·YEAR-RETENTION-"
               f"{chosen.unit}-NNNN for posts kept from now on.")
    return 0
