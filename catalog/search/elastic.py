"""The Elasticsearch index, through the official client (8.x, ``elasticsearch>=8.13,<9``).

The 8.x client sends ``Accept``/``Content-Type: application/vnd.elasticsearch+json;
compatible-with=8`` on every request, so an Elasticsearch 8.x cluster answers natively and a
9.x cluster answers through its REST API compatibility with 8; it refuses a server whose 2xx
answers lack ``X-Elastic-Product: Elasticsearch`` (UnsupportedProductError).

Documents live in physical indexes ``<alias>-000001``, ``-000002`` ... behind one alias
(``weidang-posts``). A rebuild fills a new physical index, then swaps the alias in one atomic
``_aliases`` call and drops the old index: searches never see an empty or half-built index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import elastic_transport
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    UnsupportedProductError,
)
from elasticsearch.helpers import BulkIndexError, scan, streaming_bulk

from catalog.search.base import SearchIndex, check_page, parse
from catalog.search.document import IndexedPost, SearchHit, SearchResults
from catalog.search.elastic_mapping import choose_words_analyzer, index_template
from catalog.search.elastic_query import filter_clauses, hit_from, query_clause, search_body
from catalog.search.errors import (
    AccessDenied,
    IndexBusy,
    IndexFailure,
    IndexUnavailable,
    MappingConflict,
    NotElasticsearch,
    SearchError,
)
from catalog.search.query import SearchFilters, SearchQuery

SUPPORTED_MAJORS = (8, 9)
CHUNK = 500  # documents per _bulk request
_MAPPING_ERRORS = {
    "mapper_parsing_exception", "document_parsing_exception", "illegal_argument_exception",
    "strict_dynamic_mapping_exception", "resource_already_exists_exception",
}
T = TypeVar("T")


class ElasticSearchIndex(SearchIndex):
    """Posts in an Elasticsearch cluster at ``url``; ``index`` is the alias searched."""

    backend = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        index: str = "weidang-posts",
        analyzer: str = "cjk",
        api_key: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_certs: str | None = None,
        verify_certs: bool = True,
        request_timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        self.url, self.alias, self.backoff, self.max_retries = url, index, backoff, max_retries
        options: dict[str, Any] = {
            "request_timeout": request_timeout,
            # The transport retries gateway errors and dropped connections at once; 429 (too
            # busy) is retried with growing pauses by _call and by the bulk helper instead.
            "max_retries": max_retries,
            "retry_on_status": (502, 503, 504),
            "retry_on_timeout": True,
            "verify_certs": verify_certs,
        }
        if api_key:
            options["api_key"] = api_key
        if basic_auth:
            options["basic_auth"] = basic_auth
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = Elasticsearch(url, **options)
        with self._errors():
            info = self._call(self.client.info)
            self.server_version = str(info["version"]["number"])
            if int(self.server_version.split(".")[0]) not in SUPPORTED_MAJORS:
                raise SearchError(
                    f"Elasticsearch {self.server_version} at {url} is not supported; "
                    "weidang works with Elasticsearch 8 and 9"
                )
            self.words_analyzer = self._choose_analyzer(analyzer)
            self._call(
                self.client.indices.put_index_template,
                name=self.alias, **index_template(self.alias, self.words_analyzer),
            )
            if not self._call(self.client.indices.exists_alias, name=self.alias):
                self._call(
                    self.client.indices.create, index=self._physical(1),
                    aliases={self.alias: {"is_write_index": True}},
                )

    def _choose_analyzer(self, setting: str) -> str | None:
        if setting == "cjk":
            return None
        rows: Any = self._call(self.client.cat.plugins, format="json").body
        plugins = {str(row.get("component", "")) for row in rows if isinstance(row, dict)}
        try:
            return choose_words_analyzer(setting, plugins)
        except LookupError as exc:
            raise SearchError(
                f"the analyzer {setting} needs the {exc.args[0]} plugin, which the cluster at "
                f"{self.url} does not have; install it or use the built-in cjk analyzer"
            ) from exc
        except ValueError as exc:
            raise SearchError(str(exc)) from exc

    def _physical(self, number: int) -> str:
        return f"{self.alias}-{number:06d}"

    def current_index(self) -> str:
        """The physical index the alias points to now."""
        with self._errors():
            names = sorted(self._call(self.client.indices.get_alias, name=self.alias).body)
        return names[-1]

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IndexedPost], *, refresh: bool = True) -> int:
        written = self._bulk(self.alias, docs)
        if refresh:
            self.refresh()
        return written

    def _bulk(self, target: str, docs: Iterable[IndexedPost]) -> int:
        # "index" (not "update"): the whole version is replaced, keyed by doc_id: idempotent.
        actions = (
            {"_op_type": "index", "_index": target, "_id": d.doc_id, "_source": d.to_dict()}
            for d in docs
        )
        written, failed = 0, []
        with self._errors():
            # raise_on_error=False: only then does the helper retry items refused with 429
            # (with growing pauses); what still fails after the retries is reported here.
            for ok, item in streaming_bulk(
                self.client, actions, chunk_size=CHUNK, max_retries=self.max_retries,
                initial_backoff=self.backoff, max_backoff=60 * self.backoff,
                raise_on_error=False,
            ):
                written += int(ok)
                if not ok:
                    failed.append(item)
            if failed:
                raise BulkIndexError(f"{len(failed)} document(s) failed to index.", failed)
        return written

    def delete(self, doc_ids: Iterable[str]) -> int:
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": i} for i in doc_ids)
        removed = 0
        with self._errors():
            for ok, item in streaming_bulk(
                self.client, actions, chunk_size=CHUNK, raise_on_error=False,
                max_retries=self.max_retries, initial_backoff=self.backoff,
            ):
                status = item.get("delete", {}).get("status")
                if ok:
                    removed += 1
                elif status != 404:
                    raise BulkIndexError("1 document(s) failed to delete.", [item])
        self.refresh()
        return removed

    def refresh(self) -> None:
        with self._errors():
            self._call(self.client.indices.refresh, index=self.alias)

    def rebuild(self, docs: Iterable[IndexedPost]) -> int:
        old = self.current_index()
        new = self._physical(int(old.rsplit("-", 1)[1]) + 1)
        with self._errors():
            self._call(self.client.indices.create, index=new)
            try:
                written = self._bulk(new, docs)
                self._call(self.client.indices.refresh, index=new)
            except BaseException:
                self.client.options(ignore_status=404).indices.delete(index=new)
                raise
            self._call(
                self.client.indices.update_aliases,
                actions=[
                    {"remove": {"index": old, "alias": self.alias}},
                    {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
                ],
            )
            self._call(self.client.indices.delete, index=old)
        return written

    def note(self, key: str) -> str | None:
        value = self._meta().get(f"weidang_note_{key}")
        return str(value) if value is not None else None

    def set_note(self, key: str, value: str) -> None:
        # _meta is replaced whole by a mapping update: keep what the template put there.
        meta = {**self._meta(), f"weidang_note_{key}": value}
        with self._errors():
            self._call(self.client.indices.put_mapping, index=self.current_index(), meta=meta)

    def _meta(self) -> dict[str, Any]:
        """The ``_meta`` of the mapping of the index the alias points to now."""
        name = self.current_index()
        with self._errors():
            body = self._call(self.client.indices.get_mapping, index=name).body
        meta = ((body.get(name) or {}).get("mappings") or {}).get("_meta") or {}
        return dict(meta) if isinstance(meta, dict) else {}

    # -- reading ---------------------------------------------------------------------------

    def search(
        self,
        query: str | SearchQuery,
        filters: SearchFilters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        check_page(limit, offset)
        parsed = parse(query)
        body = search_body(
            parsed, filters or SearchFilters(), limit, offset, self.words_analyzer is not None
        )
        with self._errors():
            resp = self._call(self.client.search, index=self.alias, **body)
        hits = resp["hits"]
        return SearchResults(
            int(hits["total"]["value"]), [hit_from(raw, parsed) for raw in hits["hits"]],
            total_is_exact=hits["total"].get("relation", "eq") == "eq",
        )

    def scan(
        self, query: str | SearchQuery, filters: SearchFilters | None = None
    ) -> Iterator[SearchHit]:
        """Every hit, unranked (scrolled), for exports beyond one page."""
        parsed = parse(query)
        body = {"query": query_clause(parsed, filters or SearchFilters(),
                                      self.words_analyzer is not None)}
        with self._errors():
            for raw in scan(self.client, query=body, index=self.alias, size=CHUNK):
                yield hit_from(raw, parsed)

    def count(self, filters: SearchFilters | None = None) -> int:
        clauses = filter_clauses(filters or SearchFilters())
        query = {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
        with self._errors():
            return int(self._call(self.client.count, index=self.alias, query=query)["count"])

    def close(self) -> None:
        self.client.close()

    # -- errors ----------------------------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call the client, pausing and retrying while the cluster answers 429 (too busy)."""
        for attempt in range(self.max_retries + 1):
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                if exc.status_code != 429 or attempt == self.max_retries:
                    raise
                time.sleep(min(60 * self.backoff, self.backoff * 2**attempt))
        raise AssertionError("unreachable")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the client's exceptions into weidang's plain sentences."""
        where = f"the Elasticsearch cluster at {self.url}"
        try:
            yield
        except SearchError:
            raise
        except UnsupportedProductError as exc:
            raise NotElasticsearch(
                f"the server at {self.url} does not answer as Elasticsearch, so weidang will "
                "not send it the archive; check the address"
            ) from exc
        except (AuthenticationException, AuthorizationException) as exc:
            raise AccessDenied(
                f"{where} refused weidang's credentials ({exc.status_code}); check the API key "
                "or user name and password given through the environment"
            ) from exc
        except BulkIndexError as exc:
            raise _bulk_error(where, exc.errors) from exc
        except ApiError as exc:
            raise _api_error(where, exc) from exc
        except elastic_transport.TransportError as exc:
            raise IndexUnavailable(
                f"{where} cannot be reached ({exc.__class__.__name__}); check that it is "
                "running and that the address is right"
            ) from exc


def _reason(body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        cause = (error.get("root_cause") or [error])[0]
        return str(cause.get("type", "")), str(cause.get("reason", ""))
    return "", str(error or body or "")


def _api_error(where: str, exc: ApiError) -> SearchError:
    status = exc.status_code
    kind, reason = _reason(exc.body)
    if status == 429:
        return IndexBusy(f"{where} stayed too busy to answer (429) after several tries; "
                         "try again later")
    if status == 400 and kind in _MAPPING_ERRORS:
        return MappingConflict(f"{where} refused weidang's index layout ({kind}: {reason}); "
                               "rebuild the index or remove the conflicting index template")
    if status >= 500:
        return IndexFailure(f"{where} failed with an internal error ({status} {kind}); "
                            "look at the cluster's logs")
    return SearchError(f"{where} refused the request ({status} {kind}: {reason})")


def _bulk_error(where: str, items: list[Any]) -> SearchError:
    first = next(iter(items[0].values())) if items else {}
    status = int(first.get("status", 0))
    error = first.get("error") or {}
    kind = error.get("type", "") if isinstance(error, dict) else str(error)
    reason = error.get("reason", "") if isinstance(error, dict) else ""
    count = f"{len(items)} document(s)"
    if status == 429:
        return IndexBusy(f"{where} stayed too busy (429) to index {count}; try again later")
    if kind in _MAPPING_ERRORS or status == 400:
        return MappingConflict(f"{where} refused {count} that do not fit the index mapping "
                               f"({kind}: {reason})")
    return IndexFailure(f"{where} failed to index {count} ({status} {kind})")
