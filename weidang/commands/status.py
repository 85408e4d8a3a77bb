"""`weidang status`: each account's last and next run and its health, at a glance."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import click

from harvesters.dates import SHANGHAI
from weidang import errors
from weidang.commands.accounts import _table
from weidang.context import AppContext, pass_app
from weidang.home import Home
from weidang.i18n import _, ngettext
from weidang.settings import Settings
from weidang.store import catalog_db

if TYPE_CHECKING:
    from schedules.status import AccountStatus


def _local(text: str | None) -> str:
    """A catalog time (UTC) as China time to the minute, as archivists read it."""
    if not text:
        return "-"
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@click.command("status")
@click.option("--json", "as_json_flag", is_flag=True, help="One JSON document for machines.")
@pass_app
def command(app: AppContext, as_json_flag: bool) -> int:
    """Show each account's last run, next run and health (ok, failing, login expired, ...)."""
    from schedules.status import as_json  # noqa: PLC0415

    statuses, daemon = account_overview(app.home, app.settings)
    if as_json_flag:
        click.echo(json.dumps({"daemon": daemon, "accounts": as_json(statuses)}, ensure_ascii=False,
                              indent=2))
        return 0
    click.echo(_("Daemon: %(state)s. Times are China time (UTC+08:00).", state=_(errors.translated(daemon))))
    if not statuses:
        click.echo(_("No accounts are registered; add one with "
                     "`weidang accounts add weibo:UID --name NAME`."))
        return 0
    rows = [[_("ACCOUNT"), _("NAME"), _("HEALTH"), _("LAST RUN"), _("OUTCOME"), _("NEW/EDITED/DELETED"),
             _("NEXT RUN")]]
    for st in statuses:
        # The health and outcome words are the catalog's (the web's labels translate them too).
        health = _(st.health) + (" (" + ngettext("%(num)s failure in a row", "%(num)s failures in a row",
                                                 st.failures_in_a_row) % {"num": st.failures_in_a_row}
                                 + ")" if st.failures_in_a_row else "")
        counts = f"{st.posts_new}/{st.posts_edited}/{st.posts_deleted}" if st.last_started else "-"
        rows.append([st.account, st.name, health, _local(st.last_started),
                     _(st.last_outcome) if st.last_outcome else "-", counts, _local(st.next_run)])
    for line in _table(rows):
        click.echo(line)
    for accounts, note in _notes(statuses):
        click.echo(f"{', '.join(accounts)}: {note}")
    for st in statuses:
        if st.backfill:
            click.echo(f"{st.account}: {st.backfill}")
        if st.running_recorded is not None:
            click.echo(f"{st.account}: {_running(st)}")
    return 0


def _running(st: AccountStatus) -> str:
    """A harvest under way, in the same words as the web dashboard."""
    said = ngettext("Running: %(num)s new or edited version recorded so far",
                    "Running: %(num)s new or edited versions recorded so far",
                    st.running_recorded or 0) % {"num": st.running_recorded}
    if st.running_eta_seconds is None:
        return said
    if st.running_eta_seconds > 0:
        return said + "; " + _("likely done in about %(minutes)s min (the last harvest took as long)",
                               minutes=(st.running_eta_seconds + 59) // 60)
    return said + "; " + _("taking longer than the last harvest")


def account_overview(home: Home, settings: Settings) -> tuple[list[AccountStatus], str]:
    """Each account's status, and whether a daemon runs: what `weidang status` and the web's
    dashboard show."""
    # APScheduler (the daemon's job store holds the next runs) loads only when this runs.
    from schedules.status import account_statuses, daemon_state  # noqa: PLC0415
    from schedules.store import store_url  # noqa: PLC0415

    s = settings
    db = catalog_db(home, s)
    try:
        statuses = account_statuses(db, store_url(home.root, str(s["SCHEDULES_JOB_STORE_URL"])),
                                    int(s["CATALOG_SCHEDULE_INTERVAL_SECONDS"]),
                                    int(s["CATALOG_SCHEDULE_JITTER_SECONDS"]),
                                    int(s["SCHEDULES_BACKOFF_MAX_SECONDS"]), dt.datetime.now(dt.UTC),
                                    locks=home.root / "locks")
    finally:
        db.close()
    return statuses, daemon_state(home.root)


def _notes(statuses: list[AccountStatus]) -> list[tuple[list[str], str]]:
    """Each note once, with the accounts it concerns (one 418 pauses every account of a platform)."""
    notes: dict[str, list[str]] = {}
    for st in statuses:
        if st.health not in ("ok", "never run", "running") and st.note:
            notes.setdefault(st.note, []).append(st.account)
    return [(accounts, note) for note, accounts in notes.items()]
