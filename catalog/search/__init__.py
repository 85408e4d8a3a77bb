"""Full-text search over archived post versions: one interface, an embedded and an Elasticsearch
backend, the same query semantics (see ``catalog.search.query``).

    with open_index("sqlite", home / "index" / "search.sqlite") as index:
        index.upsert(posts)
        results = index.search("档案管理", SearchFilters(platform="weibo"))
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.search.errors import SearchError

if TYPE_CHECKING:
    from catalog.search.base import SearchIndex
    from catalog.search.document import IndexedPost, SearchHit, SearchResults
    from catalog.search.query import SearchFilters, SearchQuery

# Where each public name lives: its module loads when the name is first asked for (PEP 562), so
# that a command reading the settings (which name the backends) loads no query or index code.
_HOMES = {"SearchIndex": "base", "IndexedPost": "document", "SearchHit": "document",
          "SearchResults": "document", "SearchFilters": "query", "SearchQuery": "query"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'catalog.search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"catalog.search.{home}"), name)
    globals()[name] = value  # asked once
    return value

__all__ = [
    "IndexedPost", "SearchError", "SearchFilters", "SearchHit", "SearchIndex", "SearchQuery",
    "SearchResults", "open_index", "open_from_settings",
]

BACKENDS = ("sqlite", "tantivy", "elasticsearch")


def open_index(backend: str, path_or_url: str | Path, **options: Any) -> SearchIndex:
    """Open (creating if needed) the index of ``backend`` at a file path or a cluster URL.

    Options for ``elasticsearch``: index, analyzer, api_key, basic_auth, ca_certs,
    verify_certs, request_timeout, max_retries, backoff (see ``ElasticSearchIndex``).
    """
    if backend == "sqlite":
        from catalog.search.sqlite_fts import SqliteSearchIndex

        return SqliteSearchIndex(path_or_url)
    if backend == "tantivy":
        from catalog.search.tantivy_index import TantivySearchIndex

        return TantivySearchIndex(path_or_url)
    if backend in ("elasticsearch", "elastic"):
        # Imported here: the embedded default must work without loading the client.
        from catalog.search.elastic import ElasticSearchIndex

        return ElasticSearchIndex(str(path_or_url), **options)
    raise SearchError(f"the search backend {backend!r} is unknown; use sqlite, tantivy or elasticsearch")


def open_from_settings(
    settings: Mapping[str, Any], index_dir: Path, environ: Mapping[str, str]
) -> SearchIndex:
    """Open the index the ``CATALOG_SEARCH_*`` settings describe.

    Secrets are never in settings: they name environment variables, read from ``environ``.
    ``index_dir`` holds the embedded index file.
    """
    backend = str(settings.get("CATALOG_SEARCH_BACKEND", "sqlite"))
    if backend == "sqlite":
        return open_index(backend, index_dir / str(settings.get("CATALOG_SEARCH_SQLITE_FILE",
                                                                "search.sqlite")))
    if backend == "tantivy":
        return open_index(backend, index_dir / str(settings.get("CATALOG_SEARCH_TANTIVY_DIR",
                                                                "search.tantivy")))
    url = str(settings.get("CATALOG_SEARCH_ES_URL") or "")
    if not url:
        raise SearchError("the Elasticsearch backend is chosen but CATALOG_SEARCH_ES_URL is empty")
    options: dict[str, Any] = {
        "index": settings.get("CATALOG_SEARCH_ES_INDEX", "weidang-posts"),
        "analyzer": settings.get("CATALOG_SEARCH_ES_ANALYZER", "cjk"),
        "request_timeout": float(settings.get("CATALOG_SEARCH_ES_TIMEOUT", 30)),
        "max_retries": int(settings.get("CATALOG_SEARCH_ES_MAX_RETRIES", 3)),
        "verify_certs": bool(settings.get("CATALOG_SEARCH_ES_VERIFY_CERTS", True)),
    }
    if settings.get("CATALOG_SEARCH_ES_CA_CERTS"):
        options["ca_certs"] = str(settings["CATALOG_SEARCH_ES_CA_CERTS"])
    api_key = environ.get(str(settings.get("CATALOG_SEARCH_ES_API_KEY_ENV", "")), "")
    user = environ.get(str(settings.get("CATALOG_SEARCH_ES_USERNAME_ENV", "")), "")
    password = environ.get(str(settings.get("CATALOG_SEARCH_ES_PASSWORD_ENV", "")), "")
    if api_key:
        options["api_key"] = api_key
    elif user:
        options["basic_auth"] = (user, password)
    return open_index(backend, url, **options)
