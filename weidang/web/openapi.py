"""The OpenAPI 3.0 description of the JSON API (``weidang.web.api_views``), served at
``/api/openapi.json``; tests/test_web_api.py runs schemathesis against it, so the two cannot
drift apart unnoticed."""

from __future__ import annotations

from typing import Any

from catalog.search.document import STATUSES

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
# what the API refuses in any text it is given (api_views._Args.text): a NUL character
_NO_NUL: dict[str, object] = {"type": "string", "pattern": "^[^\\u0000]*$"}
_INT = {"type": "integer"}
_ERROR = {"description": "What was wrong, in one sentence.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": required if required is not None else list(properties)}


_PAGE = _param("page", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}, "Page number.")
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_STATUSES = list(STATUSES)

DESCRIPTION: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "weidang open data API",
        "version": "1",
        "description": (
            "Read-only access to the posts this archive has opened to other archives (跨馆利用). "
            "No authentication: only what an administrator marked as open is served, the same "
            "to everyone. A post that is not open answers 404, as one the archive does not hold. "
            "Times are UTC (ISO 8601); dates in filters are China time days. OAI-PMH 2.0 "
            "harvesting of kept open records is at /oai."),
    },
    "paths": {
        "/api/v1/search": {"get": {
            "operationId": "search",
            "summary": "Search the open posts",
            "parameters": [
                _param("q", _NO_NUL | {"maxLength": 500},
                       "Words and \"phrases\", as in `weidang search`; empty: every open post."),
                _param("platform", {"type": "string", "enum": ["weibo", "wechat"]}, "Only this platform."),
                _param("account", _NO_NUL | {"maxLength": 200}, "An account id or name."),
                _param("since", _DATE, "Published on or after this day (China time)."),
                _param("until", _DATE, "Published on or before this day (China time)."),
                _param("status", {"type": "string", "enum": _STATUSES}, "Only posts in this status."),
                _PAGE,
                _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                       "Hits per page."),
            ],
            "responses": {
                "200": {"description": "One page of hits, best first.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}}},
                "400": _ERROR,
                "503": _ERROR,
            },
        }},
        "/api/v1/posts/{key}": {"get": {
            "operationId": "post",
            "summary": "One open post's record",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^(weibo|wechat):[^/]+$"},
                            "description": "platform:post_id, e.g. weibo:4900009245559000"}],
            "responses": {
                "200": {"description": "The post: its versions, status findings and 档号.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Post"}}}},
                "400": _ERROR,
                "404": _ERROR,
            },
        }},
        "/api/v1/open": {"get": {
            "operationId": "listOpen",
            "summary": "Every open post, in the order it was last captured, opened or appraised",
            "parameters": [_PAGE, _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100,
                                                      "default": 100}, "Posts per page.")],
            "responses": {
                "200": {"description": "One page of open posts.", "content": {"application/json": {
                    "schema": _object({"page": _INT, "per_page": _INT, "posts": {
                        "type": "array", "items": _object({
                            "id": _TEXT, "url": _TEXT, "status": _TEXT, "last_captured": _TEXT})}})}}},
                "400": _ERROR,
            },
        }},
    },
    "components": {"schemas": {
        "Error": _object({"error": _TEXT}),
        "Hit": _object({
            "id": _TEXT, "platform": _TEXT, "post_id": _TEXT, "version": _INT, "account_id": _TEXT,
            "account_name": _TEXT, "url": _TEXT, "status": _TEXT, "title": _TEXT, "snippet": _TEXT,
            "highlights": {"type": "array", "items": {"type": "array", "items": _INT,
                                                      "minItems": 2, "maxItems": 2},
                           "description": "[start, end) character offsets of matches in snippet"},
            "published_at": _TEXT, "captured_at": _TEXT, "warc_file": _TEXT,
            "warc_record_id": _TEXT, "payload_sha256": _TEXT}),
        "SearchResults": {**_object({"total": _INT, "page": _INT, "per_page": _INT, "hits": {
            "type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "note": {**_TEXT, "description": "Why nothing matched, when the filters contradict "
                                             "each other (e.g. until before since)."}}),
            "required": ["total", "page", "per_page", "hits"]},
        "Post": _object({
            "id": _TEXT, "platform": _TEXT, "post_id": _TEXT, "account": _TEXT,
            "account_name": _TEXT, "url": _TEXT, "status": _TEXT, "published_at": _NULLABLE_TEXT,
            "first_captured": _TEXT, "last_captured": _TEXT, "current_version": _INT,
            "title": _TEXT, "text": _TEXT,
            "archival_code": {**_NULLABLE_TEXT, "description": "档号 (DA/T 22), when kept"},
            "retention": {**_NULLABLE_TEXT, "description": "保管期限, when kept"},
            "versions": {"type": "array", "items": _object({
                "version": _INT, "outcome": _TEXT, "captured_at": _TEXT, "title": _TEXT,
                "text": _TEXT, "warc_file": _TEXT, "warc_record_id": _TEXT})},
            "statuses": {"type": "array", "items": _object({
                "status": _TEXT, "reason": _TEXT, "found_at": _TEXT,
                "evidence_record_id": _NULLABLE_TEXT})},
        }),
    }},
}
