"""A real archive to search: harvests of the emulator (one Weibo, one WeChat account), then an
edit and deletions found by a second harvest. Shared by the search feed and index rebuild tests.

Harvests run as `weidang` subprocesses (Scrapy's reactor runs once per process), which index
what they record as they go; the tests then look at the index file they left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from crawler_helpers import Archive, start_emulator, wechat_account, weibo_ids

from catalog.index_feed import all_documents
from catalog.search import SearchFilters
from catalog.search.document import IndexedPost
from catalog.search.sqlite_fts import SqliteSearchIndex
from warc_store import Collection

WEIBO_UID, WECHAT_BIZ = "7000000001", "MzkwMDAwMDAwMQ=="
WEIBO, WECHAT = f"weibo:{WEIBO_UID}", f"wechat:{WECHAT_BIZ}"
EDITED_TEXT = "市应急管理局更正：疫情通报已更新，档案已归档。"


@dataclass
class Harvested:
    archive: Archive
    first: list[dict[str, Any]]
    second: list[dict[str, Any]]
    edited: tuple[str, str]  # (platform, post_id)
    weibo_gone: tuple[str, str]  # Weibo answers "not found or no permission": recorded as blocked
    wechat_deleted: tuple[str, str]

    @property
    def home(self) -> Path:
        return self.archive.root

    def index(self) -> SqliteSearchIndex:
        return SqliteSearchIndex(self.home / "index" / "search.sqlite")

    def collection(self) -> Collection:
        return Collection.open(self.home / "collections" / "default")

    def catalog_documents(self) -> list[IndexedPost]:
        """What the catalog says the index should hold, built afresh."""
        with self.archive.catalog() as db:
            return list(all_documents(db, {"default": self.collection()}))

    def indexed(self) -> dict[str, dict[str, Any]]:
        """Every document of the index, by doc_id, as plain dicts."""
        index = self.index()
        try:
            return {hit.doc_id: index.get(hit.doc_id).to_dict()  # type: ignore[union-attr]
                    for hit in index.scan("", SearchFilters())}
        finally:
            index.close()


def harvest(archive: Archive) -> list[dict[str, Any]]:
    done = archive.weidang("harvest", WEIBO, WECHAT, "--json")
    assert done.returncode == 0 and done.stdout.startswith("["), done.stdout + done.stderr
    assert "Warning" not in done.stderr, done.stderr
    return list(json.loads(done.stdout))


@pytest.fixture(scope="session", name="harvested")
def harvested_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harvested]:
    site = start_emulator(tmp_path_factory.mktemp("search-emulator"), accounts=1, posts=12)
    try:
        archive = Archive(tmp_path_factory.mktemp("search-home") / "home", site)
        account = wechat_account(site, WECHAT_BIZ)
        archive.add(WEIBO)
        archive.add(WECHAT, source="backend",
                    credentials={"cookie": account["cookie"], "token": account["token"]})
        first = harvest(archive)
        ids = weibo_ids(site, WEIBO_UID)
        link = dict(parse_qsl(urlsplit(account["links"][1]).query))
        for change in ({"op": "edit", "id": ids[4], "text": EDITED_TEXT},
                       {"op": "delete", "id": ids[3]},
                       {"op": "delete", "platform": "wechat", "biz": WECHAT_BIZ,
                        "mid": link["mid"], "idx": link["idx"]}):
            site.control("POST", "/mutate", json.dumps(change).encode())
        second = harvest(archive)
        yield Harvested(archive, first, second, edited=("weibo", ids[4]),
                        weibo_gone=("weibo", ids[3]),
                        wechat_deleted=("wechat", f"{link['mid']}_{link['idx']}"))
    finally:
        site.stop()
