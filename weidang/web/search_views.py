"""The search page and its exports: the same search as `weidang search` (``weidang.searching``)."""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, send_file

from catalog.errors import CatalogError
from catalog.posts import PostCatalog
from catalog.search import SearchFilters, SearchHit, SearchIndex, SearchResults
from catalog.search.base import MAX_LIMIT
from catalog.search.document import STATUSES
from catalog.search.errors import QueryError, SearchError
from catalog.search.export import export
from weidang.indexing import index_lag_of, lag_words, open_search_index
from weidang.searching import build_filters, every_hit, parse_date, with_account_keys
from weidang.web import labels
from weidang.web.archive_views import RETENTIONS
from weidang.web.lang import _, current, told
from weidang.web.security import requires

blueprint = Blueprint("search", __name__)
PER_PAGE = 20
LAG_CHECK_SECONDS = 10.0
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FIELDS = ("q", "account", "platform", "since", "until", "status")


@dataclass(frozen=True)
class Form:
    """The search as the address gives it (empty fields are no filter)."""

    q: str
    account: str
    platform: str
    since: str
    until: str
    status: str
    page: int

    @classmethod
    def from_args(cls) -> Form:
        values = {name: request.args.get(name, "").strip() for name in FIELDS}
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1
        return cls(page=page, **values)

    def filters(self) -> SearchFilters:
        self.check()
        app = current_app.config
        built = build_filters(self.account or None, self.platform or None, self.since or None,
                              self.until or None, self.status or None)
        return with_account_keys(app["HOME"], app["SETTINGS"], built)

    def check(self) -> None:
        """Each filter that cannot be used, refused in the page's language (the command line's
        own messages name its options)."""
        if self.platform and self.platform not in labels.PLATFORMS:
            raise QueryError(_("There is no platform %(value)s; choose Weibo or WeChat.",
                               value=self.platform))
        if self.status and self.status not in STATUSES:
            raise QueryError(_("There is no status %(value)s.", value=self.status))
        for value in (self.since, self.until):
            try:
                parse_date(value or None, "", end=False)
            except QueryError:
                raise QueryError(_("%(value)s is not a date; write it as YYYY-MM-DD, e.g. "
                                   "2024-03-01.", value=value)) from None

    def args(self, **changes: Any) -> dict[str, Any]:
        """The address's parameters, with ``changes`` (for paging and export links)."""
        out: dict[str, Any] = {n: getattr(self, n) for n in FIELDS if getattr(self, n)}
        out.update(changes)
        return out


@blueprint.route("/search")
@requires("read")
def search() -> Any:
    form = Form.from_args()
    error, warning, results, empty_index = None, None, None, False
    try:
        filters = form.filters()
        offset = (form.page - 1) * PER_PAGE
        if offset + PER_PAGE > MAX_LIMIT:
            cap = f"{MAX_LIMIT:,}"
            raise QueryError(_("Only the first %(n)s results can be paged through; narrow the "
                               "search or export the results.", n=cap))
        home, settings = current_app.config["HOME"], current_app.config["SETTINGS"]
        with open_search_index(home, settings) as index:
            results = index.search(form.q, filters, limit=PER_PAGE, offset=offset)
            empty_index = index.count() == 0
            warning = None if empty_index else _lag_warning(index)
    except SearchError as exc:
        error = told(exc)
    return render_template("search.html", form=form, results=results, error=error,
                           warning=warning, empty_index=empty_index, pages=_pages(form, results),
                           parts=marked_parts, labels=labels, statuses=labels.STATUSES,
                           retentions=RETENTIONS)


def _lag_warning(index: SearchIndex) -> str | None:
    """The index-lag warning in the reader's language, from a comparison with the catalog made
    at most every ``LAG_CHECK_SECONDS`` by this server (counting the catalog's versions was a
    quarter of a search page's work)."""
    kept: list[Any] = current_app.config.setdefault("SEARCH_LAG", [])  # [checked at, lag]
    now = time.monotonic()
    if not kept or now - kept[0] > LAG_CHECK_SECONDS:
        try:
            lag = index_lag_of(current_app.config["HOME"], current_app.config["SETTINGS"], index,
                               current_app.config["DB"])
        except CatalogError:
            return None  # a search must not fail for want of the check
        kept[:] = [now, lag]
    return lag_words(kept[1], current())


@blueprint.route("/search/export.<fmt>")
@requires("read")
def export_results(fmt: str) -> Response:
    if fmt not in EXPORT_TYPES:
        return Response(_("Exports are CSV or XLSX files."), status=404)
    form = Form.from_args()
    home, settings = current_app.config["HOME"], current_app.config["SETTINGS"]
    with tempfile.TemporaryDirectory(prefix="weidang-export-") as tmp:
        path = Path(tmp) / f"weidang-search.{fmt}"
        with open_search_index(home, settings) as index:
            export(every_hit(index, form.q, form.filters()), path, fmt, headers=labels.column_headers(),
                   full_text=_full_text(PostCatalog(current_app.config["DB"])))
        data = path.read_bytes()
    return send_file(io.BytesIO(data), mimetype=EXPORT_TYPES[fmt], as_attachment=True,
                     download_name=f"weidang-search.{fmt}")


def _full_text(posts: PostCatalog) -> Callable[[SearchHit], str]:
    """Each hit's whole text (title, then text), read from the catalog's version of it."""
    cache: dict[tuple[str, str], dict[int, str]] = {}

    def text_of(hit: SearchHit) -> str:
        key = (hit.platform, hit.post_id)
        if key not in cache:
            cache.clear()  # hits of one post come together more often than not: keep one post
            cache[key] = {v.version: v.text for v in posts.versions(*key)}
        return cache[key].get(hit.version, "")
    return text_of


def marked_parts(hit: SearchHit) -> list[tuple[str, bool]]:
    """The snippet in pieces, each saying whether it is a match (the template marks those)."""
    out, last = [], 0
    for start, end in hit.highlights:
        out += [(hit.snippet[last:start], False), (hit.snippet[start:end], True)]
        last = end
    out.append((hit.snippet[last:], False))
    return [(text, marked) for text, marked in out if text]


def _pages(form: Form, results: SearchResults | None) -> dict[str, Any]:
    if results is None:
        return {}
    last = max(1, min(-(-results.total // PER_PAGE), MAX_LIMIT // PER_PAGE))
    return {"current": form.page, "last": last,
            "previous": form.args(page=form.page - 1) if form.page > 1 else None,
            "next": form.args(page=form.page + 1) if form.page < last else None}
