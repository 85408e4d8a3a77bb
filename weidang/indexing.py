"""The face's way to the search index: open it from settings, feed it after harvests, rebuild it.

The index is derived from the catalog (``catalog.index_feed``) and follows it by a cursor: after
every harvest (and ``weidang catalog repair``) it takes in every version and status change the
catalog gained since, whoever recorded them, and ``weidang index rebuild`` recreates it whole. A
harvest never depends on the index: if indexing fails (a cluster down), the captures are
already safe in the WARC files and the catalog, and a warning says how to catch up.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tqdm import tqdm

from catalog.errors import CatalogError
from catalog.search import SearchFilters, SearchIndex, open_from_settings
from catalog.search.document import IndexedPost
from warc_store import Collection
from weidang.citation import hit_lines
from weidang.home import Home
from weidang.i18n import N_, _, gettext
from weidang.settings import Settings
from weidang.store import catalog_db, catalog_exists

if TYPE_CHECKING:
    from catalog.db import Database
    from catalog.index_feed import IndexLag

INDEX_DIR = "index"  # under the home: the embedded index file lives here


def open_search_index(home: Home, settings: Settings,
                      environ: Mapping[str, str] | None = None) -> SearchIndex:
    """The index the ``CATALOG_SEARCH_*`` settings name (credentials from the environment)."""
    return open_from_settings(settings, home.root / INDEX_DIR,
                              os.environ if environ is None else environ)


def where_index(home: Home, settings: Settings) -> str:
    """Where the index lives, for messages: its file, or the cluster and alias."""
    if settings["CATALOG_SEARCH_BACKEND"] == "sqlite":
        return str(home.root / INDEX_DIR / settings["CATALOG_SEARCH_SQLITE_FILE"])
    if settings["CATALOG_SEARCH_BACKEND"] == "tantivy":
        return str(home.root / INDEX_DIR / settings["CATALOG_SEARCH_TANTIVY_DIR"])
    return f"{settings['CATALOG_SEARCH_ES_URL']} (index {settings['CATALOG_SEARCH_ES_INDEX']})"


def collections_of(home: Home) -> Callable[[str], Collection | None]:
    """Opens a collection of the home by the name the catalog records (None if it is gone)."""
    def open_one(name: str) -> Collection | None:
        root = home.collection_dir(name)
        return Collection.open(root) if (root / "warcs").is_dir() else None
    return open_one


def kept_collections(home: Home) -> Callable[[str], Collection | None]:
    """``collections_of`` for a long-running reader (the web server): each collection is opened
    once and kept, so that its record index is read once and then only what was appended to it,
    not the whole index file again for every page (at 20,000 posts a post page spent 1.1 s of
    CPU re-reading it)."""
    opened = collections_of(home)
    kept: dict[str, Collection] = {}
    lock = threading.Lock()

    def open_one(name: str) -> Collection | None:
        with lock:
            found = kept.get(name)
            if found is None or not found.warcs.is_dir():  # new, or gone since
                found = opened(name)
                if found is None:
                    kept.pop(name, None)
                    return None
                kept[name] = found
            return found
    return open_one


def index_harvest(home: Home, settings: Settings) -> int | None:
    """Index what the harvests recorded, and whatever else the catalog gained since the index
    last followed it (posts a repair recovered from a killed harvest's WARC files, versions a
    failed indexing left out); returns how many versions, or None if it failed. The index
    follows the catalog, not the harvests' summaries: their posts are among what it gained.

    Never raises: the harvest is done and its captures are safe whatever happens here.
    """
    return catch_up_index(home, settings, _("the harvest's captures are safe, but"))


def catch_up_index(home: Home, settings: Settings, safe: str) -> int | None:
    """Bring the index up to the catalog (``catalog.index_feed.catch_up``); a failure only
    warns, ``safe`` saying what it leaves standing."""
    from catalog.index_feed import DocumentFeed, catch_up  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    try:
        with catalog_db(home, settings) as db, open_search_index(home, settings) as index:
            return catch_up(index, DocumentFeed(db, collections_of(home),
                                                all_demo=home.is_demo()))
    except Exception as exc:  # noqa: BLE001 - any failure here must leave the captures standing
        # tqdm.write: a harvest's progress bar may still be on the screen.
        tqdm.write(_("Warning: %(safe)s the search index was not updated: %(reason)s. Run `weidang "
                     "index rebuild` to catch up.", safe=safe, reason=_reason(exc)), file=sys.stderr)
        return None


def index_lag_of(home: Home, settings: Settings, index: SearchIndex,
                 db: Database | None = None) -> IndexLag:
    """How ``index`` compares with the home's catalog (an absent catalog holds nothing); ``db``:
    the catalog already open (a web server's), else it is opened for this."""
    from catalog.index_feed import DocumentFeed, IndexLag, index_lag  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    if db is not None:
        return index_lag(index, DocumentFeed(db, collections_of(home)))
    if not catalog_exists(home, settings):
        count = index.count()
        return IndexLag(count, 0, count != 0)
    with catalog_db(home, settings) as opened:
        return index_lag(index, DocumentFeed(opened, collections_of(home)))


def lag_warning(home: Home, settings: Settings, index: SearchIndex,
                db: Database | None = None) -> str | None:
    """One sentence when ``index`` lacks versions or changes the catalog holds, else None
    (also when the catalog cannot be read: a search must not fail for want of the check)."""
    try:
        return lag_words(index_lag_of(home, settings, index, db))
    except CatalogError:
        return None


def lag_words(lag: IndexLag, lang: str | None = None) -> str | None:
    """``lag`` as the warning a search shows (in ``lang``, default the process's language),
    None when the index is up to date."""
    if not lag.behind:
        return None
    if lag.indexed != lag.catalog:
        return gettext(N_("Warning: the search index holds %(indexed)s post versions and the catalog "
                          "%(catalog)s, so results may be missing or out of date; run `weidang index "
                          "rebuild` to bring it up to date."), lang) % {
            "indexed": f"{lag.indexed:,}", "catalog": f"{lag.catalog:,}"}
    return gettext(N_("Warning: the search index has not taken in the catalog's latest changes, so "
                      "results may be missing or show an old status; run `weidang index rebuild` to "
                      "bring it up to date."), lang)


@dataclass(frozen=True)
class IndexRebuild:
    indexed: int
    seconds: float
    backend: str
    where: str


def rebuild_index(home: Home, settings: Settings,
                  progress: Callable[[int], None] | None = None) -> IndexRebuild:
    """Recreate the whole index from the catalog; searches keep answering until it is done."""
    from catalog.index_feed import DocumentFeed, rebuild_following  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    started = time.monotonic()
    with catalog_db(home, settings) as db, open_search_index(home, settings) as index:
        feed = DocumentFeed(db, collections_of(home), all_demo=home.is_demo())
        indexed = rebuild_following(index, feed, _counted(feed.all(), progress))
        backend = index.backend
    return IndexRebuild(indexed, time.monotonic() - started, backend, where_index(home, settings))


def catalog_versions(home: Home, settings: Settings) -> int:
    """How many post versions the catalog holds (what a complete index holds)."""
    from catalog.index_feed import DocumentFeed  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    with catalog_db(home, settings) as db:
        return DocumentFeed(db, collections_of(home)).count()


def search_example(home: Home, settings: Settings, query: str, limit: int = 3) -> list[str]:
    """Lines showing the best hits of ``query``, as `weidang search` prints them (for the demo)."""
    with open_search_index(home, settings) as index:
        results = index.search(query, SearchFilters(), limit=limit)
    found = _("%(total)s post versions match %(words)s", total=results.total_text(), words=query)
    lines = [f"weidang search {query}: " + (
        _("%(found)s; the best %(shown)s:", found=found, shown=len(results.hits))
        if results.total > len(results.hits) else _("%(found)s:", found=found))]
    for number, hit in enumerate(results.hits, 1):
        lines += hit_lines(number, hit)
    return lines


def _counted(docs: Iterable[IndexedPost],
             progress: Callable[[int], None] | None) -> Iterator[IndexedPost]:
    for doc in docs:
        yield doc
        if progress is not None:
            progress(1)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    return text or exc.__class__.__name__
