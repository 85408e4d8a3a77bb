"""`weidang search QUERY`: find archived post versions, each with what a citation needs."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click

from catalog.errors import CatalogError
from catalog.search import SearchFilters, SearchHit, SearchIndex, SearchQuery
from catalog.search.base import MAX_LIMIT
from catalog.search.errors import QueryError
from catalog.search.export import export, format_of
from harvesters.dates import SHANGHAI
from weidang.citation import hit_lines
from weidang.context import AppContext, pass_app
from weidang.indexing import lag_warning, open_search_index
from weidang.store import catalog_db, catalog_exists

PLATFORMS = ("weibo", "wechat")
_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


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
    filters = with_account_keys(app, build_filters(account, platform, since, until, status))
    if not 0 < limit <= MAX_LIMIT:
        raise QueryError(f"--limit must be between 1 and {MAX_LIMIT:,}; use --export for more")
    if export_to is not None:
        format_of(export_to)  # an unknown suffix is refused before any work
    with open_search_index(app.home, app.settings) as index:
        lagging = lag_warning(app.home, app.settings, index)
        if lagging and index.count() > 0:  # an empty index has its own message below
            click.echo(lagging, err=True)  # stderr: --json lines and exports stay clean
        if export_to is not None:
            written = export(every_hit(index, text, filters), export_to)
            click.echo(f"Wrote {written:,} results to {export_to}.")
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
        click.echo("The search index is empty: run `weidang index rebuild` to build it from the "
                   "catalog (harvests add their posts to it as they go).")
        return 0
    shown = len(results.hits)
    what = f"match {text.strip()}" if text.strip() else "match"
    if filters != SearchFilters():
        what += " within the filters" if text.strip() else " the filters"
    elif not text.strip():
        what = "are in the index"
    if results.total == 0:
        click.echo(f"0 post versions {what}.")
        return 0
    click.echo(f"{results.total_text()} post versions {what}"
               + (f"; the best {shown:,}:" if results.total > shown else ":"))
    if any(hit.demo for hit in results.hits):
        click.echo("Results marked DEMO DATA come from the built-in emulator (`weidang demo`), "
                   "not from the real platforms: never cite them.")
    for number, hit in enumerate(results.hits, 1):
        click.echo("")
        click.echo("\n".join(hit_lines(number, hit)))
    if results.total > shown:
        more = f"{results.total - shown:,}" if results.total_is_exact else (
            f"At least {results.total - shown:,}")
        click.echo(f"\n{more} more: raise --limit, or --export FILE for all.")
    return 0


def build_filters(account: str | None, platform: str | None, since: str | None,
                  until: str | None, status: str | None) -> SearchFilters:
    """The filters from the options, each refused with one sentence when it cannot be used."""
    if account and ":" in account and account.split(":", 1)[0] in PLATFORMS:
        prefix, account = account.split(":", 1)
        if platform and platform != prefix:
            raise QueryError(f"the account {prefix}:{account} is not on {platform}")
        platform = prefix
    if platform is not None and platform not in PLATFORMS:
        raise QueryError(f"the platform {platform!r} is unknown; use weibo or wechat")
    return SearchFilters(account=account or None, platform=platform,
                         since=parse_date(since, "--since", end=False),
                         until=parse_date(until, "--until", end=True), status=status)


def with_account_keys(app: AppContext, filters: SearchFilters) -> SearchFilters:
    """The account filter as the catalog knows the account: its registered id, any id linked
    to it (a WeChat gh_ id and its __biz), the registered name or a name the platform showed
    all find the same posts. Without a catalog, the index matches the id or name as given."""
    from catalog.identity import account_keys  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    if not filters.account or not catalog_exists(app.home, app.settings):
        return filters
    try:
        with catalog_db(app.home, app.settings) as db, db.read() as conn:
            keys = account_keys(conn, filters.account, filters.platform)
    except CatalogError:  # e.g. a catalog on read-only storage that cannot be opened
        return filters
    return replace(filters, account=None, accounts=keys)


def parse_date(value: str | None, option: str, *, end: bool) -> dt.datetime | None:
    """A day (China time; --until takes the whole day) or an ISO time (China time if no zone)."""
    if value is None:
        return None
    try:
        if _DAY.match(value.strip()):
            day = dt.date.fromisoformat("-".join(p.zfill(2) for p in value.strip().split("-")))
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{option} {value} is not a date; write it as YYYY-MM-DD, "
                         "e.g. 2024-03-01") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def every_hit(index: SearchIndex, text: str, filters: SearchFilters) -> Iterator[SearchHit]:
    """All hits, not one page: the backend's scan when it has one, else page after page."""
    scan = getattr(index, "scan", None)
    if scan is not None:
        yield from scan(SearchQuery.parse(text), filters)
        return
    offset, page = 0, 1000
    while offset < MAX_LIMIT:
        results = index.search(text, filters, limit=min(page, MAX_LIMIT - offset), offset=offset)
        yield from results.hits
        offset += len(results.hits)
        if not results.hits or offset >= results.total:
            return
