"""Search failures, each told as one plain sentence for the archivist."""

from __future__ import annotations


class SearchError(Exception):
    """Base of every error raised by the search index layer."""


class QueryError(SearchError):
    """The search words or filters cannot be understood."""


class IndexUnavailable(SearchError):
    """The index cannot be reached or opened."""


class NotElasticsearch(IndexUnavailable):
    """The server answered, but it is not Elasticsearch."""


class IndexBusy(SearchError):
    """The index kept refusing work because it was overloaded (HTTP 429)."""


class IndexFailure(SearchError):
    """The index reported an internal error (HTTP 5xx)."""


class MappingConflict(SearchError):
    """The index refused documents or settings that do not fit its mapping."""


class AccessDenied(SearchError):
    """The index refused the credentials."""
