"""`weidang harvest`: capture registered accounts now, into the home's collection."""

from __future__ import annotations

import json
import sys

import click
from tqdm import tqdm

from crawler.errors import CrawlError
from crawler.job import HarvestSummary
from weidang.context import AppContext, pass_app
from weidang.errors import sentence
from weidang.i18n import _, ngettext


@click.command("harvest")
@click.argument("accounts", nargs=-1, required=True, metavar="PLATFORM:ID...")
@click.option("--full", is_flag=True, help="Begin a backfill: walk the whole listing again from the top, "
              "CRAWLER_FULL_MAX_PAGES pages per run, going on at each later harvest until the end.")
@click.option("--force", is_flag=True, help="Harvest even though the platform or login is paused.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@pass_app
def command(app: AppContext, accounts: tuple[str, ...], full: bool, force: bool, as_json: bool) -> int:
    """Capture registered accounts now (incremental unless --full).

    Every exchange goes into the home's WARC collection with secrets redacted; each new or
    edited post gets a metadata record and a catalog version.
    """
    from crawler.harvest_accounts import Harvested, Skipped  # noqa: PLC0415 - Scrapy loads for a harvest only
    from weidang.harvesting import harvest_accounts  # noqa: PLC0415

    with tqdm(desc=_("Harvesting"), unit=" " + _("exchanges"), file=sys.stderr, disable=as_json) as bar:
        def progress(account: str, size: int) -> None:
            bar.set_postfix_str(account, refresh=False)
            bar.update(1)

        outcomes = harvest_accounts(app.home, app.settings, list(accounts), full=full, force=force,
                                    progress=progress)
    if as_json:  # the facts for the daemon (stdout); a skip's sentence for people (stderr)
        click.echo(json.dumps([o.to_json() for o in outcomes], ensure_ascii=False, indent=2))
    for outcome in outcomes:
        if isinstance(outcome, Skipped):
            click.echo(_("Error: %(sentence)s", sentence=sentence(CrawlError(outcome.reason))), err=True)
        elif not as_json:
            print_summary(outcome.summary)
        if isinstance(outcome, Harvested) and not as_json:
            for notice in outcome.notices:
                click.echo(_("Warning: %(notice)s.", notice=notice), err=True)
    return 0 if all(isinstance(o, Harvested) and o.summary.outcome == "ok" for o in outcomes) else 1


def print_summary(s: HarvestSummary) -> None:
    gap = s.gap
    total = ""
    if s.reported_total is not None:
        # The platform counts posts, or (WeChat) articles or mass sends: said as the platform says it.
        if s.reported_unit == "posts":
            total = _("; the platform reports %(reported)s, the archive holds %(held)s",
                      reported=s.reported_total, held=s.captured_total)
        else:
            total = _("; the platform reports %(reported)s %(unit)s, the archive holds %(held)s posts",
                      reported=s.reported_total, unit=_(s.reported_unit), held=s.captured_total)
        total += _(" (%(gap)s missing)", gap=gap) if gap else ""
    click.echo(_("%(account)s: %(outcome)s. Posts new %(new)s, edited %(edited)s, unchanged "
                 "%(unchanged)s, deleted %(deleted)s%(total)s.", account=s.account, outcome=_(s.outcome),
                 new=s.posts_new, edited=s.posts_edited, unchanged=s.posts_unchanged,
                 deleted=s.posts_deleted, total=total))
    click.echo("  " + _("%(pages)s listing pages, %(exchanges)s exchanges (%(revisits)s revisits), "
                        "%(mb)s MB, %(errors)s errors.", pages=s.pages, exchanges=s.exchanges,
                        revisits=s.revisits, mb=f"{s.bytes / 1e6:,.1f}", errors=len(s.errors)))
    if s.backfill:
        click.echo(f"  {s.backfill['note'][0].upper()}{s.backfill['note'][1:]}.")
    for line in browser_lines(s):
        click.echo(f"  {line}")
    if s.comment_pages:
        click.echo("  " + _("Comments: %(comments)s read under %(posts)s posts (%(pages)s answers).",
                            comments=s.comments, posts=s.posts_with_comments, pages=s.comment_pages))
    if s.reason:
        click.echo("  " + _("Why it stopped: %(reason)s", reason=s.reason))
    if s.advice:
        click.echo("  " + _("What to do: %(advice)s", advice=s.advice))
    errors = _not_said(s.errors, s.reason)
    for error in errors[:5]:
        click.echo("  " + _("Error: %(sentence)s", sentence=error))
    if len(errors) > 5:
        click.echo("  " + ngettext("... and %(num)s more error.", "... and %(num)s more errors.",
                                   len(errors) - 5) % {"num": len(errors) - 5})


def browser_lines(s: HarvestSummary) -> list[str]:
    """What the browser stage did: pages rendered or failed, or the one sentence why it did not run."""
    out = [s.browser_note] if s.browser_note else []
    if s.browser_pages or s.browser_failed:
        failed = f", {s.browser_failed} failed (their posts kept as the API gave them)" \
            if s.browser_failed else ""
        out.append(f"Browser: {s.browser_pages} pages rendered and recorded{failed}; "
                   f"{s.browser_exchanges} exchanges, {s.browser_bytes / 1e6:,.1f} MB.")
    out += [f"Browser problem: {p}" for p in s.browser_problems[:5]]
    if len(s.browser_problems) > 5:
        out.append(f"... and {len(s.browser_problems) - 5} more browser problems.")
    return out


def _not_said(errors: list[str], reason: str) -> list[str]:
    """The errors the reason does not already say (``<url> got no answer: <cause>`` and the like)."""
    if not reason:
        return errors
    return [e for e in errors if e not in reason and (e.partition(": ")[2] or e) not in reason]
