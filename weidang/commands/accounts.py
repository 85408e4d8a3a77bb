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
from weidang.i18n import N_, _, china_time, ngettext
from weidang.store import catalog_db, credential_store

if TYPE_CHECKING:
    from catalog.accounts import Account, AccountRegistry


def _registry(app: AppContext) -> AccountRegistry:
    from catalog.accounts import AccountRegistry  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    return AccountRegistry(catalog_db(app.home, app.settings), via="command line")


def _schedule_text(app: AppContext, account: Account, people: bool = True) -> str:
    """The schedule in a few words: in the language of the messages for people, in English (the
    msgids) for ``--json``, whose values machines read."""
    say = _ if people else _english
    schedule = account.schedule(int(app.settings["CATALOG_SCHEDULE_INTERVAL_SECONDS"]),
                                int(app.settings["CATALOG_SCHEDULE_JITTER_SECONDS"]))
    when = f"cron {schedule.cron}" if schedule.cron else say(
        N_("every %(duration)s"), duration=format_duration(schedule.interval_seconds))
    text = f"{when} ± {format_duration(schedule.jitter_seconds) or '0s'}"
    return text + say(N_(" (default)")) if schedule.is_default else text


def _english(message: str, **values: str) -> str:
    return message % values if values else message


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
        click.option("--schedule", "words", default=None,
                     help="Or in words: 每天, 每6小时, 每周一 06:30, 工作日 08:00."),
    ]):
        function = option(function)
    return function


def _schedule_fields(interval: str | None, old_every: str | None, cron: str | None,
                     jitter: str | None, words: str | None = None) -> dict[str, str]:
    """The schedule fields given, by the names the registry takes."""
    if interval is not None and old_every is not None:
        raise click.UsageError(_("give --interval only once (--every is its old name)"))
    if words is not None and (interval or old_every or cron):
        raise click.UsageError(_("give --schedule or --interval/--cron, not both"))
    given = {"interval": interval if interval is not None else old_every, "cron": cron, "jitter": jitter,
             "schedule": words}
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
@click.option("--comments", type=click.Choice(["on", "off"]), default=None,
              help="Archive its new posts' Weibo comments (default off).")
@pass_app
def add(app: AppContext, account: str, interval: str | None, old_every: str | None, cron: str | None,
        jitter: str | None, words: str | None, **fields: str | None) -> int:
    """Register ACCOUNT (platform:id, e.g. weibo:1669879400, or its profile or article address)."""
    registry = _registry(app)
    given = {k: v for k, v in fields.items() if v is not None}
    added = registry.add(account, **given, **_schedule_fields(interval, old_every, cron, jitter, words))
    _say_registered(app, added)
    if added.credentials:
        _check_credentials(app, added.credentials)
    return 0


def _label(account: Account) -> str:
    return f"{account.key} ({account.name})" if account.name else account.key


def _say_registered(app: AppContext, added: Account, err: bool = False) -> None:
    click.echo(_("Registered %(account)s; harvested %(schedule)s.", account=_label(added),
                 schedule=_schedule_text(app, added)), err=err)


def _check_credentials(app: AppContext, name: str) -> None:
    """A missing login is not an error yet (it may be added later), but the archivist should know."""
    store = credential_store(app.home, app.settings)
    try:
        store.get(name)
    except CatalogError as exc:
        click.echo(_("Note: %(sentence)s Harvests of this account need it.", sentence=errors.sentence(exc)),
                   err=True)


@command.command("find")
@click.argument("name")
@click.option("--platform", type=click.Choice(["weibo", "wechat"]), required=True, help="Where to look.")
@click.option("--credentials", default=None, metavar="NAME",
              help="The login to look with (WeChat needs a backend login: `weidang login NAME wechat`).")
@click.option("--add", "choice", type=click.IntRange(min=1), default=None, metavar="N",
              help="Register the N-th account found, with its name and this login.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def find(app: AppContext, name: str, platform: str, credentials: str | None, choice: int | None,
         as_json: bool) -> int:
    """Look up accounts called NAME on the platform, to register one by its id."""
    from weidang.account_lookup import look_up  # noqa: PLC0415 - the crawler loads when used

    found = look_up(app.home, app.settings, platform, name, credentials or "")
    if as_json:
        click.echo(json.dumps([{"account": c.key, **asdict(c)} for c in found], ensure_ascii=False, indent=2))
    elif not found:
        click.echo(_("%(platform)s has no account called %(name)s.", platform=platform, name=name))
    else:
        header = ["#", _("ACCOUNT"), _("NAME"), _("WECHAT ID") if platform == "wechat" else _("FOLLOWERS"),
                  _("DESCRIPTION")]
        rows = [[str(n), c.key, c.name, (c.handle if platform == "wechat" else c.followers) or "-",
                 _short(c.verified or c.description)] for n, c in enumerate(found, 1)]
        for line in _table([header, *rows]):
            click.echo(line)
    if choice is None:
        if found and not as_json:
            click.echo(_("Register one with `weidang accounts find ... --add N`, or `weidang accounts add "
                         "ID --name NAME`."))
        return 0 if found else 1
    if choice > len(found):
        raise click.BadParameter(_("%(platform)s offered %(count)s accounts for this name",
                                   platform=platform, count=len(found)), param_hint="--add")
    picked = found[choice - 1]
    add_fields = {"name": picked.name, **({"credentials": credentials} if credentials else {})}
    _say_registered(app, _registry(app).add(picked.key, **add_fields), err=as_json)
    return 0


def _short(text: str, width: int = 30) -> str:
    text = " ".join(text.split())
    return text if _width(text) <= width else text[: width // 2 - 1] + "…"


@command.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Also show removed accounts.")
@click.option("--platform", type=click.Choice(["weibo", "wechat"]), default=None, help="Only this platform.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def list_(app: AppContext, include_removed: bool, platform: str | None, as_json: bool) -> int:
    """Show the registered accounts as a table."""
    accounts = _registry(app).list(include_removed=include_removed, platform=platform)
    if as_json:
        click.echo(json.dumps([{"account": a.key, **asdict(a),
                                "schedule": _schedule_text(app, a, people=False)}
                               for a in accounts], ensure_ascii=False, indent=2))
        return 0
    if not accounts:
        click.echo(_("No accounts are registered; add one with "
                     "`weidang accounts add weibo:UID --name NAME`."))
        return 0
    header = [_("ACCOUNT"), _("NAME"), _("CREDENTIALS"), _("SOURCE"), _("SCHEDULE"), _("NOTES")]
    rows = [[a.key, a.name, a.credentials or "-", a.source or "-", _schedule_text(app, a), a.notes]
            for a in accounts]
    if include_removed:
        header.insert(1, _("STATUS"))
        for row, a in zip(rows, accounts, strict=True):
            row.insert(1, _("active") if a.active else _("removed %(when)s", when=china_time(a.removed_at)))
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
    label = _label(removed)
    click.echo(_("Removed %(account)s from the accounts harvested; its captures and change history are "
                 "kept, and `weidang accounts add %(key)s` restores it.", account=label, key=removed.key))
    return 0


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_(app: AppContext, file: Path) -> int:
    """Add or update the accounts listed in FILE (.toml, .csv or .xlsx); all rows or none."""
    from catalog.account_files import import_accounts  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help
    from catalog.credentials import unknown_logins  # noqa: PLC0415

    registry = _registry(app)
    result = import_accounts(registry, file)
    click.echo(_("Imported %(file)s: %(summary)s.", file=file.name, summary=result.summary()))
    imported = [registry.get(key) for key in result.added + result.updated + result.restored]
    missing = unknown_logins(credential_store(app.home, app.settings), [a.credentials for a in imported])
    if missing:
        click.echo(_("Note: no login is stored under %(names)s; harvests of the accounts naming it "
                     "need it (`weidang login NAME weibo|wechat`).", names=", ".join(missing)), err=True)
    return 0


@command.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "include_removed", is_flag=True, help="Also export removed accounts.")
@pass_app
def export(app: AppContext, file: Path, include_removed: bool) -> int:
    """Write the registered accounts to FILE (.toml, .csv or .xlsx)."""
    from catalog.account_files import export_accounts  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    count = export_accounts(_registry(app).list(include_removed=include_removed), file)
    click.echo(ngettext("Wrote %(num)s account to %(file)s.", "Wrote %(num)s accounts to %(file)s.", count)
               % {"num": count, "file": file})
    return 0


@command.command("schedule")
@click.argument("account")
@schedule_options
@pass_app
def schedule(app: AppContext, account: str, interval: str | None, old_every: str | None, cron: str | None,
             jitter: str | None, words: str | None) -> int:
    """Set when ACCOUNT is harvested; a running daemon picks it up without a restart."""
    fields = _schedule_fields(interval, old_every, cron, jitter, words)
    if not fields:
        raise click.UsageError(_("give --schedule, --interval, --cron or --jitter"))
    changed = _registry(app).update(account, **fields)
    click.echo(_("%(account)s is now harvested %(schedule)s.", account=changed.key,
                 schedule=_schedule_text(app, changed)))
    return 0


@command.command("browser")
@click.argument("account")
@click.argument("switch", type=click.Choice(["on", "off"]))
@pass_app
def browser(app: AppContext, account: str, switch: str) -> int:
    """Turn browser capture of ACCOUNT's new posts on or off (README "Browser capture")."""
    changed = _registry(app).update(account, browser=switch)
    click.echo(_("%(account)s: the pages of its new posts are rendered in Chromium and recorded from "
                 "its next harvest.", account=changed.key) if changed.browser else
               _("%(account)s: the pages of its new posts are not rendered from its next harvest.",
                 account=changed.key))
    return 0


@command.command("comments")
@click.argument("account")
@click.argument("switch", type=click.Choice(["on", "off"]))
@pass_app
def comments(app: AppContext, account: str, switch: str) -> int:
    """Turn the archiving of ACCOUNT's new posts' comments on or off (README "Comments")."""
    changed = _registry(app).update(account, comments=switch)
    click.echo(_("%(account)s: the comments of its new and edited posts are archived from its "
                 "next harvest.", account=changed.key) if changed.comments else
               _("%(account)s: comments are not asked for from its next harvest.",
                 account=changed.key))
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
    click.echo(_("%(accounts)s: 档号 %(pattern)s for posts kept from now on.", accounts=", ".join(keys),
                 pattern=f"{chosen.fonds}-{chosen.category}·" + _("YEAR-RETENTION") + f"-{chosen.unit}-NNNN"))
    return 0
