"""Query DSL for a parsed search, and hits read back from Elasticsearch's answer.

Each term becomes a ``multi_match`` of type ``phrase`` (a ``match_phrase`` on every text field):
its bigrams must appear at consecutive positions, as in the embedded index. A term holding a
lone Han character is matched on the ``chars`` sub-fields instead, where a character is a token.
"""

from __future__ import annotations

from typing import Any

from catalog.search.document import IndexedPost, SearchHit
from catalog.search.elastic_mapping import TEXT_FIELDS
from catalog.search.query import SearchFilters, SearchQuery, account_pairs
from catalog.search.snippet import SNIPPET_CHARS, snippet_hit

PRE_TAG = "\ue000"  # private-use characters: they never occur in posts, so tags parse safely
POST_TAG = "\ue001"


def _fields(sub: str | None) -> list[str]:
    return [
        f"{name}.{sub}^{boost:g}" if sub else f"{name}^{boost:g}"
        for name, boost in TEXT_FIELDS.items()
    ]


def filter_clauses(filters: SearchFilters) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if filters.account:
        out.append({"bool": {"should": [{"term": {"account_id": filters.account}},
                                        {"term": {"account_name": filters.account}}],
                             "minimum_should_match": 1}})
    if filters.accounts is not None:
        out.append({"bool": {"should": [
            {"bool": {"filter": [{"term": {"platform": platform}}, {"term": {"account_id": key}}]}}
            for platform, key in account_pairs(filters)], "minimum_should_match": 1}})
    if filters.platform:
        out.append({"term": {"platform": filters.platform}})
    if filters.status:
        out.append({"term": {"status": filters.status}})
    if filters.since or filters.until:
        bounds = {}
        if filters.since:
            bounds["gte"] = filters.since.isoformat()
        if filters.until:
            bounds["lte"] = filters.until.isoformat()
        out.append({"range": {"published_at": bounds}})
    return out


def query_clause(query: SearchQuery, filters: SearchFilters, words: bool) -> dict[str, Any]:
    must = [
        {"multi_match": {"query": term.text, "type": "phrase",
                         "fields": _fields("chars" if term.has_lone_han else None)}}
        for term in query.terms
    ]
    boolean: dict[str, Any] = {"must": must or [{"match_all": {}}]}
    if words and query.terms:
        # Only adds to the score: word-segmented matches rank higher, matching stays the same.
        boolean["should"] = [{"multi_match": {
            "query": " ".join(t.text for t in query.terms), "fields": _fields("words")}}]
    if filters_ := filter_clauses(filters):
        boolean["filter"] = filters_
    return {"bool": boolean}


def search_body(
    query: SearchQuery, filters: SearchFilters, limit: int, offset: int, words: bool
) -> dict[str, Any]:
    if query.empty:
        sort: list[Any] = [{"published_at": "desc"}, {"doc_id": "asc"}]
    else:
        sort = ["_score", {"published_at": "desc"}]
    highlight_fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        for field in (name, f"{name}.chars"):
            highlight_fields[field] = {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}
    return {
        "query": query_clause(query, filters, words),
        "sort": sort,
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "highlight": {"pre_tags": [PRE_TAG], "post_tags": [POST_TAG], "fields": highlight_fields},
    }


def post_from_source(source: dict[str, Any]) -> IndexedPost:
    return IndexedPost.from_dict(source)


def source_of(doc: IndexedPost) -> dict[str, Any]:
    return doc.to_dict()


def parse_fragment(fragment: str, field_text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Plain snippet text and highlight spans from a fragment carrying the private-use tags."""
    plain, spans, start = [], [], None
    pos = 0
    for ch in fragment:
        if ch == PRE_TAG:
            start = pos
        elif ch == POST_TAG:
            if start is not None and pos > start:
                spans.append((start, pos))
            start = None
        else:
            plain.append(ch)
            pos += 1
    text = "".join(plain).replace("\n", " ")
    lead = "" if field_text.replace("\n", " ").startswith(text) else "…"
    tail = "" if field_text.replace("\n", " ").endswith(text) else "…"
    merged: list[tuple[int, int]] = []
    for s, e in ((s + len(lead), e + len(lead)) for s, e in spans):
        if merged and s <= merged[-1][1]:  # bigram highlights of one phrase touch: join them
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return lead + text + tail, tuple(merged)


def hit_from(raw: dict[str, Any], query: SearchQuery) -> SearchHit:
    post = post_from_source(raw["_source"])
    highlight = raw.get("highlight") or {}
    for name in ("text", "repost_text", "title", "comments_text"):
        for field in (name, f"{name}.chars"):
            if highlight.get(field):
                snippet, spans = parse_fragment(highlight[field][0], getattr(post, name))
                return SearchHit.from_post(post, _score(raw), snippet, spans)
    return snippet_hit(post, _score(raw), query)


def _score(raw: dict[str, Any]) -> float:
    score = raw.get("_score")
    return round(float(score), 6) if score is not None else 0.0

