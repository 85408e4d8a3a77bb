"""Searching the archive, shared by `weidang search` and the web interface: the filters as a person
gives them (an account by any of its names, days in China time), and every hit of a query."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace

from catalog.errors import CatalogError
from catalog.search import SearchFilters, SearchHit, SearchIndex, SearchQuery
from catalog.search.base import MAX_LIMIT
from catalog.search.errors import QueryError
from harvesters.dates import SHANGHAI
from weidang.home import Home
from weidang.i18n import _
from weidang.settings import Settings
from weidang.store import catalog_db, catalog_exists

PLATFORMS = ("weibo", "wechat")
_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def build_filters(account: str | None, platform: str | None, since: str | None,
                  until: str | None, status: str | None) -> SearchFilters:
    """The filters from the options, each refused with one sentence when it cannot be used."""
    if account and ":" in account and account.split(":", 1)[0] in PLATFORMS:
        prefix, account = account.split(":", 1)
        if platform and platform != prefix:
            raise QueryError(_("the account %(account)s is not on %(platform)s",
                               account=f"{prefix}:{account}", platform=platform))
        platform = prefix
    if platform is not None and platform not in PLATFORMS:
        raise QueryError(_("the platform %(platform)s is unknown; use weibo or wechat",
                           platform=repr(platform)))
    return SearchFilters(account=account or None, platform=platform,
                         since=parse_date(since, "--since", end=False),
                         until=parse_date(until, "--until", end=True), status=status)


def with_account_keys(home: Home, settings: Settings, filters: SearchFilters) -> SearchFilters:
    """The account filter as the catalog knows the account: its registered id, any id linked
    to it (a WeChat gh_ id and its __biz), the registered name or a name the platform showed
    all find the same posts. Without a catalog, the index matches the id or name as given."""
    from catalog.identity import account_keys  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    if not filters.account or not catalog_exists(home, settings):
        return filters
    try:
        with catalog_db(home, settings) as db, db.read() as conn:
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
        raise QueryError(_("%(option)s %(value)s is not a date; write it as YYYY-MM-DD, e.g. 2024-03-01",
                           option=option, value=value)) from None
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
