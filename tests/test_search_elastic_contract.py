"""Contract tests: the REAL elasticsearch client talks over a socket to a local endpoint that
answers like Elasticsearch and records every request. They pin the exact template, bulk bodies,
query DSL and headers weidang sends, and how each failure reaches the archivist."""

from __future__ import annotations

import base64
import datetime as dt
import socket

import pytest
from search_es_endpoint import Endpoint, EndpointServer

from catalog.search import IndexedPost, SearchError, SearchFilters, open_from_settings, open_index
from catalog.search.errors import (
    AccessDenied,
    IndexBusy,
    IndexFailure,
    IndexUnavailable,
    MappingConflict,
    NotElasticsearch,
)
from weidang import errors as face_errors

CST = dt.timezone(dt.timedelta(hours=8))
COMPAT_JSON = "application/vnd.elasticsearch+json; compatible-with=8"
COMPAT_NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"

POST = IndexedPost(
    platform="weibo", account_id="2803301701", account_name="北京发布", post_id="O8xyz",
    version=2, url="https://weibo.com/2803301701/O8xyz",
    published_at=dt.datetime(2024, 3, 1, 9, 30, tzinfo=CST),
    captured_at=dt.datetime(2024, 4, 1, 8, 0, tzinfo=dt.UTC),
    title="", text="加强档案管理工作", repost_text="", media_count=2, status="edited",
    appraisal={"retention": "permanent", "archival_code": "J001-2024-0001"},
    warc_file="weidang-weibo-20240401080000-00001.warc.gz",
    warc_record_id="<urn:uuid:7d5e0c36-0000-4000-8000-000000000001>",
    payload_sha256="ab" * 32, demo=True,
)

TEXT_FIELD = {"type": "text", "analyzer": "weidang_cjk",
              "fields": {"chars": {"type": "text", "analyzer": "weidang_chars"}}}
TEMPLATE = {
    "index_patterns": ["weidang-posts-*"],
    "priority": 200,
    "_meta": {"managed_by": "weidang", "words_analyzer": ""},
    "template": {
        "settings": {
            "number_of_shards": 1,
            "analysis": {
                "char_filter": {"weidang_run_break": {
                    "type": "pattern_replace",
                    "pattern": r"(?<=\p{IsHan})[^\p{L}\p{N}]+(?=\p{IsHan})",
                    "replacement": " wdbrk "}},
                "analyzer": {
                    "weidang_cjk": {"type": "custom", "char_filter": ["weidang_run_break"],
                                    "tokenizer": "standard",
                                    "filter": ["cjk_width", "lowercase", "cjk_bigram"]},
                    "weidang_chars": {"type": "custom", "char_filter": ["weidang_run_break"],
                                      "tokenizer": "standard",
                                      "filter": ["cjk_width", "lowercase"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "account_id": {"type": "keyword"},
                "account_name": {"type": "keyword"},
                "appraisal": {"type": "flattened"},
                "captured_at": {"type": "date"},
                "demo": {"type": "boolean"},
                "doc_id": {"type": "keyword"},
                "media_count": {"type": "integer"},
                "payload_sha256": {"type": "keyword"},
                "platform": {"type": "keyword"},
                "post_id": {"type": "keyword"},
                "published_at": {"type": "date"},
                "repost_text": TEXT_FIELD,
                "comments_text": TEXT_FIELD,
                "status": {"type": "keyword"},
                "text": TEXT_FIELD,
                "title": TEXT_FIELD,
                "url": {"type": "keyword", "index": False},
                "version": {"type": "integer"},
                "warc_file": {"type": "keyword"},
                "warc_record_id": {"type": "keyword"},
            },
        },
    },
}


@pytest.fixture
def server():
    with EndpointServer() as srv:
        yield srv


def connect(srv: EndpointServer, **options):
    return open_index("elasticsearch", srv.url, backoff=0.01, max_retries=2, **options)


def test_opening_puts_the_template_and_creates_the_first_index_behind_the_alias(server):
    connect(server)
    calls = [(r.method, r.path) for r in server.endpoint.requests]
    assert calls == [("GET", "/"), ("PUT", "/_index_template/weidang-posts"),
                     ("HEAD", "/_alias/weidang-posts"), ("PUT", "/weidang-posts-000001")]
    assert server.endpoint.sent("PUT", "/_index_template/weidang-posts")[0].json() == TEMPLATE
    created = server.endpoint.sent("PUT", "/weidang-posts-000001")[0].json()
    assert created == {"aliases": {"weidang-posts": {"is_write_index": True}}}
    connect(server)  # the alias exists now: no second index
    assert len(server.endpoint.sent("PUT", "/weidang-posts-.*")) == 1


def test_every_request_asks_for_compatibility_with_8(server):
    index = connect(server)
    index.upsert([POST])
    index.search("档案")
    for req in server.endpoint.requests:
        assert req.headers["accept"] == COMPAT_JSON
        if req.body:
            expected = COMPAT_NDJSON if req.path.endswith("_bulk") else COMPAT_JSON
            assert req.headers["content-type"] == expected


def test_bulk_body_indexes_each_version_by_doc_id(server):
    index = connect(server)
    assert index.upsert([POST, POST]) == 2
    bulk = server.endpoint.sent("PUT", "/_bulk")
    assert len(bulk) == 1
    assert bulk[0].ndjson() == [
        {"index": {"_index": "weidang-posts", "_id": "weibo:O8xyz:v2"}}, POST.to_dict(),
        {"index": {"_index": "weidang-posts", "_id": "weibo:O8xyz:v2"}}, POST.to_dict(),
    ]
    assert POST.to_dict()["published_at"] == "2024-03-01T09:30:00+08:00"
    assert server.endpoint.indices["weidang-posts-000001"] == {"weibo:O8xyz:v2": POST.to_dict()}
    assert [r.path for r in server.endpoint.requests][-1] == "/weidang-posts/_refresh"


def test_search_sends_phrase_queries_and_filters(server):
    index = connect(server)
    filters = SearchFilters(account="北京发布", platform="weibo", status="edited",
                            since=dt.datetime(2024, 1, 1, tzinfo=CST),
                            until=dt.datetime(2024, 12, 31, 23, 59, tzinfo=CST))
    index.search('档案管理 COVID-19 "疫情 防控"', filters, limit=5, offset=10)
    body = server.endpoint.sent("POST", "/weidang-posts/_search")[0].json()
    fields = ["title^3", "text^1", "repost_text^0.5", "comments_text^0.3"]
    assert body["query"] == {"bool": {
        "must": [
            {"multi_match": {"query": "档案管理", "type": "phrase", "fields": fields}},
            {"multi_match": {"query": "COVID-19", "type": "phrase", "fields": fields}},
            {"multi_match": {"query": "疫情 防控", "type": "phrase", "fields": fields}},
        ],
        "filter": [
            {"bool": {"should": [{"term": {"account_id": "北京发布"}},
                                 {"term": {"account_name": "北京发布"}}],
                      "minimum_should_match": 1}},
            {"term": {"platform": "weibo"}},
            {"term": {"status": "edited"}},
            {"range": {"published_at": {"gte": "2024-01-01T00:00:00+08:00",
                                        "lte": "2024-12-31T23:59:00+08:00"}}},
        ],
    }}
    assert body["sort"] == ["_score", {"published_at": "desc"}]
    assert (body["from"], body["size"], body["track_total_hits"]) == (10, 5, True)
    assert body["highlight"]["pre_tags"] == ["\ue000"]
    assert body["highlight"]["post_tags"] == ["\ue001"]
    assert set(body["highlight"]["fields"]) == {
        "title", "title.chars", "text", "text.chars", "repost_text", "repost_text.chars",
        "comments_text", "comments_text.chars"}


def test_an_account_by_its_keys_filters_on_platform_and_id_pairs(server):
    index = connect(server)
    keys = frozenset({"wechat:gh_0123456789ab", "wechat:MzkwMDAwMDAwMQ=="})
    index.search("", SearchFilters(accounts=keys))
    body = server.endpoint.sent("POST", "/weidang-posts/_search")[0].json()
    assert body["query"]["bool"]["filter"] == [{"bool": {"should": [
        {"bool": {"filter": [{"term": {"platform": "wechat"}},
                             {"term": {"account_id": "MzkwMDAwMDAwMQ=="}}]}},
        {"bool": {"filter": [{"term": {"platform": "wechat"}},
                             {"term": {"account_id": "gh_0123456789ab"}}]}},
    ], "minimum_should_match": 1}}]


def test_a_lone_character_is_matched_on_the_character_fields(server):
    index = connect(server)
    index.search("档")
    body = server.endpoint.sent("POST", "/weidang-posts/_search")[0].json()
    assert body["query"]["bool"]["must"] == [{"multi_match": {
        "query": "档", "type": "phrase",
        "fields": ["title.chars^3", "text.chars^1", "repost_text.chars^0.5", "comments_text.chars^0.3"]}}]


def test_empty_query_sorts_newest_first(server):
    connect(server).search("")
    body = server.endpoint.sent("POST", "/weidang-posts/_search")[0].json()
    assert body["query"] == {"bool": {"must": [{"match_all": {}}]}}
    assert body["sort"] == [{"published_at": "desc"}, {"doc_id": "asc"}]


def test_hits_are_read_back_with_highlights(server):
    index = connect(server)
    index.upsert([POST])
    server.endpoint.highlight = {"text": ["加强\ue000档案管理\ue001工作"]}
    results = index.search("档案管理")
    assert results.total == 1
    hit = results.hits[0]
    assert (hit.doc_id, hit.demo, hit.score) == ("weibo:O8xyz:v2", True, 1.5)
    assert hit.published_at == POST.published_at and hit.payload_sha256 == "ab" * 32
    assert hit.marked() == "加强«档案管理»工作"


def test_plugin_analyzer_is_detected_and_only_adds_to_the_score(server):
    server.endpoint.plugins = [{"name": "node-1", "component": "analysis-ik", "version": "8.15.0"}]
    index = connect(server, analyzer="auto")
    assert index.words_analyzer == "ik_max_word"
    assert server.endpoint.sent("GET", "/_cat/plugins")[0].params == {"format": ["json"]}
    text = server.endpoint.templates["weidang-posts"]["template"]["mappings"]["properties"]["text"]
    assert text["fields"]["words"] == {"type": "text", "analyzer": "ik_max_word"}
    index.search("档案管理")
    query = server.endpoint.sent("POST", "/weidang-posts/_search")[0].json()["query"]["bool"]
    assert query["should"] == [{"multi_match": {
        "query": "档案管理", "fields": ["title.words^3", "text.words^1", "repost_text.words^0.5",
                                    "comments_text.words^0.3"]}}]


def test_a_missing_plugin_is_a_plain_error(server):
    with pytest.raises(SearchError, match="needs the analysis-smartcn plugin"):
        connect(server, analyzer="smartcn")


def test_rebuild_fills_a_new_index_then_swaps_the_alias_atomically(server):
    index = connect(server)
    index.upsert([POST])
    start = len(server.endpoint.requests)
    assert index.rebuild([POST]) == 1
    calls = [(r.method, r.path) for r in server.endpoint.requests[start:]]
    assert calls == [
        ("GET", "/_alias/weidang-posts"), ("PUT", "/weidang-posts-000002"), ("PUT", "/_bulk"),
        ("POST", "/weidang-posts-000002/_refresh"), ("POST", "/_aliases"),
        ("DELETE", "/weidang-posts-000001"),
    ]
    assert server.endpoint.sent("POST", "/_aliases")[0].json() == {"actions": [
        {"remove": {"index": "weidang-posts-000001", "alias": "weidang-posts"}},
        {"add": {"index": "weidang-posts-000002", "alias": "weidang-posts",
                 "is_write_index": True}}]}
    assert server.endpoint.aliases == {"weidang-posts": "weidang-posts-000002"}
    assert index.current_index() == "weidang-posts-000002"


def test_delete_sends_delete_actions_and_counts_what_existed(server):
    index = connect(server)
    index.upsert([POST])
    assert index.delete([POST.doc_id, "weibo:gone:v1"]) == 1
    assert server.endpoint.sent("PUT", "/_bulk")[-1].ndjson() == [
        {"delete": {"_index": "weidang-posts", "_id": "weibo:O8xyz:v2"}},
        {"delete": {"_index": "weidang-posts", "_id": "weibo:gone:v1"}}]


# -- failures ----------------------------------------------------------------------------

TOO_MANY = (429, {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"},
                  "status": 429})


def test_429_then_success_is_retried_with_backoff(server):
    index = connect(server)
    server.endpoint.script("PUT", "/_bulk", TOO_MANY)
    server.endpoint.script("POST", "/weidang-posts/_search", TOO_MANY)
    assert index.upsert([POST]) == 1
    assert len(server.endpoint.sent("PUT", "/_bulk")) == 2
    assert index.search("档案").total == 1
    assert len(server.endpoint.sent("POST", "/weidang-posts/_search")) == 2


def test_429_forever_becomes_index_busy(server):
    index = connect(server)
    item_429 = (200, {"took": 1, "errors": True, "items": [{"index": {
        "_index": "weidang-posts-000001", "_id": POST.doc_id, "status": 429,
        "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}}]})
    server.endpoint.script("PUT", "/_bulk", item_429, item_429, item_429)
    with pytest.raises(IndexBusy, match="too busy"):
        index.upsert([POST])
    assert len(server.endpoint.sent("PUT", "/_bulk")) == 3  # the first try and two retries
    server.endpoint.script("POST", "/weidang-posts/_search", TOO_MANY, TOO_MANY, TOO_MANY)
    with pytest.raises(IndexBusy):
        index.search("档案")


def test_500_becomes_index_failure(server):
    index = connect(server)
    server.endpoint.script("POST", "/weidang-posts/_search", (500, {"error": {
        "type": "search_phase_execution_exception", "reason": "all shards failed"},
        "status": 500}))
    with pytest.raises(IndexFailure, match="internal error") as caught:
        index.search("档案")
    assert face_errors.sentence(caught.value).startswith("The Elasticsearch cluster at http")


def test_mapping_conflict_on_the_template(server):
    server.endpoint.script("PUT", "/_index_template/weidang-posts", (400, {"error": {
        "root_cause": [{"type": "illegal_argument_exception",
                        "reason": "mapper [text] cannot be changed from type [keyword]"}],
        "type": "illegal_argument_exception", "reason": "mapper [text] cannot be changed"},
        "status": 400}))
    with pytest.raises(MappingConflict, match="cannot be changed from type"):
        connect(server)


def test_mapping_conflict_on_a_document(server):
    index = connect(server)
    server.endpoint.script("PUT", "/_bulk", (200, {"took": 1, "errors": True, "items": [
        {"index": {"_index": "weidang-posts-000001", "_id": POST.doc_id, "status": 400,
                   "error": {"type": "document_parsing_exception",
                             "reason": "failed to parse field [published_at]"}}}]}))
    with pytest.raises(MappingConflict, match="published_at"):
        index.upsert([POST])


def test_credentials_refused(server):
    server.endpoint.script("GET", "/", (401, {"error": {
        "type": "security_exception", "reason": "missing authentication credentials"},
        "status": 401}))
    with pytest.raises(AccessDenied, match="credentials"):
        connect(server, api_key="wrong")
    assert server.endpoint.requests[0].headers["authorization"] == "ApiKey wrong"


def test_connection_refused_is_a_plain_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(IndexUnavailable, match="cannot be reached"):
        open_index("elasticsearch", f"http://127.0.0.1:{port}", max_retries=1, backoff=0.01)


def test_a_server_that_is_not_elasticsearch_is_refused():
    with EndpointServer(Endpoint(product_header=False)) as srv:
        with pytest.raises(NotElasticsearch, match="does not answer as Elasticsearch"):
            connect(srv)
        assert [r.path for r in srv.endpoint.requests] == ["/"]  # nothing else was sent


def test_an_unsupported_major_version_is_refused():
    with EndpointServer(Endpoint(version="7.17.0")) as srv:
        with pytest.raises(SearchError, match="7.17.0 .* not supported"):
            connect(srv)


def test_search_errors_are_shown_as_sentences_by_the_face():
    assert issubclass(IndexBusy, face_errors.user_errors())


def test_settings_name_the_environment_variables_that_hold_credentials(server, tmp_path):
    conf = {"CATALOG_SEARCH_BACKEND": "elasticsearch", "CATALOG_SEARCH_ES_URL": server.url,
            "CATALOG_SEARCH_ES_USERNAME_ENV": "ES_USER", "CATALOG_SEARCH_ES_PASSWORD_ENV": "ES_PW"}
    open_from_settings(conf, tmp_path, {"ES_USER": "archivist", "ES_PW": "s3cret"})
    auth = server.endpoint.requests[0].headers["authorization"]
    assert auth == "Basic " + base64.b64encode(b"archivist:s3cret").decode()


def test_notes_live_in_the_mapping_meta_of_the_index_behind_the_alias(server):
    index = connect(server)
    assert index.note("catalog_cursor") is None
    server.endpoint.metas["weidang-posts-000001"] = {"managed_by": "weidang"}  # the template's
    index.set_note("catalog_cursor", '{"captures": 7}')
    put = server.endpoint.sent("PUT", "/weidang-posts-000001/_mapping")[0].json()
    assert put == {"_meta": {"managed_by": "weidang",
                             "weidang_note_catalog_cursor": '{"captures": 7}'}}
    assert connect(server).note("catalog_cursor") == '{"captures": 7}'
    index.rebuild([POST])  # a new physical index: the note of the old one is gone with it
    assert index.note("catalog_cursor") is None


def test_what_the_cluster_refuses_is_told_in_chinese(server):
    def told(error: BaseException) -> str:
        said = face_errors.translated(str(error), "zh_CN")
        assert said != str(error), str(error)
        return said

    index = connect(server)
    server.endpoint.script("PUT", "/_bulk", (200, {"took": 1, "errors": True, "items": [
        {"index": {"_index": "weidang-posts-000001", "_id": POST.doc_id, "status": 400,
                   "error": {"type": "document_parsing_exception", "reason": "bad date"}}}]}))
    with pytest.raises(MappingConflict) as conflict:
        index.upsert([POST])
    assert told(conflict.value) == (f"{server.url} 上的 Elasticsearch 集群拒收了 1 个与索引映射"
                                    "不符的文档（document_parsing_exception: bad date）")
    server.endpoint.script("GET", "/", (401, {"error": {"type": "security_exception"},
                                              "status": 401}))
    with pytest.raises(AccessDenied) as refused:
        connect(server, api_key="wrong")
    assert told(refused.value).startswith(f"{server.url} 上的 Elasticsearch 集群拒绝了 weidang 的"
                                          "凭据（401）")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(IndexUnavailable) as unreachable:
        open_index("elasticsearch", f"http://127.0.0.1:{port}", max_retries=0)
    assert told(unreachable.value).startswith(f"无法连接 http://127.0.0.1:{port} 上的 Elasticsearch 集群")
    with EndpointServer(Endpoint(product_header=False)) as other:
        with pytest.raises(NotElasticsearch) as foreign:
            connect(other)
    assert told(foreign.value).endswith("weidang 不会把档案发送给它；请检查地址")
