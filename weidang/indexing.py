"""The face's way to the search index: open it from settings, feed it after harvests, rebuild it.

The index is derived from the catalog (``catalog.search.feed``): every harvest upserts the
versions and status changes it recorded, and ``weidang index rebuild`` recreates it whole. A
harvest never depends on the index: if indexing fails (a cluster down), the captures are
already safe in the WARC files and the catalog, and a warning says how to catch up.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from catalog.search import SearchFilters, SearchIndex, open_from_settings
from catalog.search.document import IndexedPost
from catalog.search.feed import DocumentFeed, documents_for
from crawler.job import HarvestSummary
from warc_store import Collection
from weidang.citation import hit_lines
from weidang.home import Home
from weidang.settings import Settings
from weidang.store import catalog_db

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
    return f"{settings['CATALOG_SEARCH_ES_URL']} (index {settings['CATALOG_SEARCH_ES_INDEX']})"


def collections_of(home: Home) -> Callable[[str], Collection | None]:
    """Opens a collection of the home by the name the catalog records (None if it is gone)."""
    def open_one(name: str) -> Collection | None:
        root = home.collection_dir(name)
        return Collection.open(root) if (root / "warcs").is_dir() else None
    return open_one


def index_harvest(home: Home, settings: Settings, summaries: Sequence[HarvestSummary]) -> int | None:
    """Index what these harvests recorded; returns how many versions, or None if it failed.

    Never raises: the harvest is done and its captures are safe whatever happens here.
    """
    try:
        with catalog_db(home, settings) as db:
            docs = documents_for(db.conn, collections_of(home),
                                 harvest_ids=[s.harvest_id for s in summaries],
                                 all_demo=home.is_demo())
        if not docs:
            return 0
        with open_search_index(home, settings) as index:
            return index.upsert(docs)
    except Exception as exc:  # noqa: BLE001 - any failure here must leave the harvest standing
        # tqdm.write: a harvest's progress bar may still be on the screen.
        tqdm.write(f"Warning: the harvest's captures are safe, but the search index was not "
                   f"updated: {_reason(exc)}. Run `weidang index rebuild` to catch up.",
                   file=sys.stderr)
        return None


@dataclass(frozen=True)
class IndexRebuild:
    indexed: int
    seconds: float
    backend: str
    where: str


def rebuild_index(home: Home, settings: Settings,
                  progress: Callable[[int], None] | None = None) -> IndexRebuild:
    """Recreate the whole index from the catalog; searches keep answering until it is done."""
    started = time.monotonic()
    with catalog_db(home, settings) as db, open_search_index(home, settings) as index:
        feed = DocumentFeed(db.conn, collections_of(home), all_demo=home.is_demo())
        indexed = index.rebuild(_counted(feed.all(), progress))
        backend = index.backend
    return IndexRebuild(indexed, time.monotonic() - started, backend, where_index(home, settings))


def catalog_versions(home: Home, settings: Settings) -> int:
    """How many post versions the catalog holds (what a complete index holds)."""
    with catalog_db(home, settings) as db:
        return DocumentFeed(db.conn, collections_of(home)).count()


def search_example(home: Home, settings: Settings, query: str, limit: int = 3) -> list[str]:
    """Lines showing the best hits of ``query``, as `weidang search` prints them (for the demo)."""
    with open_search_index(home, settings) as index:
        results = index.search(query, SearchFilters(), limit=limit)
    lines = [f"weidang search {query}: {results.total_text()} post versions match"
             + (f", the best {len(results.hits)}:" if results.total > len(results.hits) else ":")]
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
