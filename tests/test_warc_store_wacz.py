"""The replay index and the WACZ writer, on collections the store writes (readers: test_wacz_readers)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_helpers import StepClock, json_exchange

from warc_store import (
    CaptureWriter,
    Collection,
    HttpRequest,
    HttpResponse,
    StoreConfig,
    StoreError,
    iter_records,
)
from warc_store.cdxj import url_key
from warc_store.replay_index import REVISIT_MIME, replay_lines, with_originals, write_replay_index
from warc_store.wacz import Page, rfc3339, write_collection_wacz

PICTURE = bytes(range(256)) * 40
POST_URI = "urn:weidang:post:weibo:4900009138529001:v1"
POST_TYPE = "application/vnd.weidang.post+json; version=1"


def picture(url: str) -> tuple[HttpRequest, HttpResponse]:
    return HttpRequest("GET", url), HttpResponse(200, "OK", [("Content-Type", "image/jpeg")], PICTURE)


def write_some(collection: Collection, info: dict[str, str] | None = None, same_picture_at: str = "") -> None:
    """A timeline page, a picture, the same picture under another URL (a revisit), a post record."""
    with CaptureWriter(collection, StoreConfig(), info=info or {}) as w:
        timeline = w.write_exchange(*json_exchange(1))
        if not same_picture_at:
            w.write_exchange(*picture("https://wx1.sinaimg.cn/large/a.jpg"), dedup=True)
        w.write_exchange(*picture(same_picture_at or "https://wx3.sinaimg.cn/large/b.jpg"), dedup=True)
        w.write_metadata(POST_URI, b'{"text":"\xe9\x80\x9a\xe7\x9f\xa5"}', POST_TYPE,
                         refers_to=[timeline.response_id])


@pytest.fixture
def collection(tmp_path: Path) -> Collection:
    coll = Collection.create(tmp_path / "coll", StepClock())
    write_some(coll)
    return coll


def test_replay_index_holds_only_what_replay_shows_sorted(collection):
    lines = replay_lines(collection.index)
    assert lines == sorted(lines)
    parsed = [(key, ts, json.loads(raw)) for key, ts, raw in (line.decode().split(" ", 2) for line in lines)]
    by_url = {fields["url"]: fields for _, _, fields in parsed}
    # the timeline and the first picture as responses, the second picture as a revisit, the post record
    assert set(by_url) == {json_exchange(1)[0].url, "https://wx1.sinaimg.cn/large/a.jpg",
                           "https://wx3.sinaimg.cn/large/b.jpg", POST_URI}
    assert by_url["https://wx3.sinaimg.cn/large/b.jpg"]["mime"] == REVISIT_MIME
    assert by_url["https://wx1.sinaimg.cn/large/a.jpg"]["mime"] == "image/jpeg"
    assert by_url[POST_URI]["mime"] == "application/vnd.weidang.post+json"
    assert by_url[POST_URI].keys() == {"url", "mime", "digest", "length", "offset", "filename"}
    for key, _ts, fields in parsed:
        assert key == url_key(fields["url"])
        if fields["url"] != POST_URI:
            assert fields.keys() == {"url", "mime", "status", "digest", "length", "offset", "filename"}
            assert fields["status"] == "200"
        assert all(isinstance(v, str) for v in fields.values())  # as cdxj-indexer writes numbers


def test_collection_index_stays_in_write_order_with_every_record(collection, tmp_path):
    """The two forms: index.cdxj has every record (warcinfo, request ...) in write order, found by
    id; the replay index is a sorted subset written beside it on demand."""
    own = collection.index.path.read_bytes().splitlines(keepends=True)
    records = [(r.filename, r.offset, r.record_type)
               for p in collection.closed_files() for r in iter_records(p)]
    entries = list(collection.index)
    assert [(e.filename, e.offset, e.record_type) for e in entries] == records
    assert {"warcinfo", "request"} <= {e.record_type for e in entries}
    assert own != sorted(own)  # m.weibo.cn was written before the sinaimg.cn pictures
    replay = tmp_path / "replay.cdxj"
    assert write_replay_index(collection.index, replay) == 4
    assert replay.read_bytes() == b"".join(sorted(replay.read_bytes().splitlines(keepends=True)))
    assert collection.index.path.read_bytes() == b"".join(own)  # untouched


def test_wacz_holds_the_files_index_pages_and_their_hashes(collection, tmp_path):
    names = [p.name for p in collection.closed_files()]
    post = Page(json_exchange(1)[0].url, datetime(2026, 11, 25, 16, 0, 1, tzinfo=UTC), "通知",
                text="关于档案")
    made = write_collection_wacz(collection, names, tmp_path / "a.wacz", [post], title="测试账号",
                                 created=datetime(2026, 12, 1, tzinfo=UTC))
    with zipfile.ZipFile(made.path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert list(infos) == [f"archive/{n}" for n in names] + [
            "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"]
        for name in names:
            assert infos[f"archive/{name}"].compress_type == zipfile.ZIP_STORED
            assert zf.read(f"archive/{name}") == (collection.warcs / name).read_bytes()
        assert zf.read("indexes/index.cdx") == b"".join(replay_lines(collection.index))
        package = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        members = {name: zf.read(name) for name in infos}
    assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
    assert package["title"] == "测试账号" and package["created"] == "2026-12-01T00:00:00Z"
    assert package["software"].startswith("weidang") and "weidang-demo" not in package
    assert [r["path"] for r in package["resources"]] == list(infos)[:-2]
    for res in package["resources"]:
        data = members[res["path"]]
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and res["bytes"] == len(data)
    assert digest == {"path": "datapackage.json",
                      "hash": "sha256:" + hashlib.sha256(members["datapackage.json"]).hexdigest()}
    assert pages == [{"format": "json-pages-1.0", "id": "pages", "title": "All Pages", "hasText": True},
                     {"url": post.url, "ts": "2026-11-25T16:00:01Z", "title": "通知", "text": "关于档案"}]
    assert made.sha256 == hashlib.sha256(made.path.read_bytes()).hexdigest()
    assert not list(tmp_path.glob("*.part"))


def test_demo_data_is_marked_in_the_package(tmp_path):
    demo = Collection.create(tmp_path / "demo", StepClock())
    write_some(demo, info={"weidang-demo": "true"})
    made = write_collection_wacz(demo, [p.name for p in demo.closed_files()], tmp_path / "d.wacz", [],
                                 title="演示")  # not asked: the warcinfo says so
    assert made.demo and made.datapackage["weidang-demo"] is True
    assert "DEMO DATA" in str(made.datapackage["description"])
    plain = Collection.create(tmp_path / "plain", StepClock())
    write_some(plain)
    asked = write_collection_wacz(plain, [p.name for p in plain.closed_files()], tmp_path / "p.wacz", [],
                                  title="x", demo=True, description="一个账号")
    assert asked.datapackage["weidang-demo"] is True
    assert str(asked.datapackage["description"]).endswith("一个账号")


def test_revisit_needs_the_file_of_its_original(tmp_path):
    coll = Collection.create(tmp_path / "coll", StepClock())
    write_some(coll)  # file 1: the picture's original
    write_some(coll, same_picture_at="https://wx4.sinaimg.cn/large/c.jpg")  # file 2: only revisits of it
    first, second = [p.name for p in coll.closed_files()]
    with pytest.raises(StoreError, match=f"wx4.sinaimg.cn/large/c.jpg needs {first}"):
        write_collection_wacz(coll, [second], tmp_path / "x.wacz", [], title="x")
    assert with_originals(coll, [second]) == [first, second]
    assert write_collection_wacz(coll, with_originals(coll, [second]), tmp_path / "x.wacz", [],
                                 title="x").index_lines == 4 + 3
    assert not (tmp_path / "x.wacz.part").exists()


def test_a_package_finds_its_records_without_reading_the_whole_index(tmp_path, monkeypatch):
    """A transfer packs a few accounts' files out of years of them: their records come through
    the index's look-up table, not from reading every line of the collection's index (which a
    transfer did several times for each account)."""
    from warc_store.cdxj import CdxjIndex
    from warc_store.replay_index import file_entries

    coll = Collection.create(tmp_path / "coll", StepClock())
    write_some(coll)
    write_some(coll, same_picture_at="https://wx4.sinaimg.cn/large/c.jpg")
    first, second = [p.name for p in coll.closed_files()]
    everything = list(coll.index)
    monkeypatch.setattr(CdxjIndex, "__iter__", lambda self: (_ for _ in ()).throw(AssertionError))
    assert file_entries(coll, [second, first]) == (
        [e for e in everything if e.filename == second] + [e for e in everything if e.filename == first])
    assert with_originals(coll, [second]) == [first, second]
    assert write_collection_wacz(coll, [first, second], tmp_path / "x.wacz", [],
                                 title="x").index_lines == 4 + 3
    with pytest.raises(StoreError, match="lists no record of nosuch.warc.gz"):
        file_entries(coll, [first, "nosuch.warc.gz"])


def test_refuses_what_would_not_replay_or_not_match(collection, tmp_path):
    names = [p.name for p in collection.closed_files()]
    out = tmp_path / "a.wacz"
    with pytest.raises(StoreError, match="not among the package's records"):
        write_collection_wacz(collection, names, out, [Page("https://m.weibo.cn/detail/1", "20261125080001")],
                              title="x")
    with pytest.raises(StoreError, match="nosuch.warc.gz is not a closed WARC file"):
        write_collection_wacz(collection, [*names, "nosuch.warc.gz"], out, [], title="x")
    warc = collection.warcs / names[0]
    warc.write_bytes(warc.read_bytes() + b"\0")  # changed after it was sealed
    with pytest.raises(StoreError, match="no longer has the SHA-256"):
        write_collection_wacz(collection, names, out, [], title="x")
    assert not out.exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(("given", "expected"), [
    ("20261125080001", "2026-11-25T08:00:01Z"),
    ("2026-11-25T16:00:01+08:00", "2026-11-25T08:00:01Z"),
    (datetime(2026, 11, 25, 8, 0, 1, tzinfo=UTC), "2026-11-25T08:00:01Z"),
])
def test_page_times_are_rfc3339_in_utc(given, expected):
    assert rfc3339(given) == expected


def test_page_time_without_zone_is_refused():
    with pytest.raises(StoreError, match="no time zone"):
        rfc3339("2026-11-25T08:00:01")


def test_a_revisit_whose_original_left_the_index_is_refused(collection, tmp_path):
    """An index that lost the original's line (damage; verify says so) is not packed silently."""
    entries = list(collection.index)
    original = next(e for e in entries if e.url == "https://wx1.sinaimg.cn/large/a.jpg")
    collection.index.rewrite([e for e in entries if e is not original])
    with pytest.raises(StoreError, match="original of the revisit of https://wx3.sinaimg.cn/large/b.jpg"):
        write_collection_wacz(collection, [p.name for p in collection.closed_files()], tmp_path / "a.wacz",
                              [], title="x")
