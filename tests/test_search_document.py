"""The contract between the catalog and the index: IndexedPost, and opening from settings."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.search import IndexedPost, SearchError, open_from_settings
from catalog.search.sqlite_fts import SqliteSearchIndex
from weidang import default_settings

CST = dt.timezone(dt.timedelta(hours=8))
FIELDS = dict(platform="wechat", account_id="gjdaj", account_name="国家档案局", post_id="s1",
              version=3, url="https://mp.weixin.qq.com/s/s1",
              published_at=dt.datetime(2024, 3, 1, 9, 30, tzinfo=CST),
              captured_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC), title="标题", text="正文",
              appraisal={"archival_code": "J001-2024-0001", "retention": "永久"}, demo=True)


def test_round_trip_through_a_dict():
    post = IndexedPost(**FIELDS)
    data = post.to_dict()
    assert data["doc_id"] == "wechat:s1:v3" == post.doc_id
    assert data["published_at"] == "2024-03-01T09:30:00+08:00"
    assert IndexedPost.from_dict(data) == post
    with pytest.raises(ValueError, match="does not match"):
        IndexedPost.from_dict({**data, "doc_id": "wechat:s1:v1"})


@pytest.mark.parametrize("change, message", [
    ({"published_at": dt.datetime(2024, 3, 1)}, "time zone"),
    ({"status": "hidden"}, "status must be one of"),
    ({"version": 0}, "version"),
    ({"post_id": "a:b"}, "without ':'"),
])
def test_invalid_posts_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        IndexedPost(**{**FIELDS, **change})


def settings() -> dict:
    return {k: getattr(default_settings, k) for k in dir(default_settings) if k.isupper()}


def test_settings_default_to_the_embedded_index(tmp_path):
    with open_from_settings(settings(), tmp_path / "index", {}) as index:
        assert isinstance(index, SqliteSearchIndex)
        assert index.path == tmp_path / "index" / "search.sqlite"


def test_elasticsearch_needs_a_url_and_reads_secrets_from_the_environment(tmp_path):
    conf = {**settings(), "CATALOG_SEARCH_BACKEND": "elasticsearch"}
    with pytest.raises(SearchError, match="CATALOG_SEARCH_ES_URL is empty"):
        open_from_settings(conf, tmp_path, {})
    assert conf["CATALOG_SEARCH_ES_API_KEY_ENV"] == "WEIDANG_ES_API_KEY"  # a name, not a secret
