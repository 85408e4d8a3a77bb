"""`weidang search QUERY`: find archived post versions, each with what a citation needs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.search import SearchFilters
from catalog.search.base import MAX_LIMIT
from catalog.search.errors import QueryError
from catalog.search.export import export, format_of
from weidang.citation import hit_lines
from weidang.context import AppContext, pass_app
from weidang.i18n import _, ngettext
from weidang.indexing import lag_warning, open_search_index
from weidang.searching import build_filters, every_hit, with_account_keys


@click.command("search")
@click.argument("query", nargs=-1)
@click.option("--account", help="Only this account: its registered id, the name it was "
              "registered with or the name the platform shows (weibo:ID also works; a WeChat "
              "account's gh_ id and __biz find the same posts).")
@click.option("--platform", help="Only weibo or wechat.")
@click.option("--since", metavar="DATE", help="Published on or after DATE (YYYY-MM-DD, China time, "
              "or a full ISO time).")
@click.option("--until", metavar="DATE", help="Published on or before DATE (a whole day counts).")
@click.option("--status", help="Only posts now live, edited, deleted or blocked.")
@click.option("--limit", default=20, show_default=True, help="How many results to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result and line.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write every result (not only --limit) to FILE.csv, .json "
              "(JSON lines) or .xlsx.")
@pass_app
def command(app: AppContext, query: tuple[str, ...], account: str | None, platform: str | None,
            since: str | None, until: str | None, status: str | None, limit: int,
            as_json: bool, export_to: Path | None) -> int:
    """Search the archived posts (Chinese words and phrases: 疫情, 应急管理, "疫情 防控").

    Words separated by spaces must all match; Chinese matches as a contiguous phrase. With no
    words, the filtered posts are listed newest first. Every result names its platform,
    account, address, publication and capture times, WARC file and record, and payload SHA-256.
    """
    text = " ".join(query)
    filters = with_account_keys(app.home, app.settings,
                                build_filters(account, platform, since, until, status))
    if not 0 < limit <= MAX_LIMIT:
        raise QueryError(_("--limit must be between 1 and %(max)s; use --export for more",
                           max=f"{MAX_LIMIT:,}"))
    if export_to is not None:
        format_of(export_to)  # an unknown suffix is refused before any work
    with open_search_index(app.home, app.settings) as index:
        lagging = lag_warning(app.home, app.settings, index)
        if lagging and index.count() > 0:  # an empty index has its own message below
            click.echo(lagging, err=True)  # stderr: --json lines and exports stay clean
        if export_to is not None:
            written = export(every_hit(index, text, filters), export_to)
            click.echo(ngettext("Wrote %(num)s result to %(file)s.", "Wrote %(num)s results to %(file)s.",
                                written) % {"num": f"{written:,}", "file": export_to})
            return 0
        results = index.search(text, filters, limit=limit)
        empty_index = results.total == 0 and index.count() == 0
    if as_json:
        # Each line also says how many match in all: exact, or at least that many.
        summary = {"total": results.total, "total_is_exact": results.total_is_exact}
        for hit in results.hits:
            click.echo(json.dumps({**hit.to_dict(), **summary}, ensure_ascii=False))
        return 0
    if empty_index:
        click.echo(_("The search index is empty: run `weidang index rebuild` to build it from the "
                     "catalog (harvests add their posts to it as they go)."))
        return 0
    shown = len(results.hits)
    words, filtered = text.strip(), filters != SearchFilters()
    if results.total == 0:
        click.echo(_("%(found)s.", found=_found("0", words, filtered)))
        return 0
    found = _found(results.total_text(), words, filtered)
    click.echo(_("%(found)s; the best %(shown)s:", found=found, shown=f"{shown:,}")
               if results.total > shown else _("%(found)s:", found=found))
    if any(hit.demo for hit in results.hits):
        click.echo(_("Results marked DEMO DATA come from the built-in emulator (`weidang demo`), "
                     "not from the real platforms: never cite them."))
    for number, hit in enumerate(results.hits, 1):
        click.echo("")
        click.echo("\n".join(hit_lines(number, hit)))
    if results.total > shown:
        more = f"{results.total - shown:,}"
        click.echo("\n" + (_("%(more)s more: raise --limit, or --export FILE for all.", more=more)
                           if results.total_is_exact else
                           _("At least %(more)s more: raise --limit, or --export FILE for all.", more=more)))
    return 0


def _found(total: str, words: str, filtered: bool) -> str:
    """How many post versions the words and filters find, as the head of the results."""
    if words and filtered:
        return _("%(total)s post versions match %(words)s within the filters", total=total, words=words)
    if words:
        return _("%(total)s post versions match %(words)s", total=total, words=words)
    if filtered:
        return _("%(total)s post versions match the filters", total=total)
    return _("%(total)s post versions are in the index", total=total)
