"""`weidang appraise`: keep or discard posts (鉴定), with retention period and 档号."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict

import click

from weidang.appraising import default_codes, event_sink, now, selected_posts
from weidang.context import AppContext, pass_app
from weidang.i18n import _
from weidang.store import catalog_db

RETENTIONS = ("永久", "定期30年", "定期10年")


@click.command("appraise")
@click.argument("posts", nargs=-1, metavar="[PLATFORM:POST_ID]...")
@click.option("--keep", "decision", flag_value="keep", help="Keep the posts (归档): each gets a 档号.")
@click.option("--discard", "decision", flag_value="discard",
              help="Leave the posts out of transfer (they stay in the WARC files); needs --reason.")
@click.option("--retention", type=click.Choice(RETENTIONS), required=True,
              help="Retention period (保管期限): 永久, 定期30年 or 定期10年.")
@click.option("--reason", default="", help="Why (required for --discard).")
@click.option("--classification", default="", help="Classification (分类), e.g. 通知公告.")
@click.option("--reviewer", default=None, help="Who decides (default: the logged-in user).")
@click.option("--account", default=None, help="Every post of this account (id or name).")
@click.option("--from", "since", default=None, metavar="DATE",
              help="Posts published on or after DATE (YYYY-MM-DD, China time).")
@click.option("--to", "until", default=None, metavar="DATE",
              help="Posts published on or before DATE (the whole day counts).")
@click.option("--topic", default=None, metavar="NAME", help="Every post of the topic (专题) NAME.")
@click.option("--query", default=None, metavar="WORDS",
              help="Every post the search WORDS finds (as `weidang search WORDS`).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per decision and line.")
@pass_app
def command(app: AppContext, posts: tuple[str, ...], decision: str | None, retention: str,
            reason: str, classification: str, reviewer: str | None, account: str | None,
            since: str | None, until: str | None, topic: str | None, query: str | None,
            as_json: bool) -> int:
    """Appraise posts: keep (with a 档号) or discard (with a reason), and the retention period.

    Every decision is a row in the catalog and an event in the collection's event log; a later
    decision on the same post supersedes the earlier one, which stays on record.
    """
    from catalog.appraisal import Ask, appraise  # noqa: PLC0415 - SQLAlchemy loads with the catalog

    if decision is None:
        raise click.UsageError(_("say --keep or --discard"))
    ask = Ask(keep=decision == "keep", retention=retention, reviewer=reviewer or getpass.getuser(),
              reason=reason, classification=classification).check()
    with catalog_db(app.home, app.settings) as db:
        keys = selected_posts(app, db, posts, account, since, until, topic, query)
        done = appraise(db, keys, ask, default_codes(app), event_sink(app), now)
    for d in done:
        if as_json:
            click.echo(json.dumps(asdict(d), ensure_ascii=False))
        elif d.code:
            click.echo(f"{d.platform}:{d.post_id}  {_('keep')}  {d.retention}  档号 {d.code}")
        else:
            click.echo(f"{d.platform}:{d.post_id}  {_('discard')}  {d.retention}  ({d.reason})")
    if not as_json:
        kept = sum(1 for d in done if d.decision == "keep")
        click.echo(_("%(n)s decisions recorded by %(reviewer)s: %(kept)s kept, %(discarded)s discarded.",
                     n=len(done), reviewer=ask.reviewer, kept=kept, discarded=len(done) - kept))
    return 0
