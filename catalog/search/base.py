"""The one interface every search backend implements, with the same query semantics.

See ``catalog.search.query`` for the meaning of a query. Indexes are derived data: they can be
cleared and rebuilt from the catalog at any time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType

from catalog.search.document import IndexedPost, SearchResults
from catalog.search.errors import QueryError
from catalog.search.query import SearchFilters, SearchQuery, Term

__all__ = ["SearchIndex", "SearchQuery", "SearchFilters", "Term"]

MAX_LIMIT = 10_000  # one page; Elasticsearch refuses from+size beyond 10,000 by default


class SearchIndex(ABC):
    """A search index of post versions, keyed by ``IndexedPost.doc_id``."""

    backend: str = ""

    @abstractmethod
    def upsert(self, docs: Iterable[IndexedPost], *, refresh: bool = True) -> int:
        """Add or replace post versions; return how many were written.

        Upserting the same doc_id again replaces it, so re-running a harvest or a rebuild is
        harmless. With ``refresh`` they are searchable on return; bulk loaders may pass False
        and call ``refresh()`` once at the end.
        """

    @abstractmethod
    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove post versions by doc_id; return how many existed."""

    @abstractmethod
    def search(
        self,
        query: str | SearchQuery,
        filters: SearchFilters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Best matches first (newest first for an empty query), with the total count."""

    @abstractmethod
    def count(self, filters: SearchFilters | None = None) -> int:
        """How many post versions the index holds (within the filters)."""

    @abstractmethod
    def rebuild(self, docs: Iterable[IndexedPost]) -> int:
        """Replace the whole index with ``docs``; searches keep answering from the old content
        until the new one is complete. Returns how many were indexed."""

    def clear(self) -> None:
        """Empty the index."""
        self.rebuild(())

    def note(self, key: str) -> str | None:
        """A short text kept with the index under ``key`` (e.g. how far it followed the
        catalog), or None. Backends that cannot keep one always answer None."""
        return None

    def set_note(self, key: str, value: str) -> None:  # noqa: B027 - see note()
        """Keep ``value`` under ``key`` with the index (replacing what was there)."""

    def refresh(self) -> None:  # noqa: B027 - most backends need nothing here
        """Make everything upserted so far visible to searches."""

    @abstractmethod
    def close(self) -> None:
        """Release files or connections."""

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def parse(query: str | SearchQuery) -> SearchQuery:
    return query if isinstance(query, SearchQuery) else SearchQuery.parse(query)


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise QueryError("the number of results and the starting point cannot be negative")
    if limit + offset > MAX_LIMIT:
        raise QueryError(
            f"a page of results must end within the first {MAX_LIMIT:,}; use export for more"
        )
