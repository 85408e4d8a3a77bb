"""The crawler's components built for real in this process, as Scrapy's own tests build theirs.

``get_crawler(HarvestSpider, settings)`` gives a crawler with weidang's settings; the spider it
holds has a real capture book, writing into a real WARC collection and catalog under
``tmp_path``. Middlewares are then built with ``from_crawler`` and fed Requests and Responses
made here, so each one runs alone, without a harvest in a subprocess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_helpers import DATA, UID
from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.test import get_crawler
from store_helpers import StepClock

from catalog.db import Database, open_catalog
from catalog.posts import PostCatalog
from crawler.book import CaptureBook
from crawler.exchange import Exchange, exchange_of
from crawler.job import HarvestJob, HarvestSummary
from crawler.settings import Politeness, scrapy_settings
from crawler.spider import HarvestSpider
from harvesters import RequestSpec
from warc_store import CaptureWriter, Collection

HARVEST_ID = "run-1"


@dataclass
class Harvest:
    """One harvest's parts, as crawler.harvest puts them together (without running them)."""

    crawler: Crawler
    spider: HarvestSpider
    book: CaptureBook
    posts: PostCatalog
    writer: CaptureWriter
    summary: HarvestSummary
    clock: StepClock
    db: Database


@contextmanager
def build_harvest(tmp_path: Path, *, settings: dict[str, Any] | None = None,
                  harvest_id: str = HARVEST_ID, day: int = 25, **job: Any) -> Iterator[Harvest]:
    """A Weibo account's harvest on November ``day``: its spider, book, catalog and writer."""
    clock = StepClock(dt.datetime(2026, 11, day, 8, 0, tzinfo=dt.UTC))
    root = tmp_path / "default"
    collection = Collection.open(root) if root.exists() else Collection.create(root, clock)
    db = open_catalog(tmp_path / "catalog.sqlite")
    writer = CaptureWriter(collection)
    the_job = HarvestJob("weibo", UID, harvest_id, **job)
    summary = HarvestSummary(the_job.account, harvest_id)
    posts = PostCatalog(db)
    book = CaptureBook(the_job, writer, posts, summary, clock)
    crawler = get_crawler(HarvestSpider, {**scrapy_settings(Politeness(delay=0)), **(settings or {})})
    spider = crawler._create_spider(job=the_job, book=book, catalog=posts, summary=summary,
                                    clock=clock)
    assert isinstance(spider, HarvestSpider)
    crawler.spider = spider
    try:
        yield Harvest(crawler, spider, book, posts, writer, summary, clock, db)
    finally:
        writer.close()
        db.close()


def request_for(harvest: Harvest, spec: RequestSpec, key: str | None = None) -> Request:
    """The Scrapy request the spider makes for ``spec`` (with its Exchange)."""
    request = harvest.spider._request(spec, key=key)
    assert isinstance(exchange_of(request), Exchange)
    return request


def answer(request: Request, body: bytes, status: int = 200,
           content_type: str = "application/json; charset=utf-8",
           reason: str = "OK") -> Response:
    return TextResponse(request.url, status=status, body=body, request=request,
                        headers={"Content-Type": content_type}, flags=[f"reason:{reason}"],
                        protocol="HTTP/1.1")


def sample(name: str) -> bytes:
    """A recorded Weibo answer (emulator/data/weibo)."""
    return (DATA / name).read_bytes()
