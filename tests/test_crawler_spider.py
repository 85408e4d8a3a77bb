"""The spider in this process: recorded answers handed to it as Scrapy would, after the recording
and reading middlewares, and what it asks next and tells the book looked at directly."""

from __future__ import annotations

import pytest
from catalog_helpers import PAGE1, UID
from crawler_units import answer, build_harvest, request_for, sample
from scrapy import Request
from scrapy.exceptions import CloseSpider, DontCloseSpider
from twisted.internet import error as tx
from twisted.python.failure import Failure

from crawler.exchange import exchange_of
from crawler.reading import ReadingMiddleware
from crawler.recorder import WarcRecorderMiddleware
from harvesters import Media, ParseResult, Post, Purpose, RateLimited, WeiboHarvester

CUT = "4649031014551911"  # cut short in the listing, one picture
WHOLE = "4648004356937383"  # whole in the listing, one picture
LONG_TEXT = "mweibo_statuses_extend_longTextContent_with_counts_4649031014551911.json"


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path) as parts:
        yield parts


def handed(harvest, request, body: bytes, status: int = 200) -> list:
    """The answer through the recorder (950) and the reader (10), then to the spider."""
    response = answer(request, body, status=status)
    for middleware in (WarcRecorderMiddleware, ReadingMiddleware):
        response = middleware.from_crawler(harvest.crawler).process_response(request, response)
    return list(harvest.spider.on_response(response) or [])


def first_page(harvest):
    spec = WeiboHarvester().timeline_request(UID, containerid=f"107603{UID}")
    return request_for(harvest, spec)


def purposes(requests) -> list[Purpose]:
    return [exchange_of(r).purpose for r in requests]


def test_a_listing_page_asks_the_next_page_first_then_long_texts_and_media(harvest):
    asked = handed(harvest, first_page(harvest), sample(PAGE1))
    assert purposes(asked)[0] is Purpose.TIMELINE  # its round trip overlaps the work on this page
    assert purposes(asked).count(Purpose.LONG_TEXT) == 7  # one per post cut short, and an original
    assert Purpose.MEDIA in purposes(asked)
    assert harvest.summary.pages == 1
    assert harvest.book.waiting(f"weibo:{CUT}") == 1  # its long text
    assert harvest.book.waiting(f"weibo:{WHOLE}") == 1  # its picture
    assert harvest.posts.versions("weibo", CUT) == harvest.posts.versions("weibo", WHOLE) == []


def test_a_long_text_completes_its_post_which_then_waits_for_its_picture(harvest):
    asked = handed(harvest, first_page(harvest), sample(PAGE1))
    key = f"weibo:{CUT}"
    [long_text] = [r for r in asked if exchange_of(r).post_key == key]
    [picture] = handed(harvest, long_text, sample(LONG_TEXT))
    assert exchange_of(picture).purpose is Purpose.MEDIA and exchange_of(picture).post_key == key
    assert harvest.book.waiting(key) == 1
    assert handed(harvest, picture, b"\xff\xd8 picture") == []
    harvest.book.page_done()
    [version] = harvest.posts.versions("weibo", CUT)
    assert [e.role for e in version.evidence] == ["listing", "long_text", "media"]


def test_a_refusal_closes_the_spider_and_is_kept_as_the_harvest_s_stop(harvest):
    with pytest.raises(CloseSpider):
        handed(harvest, first_page(harvest), b"", status=418)
    assert isinstance(harvest.spider.state.refusal, RateLimited)
    assert harvest.spider.ending("finished", 60).posts_seen == 0


def test_a_post_answered_404_at_its_recheck_is_recorded_as_gone(harvest):
    asked = handed(harvest, first_page(harvest), sample(PAGE1))
    [picture] = [r for r in asked if exchange_of(r).post_key == f"weibo:{WHOLE}"]
    handed(harvest, picture, b"\xff\xd8 picture")  # the post is recorded, then re-checked
    post = Post("weibo", UID, WHOLE, url=f"https://m.weibo.cn/status/{WHOLE}")
    spec = harvest.spider.harvester.recheck_request(post)
    request = request_for(harvest, spec, key=harvest.book.rechecking(post))
    assert handed(harvest, request, b"", status=404) == []
    assert harvest.posts.status("weibo", WHOLE) == "deleted"
    assert harvest.summary.posts_deleted == 1 and harvest.summary.errors == []


def test_a_long_text_that_got_no_answer_is_said_in_words_and_its_post_stops_waiting(harvest):
    asked = handed(harvest, first_page(harvest), sample(PAGE1))
    key = f"weibo:{CUT}"
    [long_text] = [r for r in asked if exchange_of(r).post_key == key]
    failure = Failure(tx.DNSLookupError("m.weibo.cn"))
    failure.request = long_text  # type: ignore[attr-defined]
    harvest.spider.on_error(failure)
    assert harvest.summary.errors == [
        f"{long_text.url} got no answer: the name m.weibo.cn could not be found (DNS)"]
    assert harvest.book.waiting(key) == 0
    harvest.book.close()  # the end of the harvest: recorded as far as it was read
    [version] = harvest.posts.versions("weibo", CUT)
    assert [e.role for e in version.evidence] == ["listing"]
    assert harvest.summary.posts_incomplete == 6  # no long text was answered


def test_a_media_address_is_asked_once_per_harvest_and_named_by_every_post_showing_it(harvest):
    """Two posts showing one picture wait for the same answer; a third, later, takes it as it is."""
    shared = "https://wx1.sinaimg.cn/large/shared0banner.jpg"
    listing = first_page(harvest)
    exchange = exchange_of(listing)

    def shown(post_id: str) -> ParseResult:
        return ParseResult(posts=[Post("weibo", UID, post_id, text=f"通知 {post_id}",
                                       media=[Media("image", shared, id="shared0banner")])])

    asked = list(harvest.spider._offer_posts(exchange, shown("5000000000000001"), [], set()))
    assert purposes(asked) == [Purpose.MEDIA]
    assert list(harvest.spider._offer_posts(exchange, shown("5000000000000002"), [], set())) == []
    [picture] = asked
    assert handed(harvest, picture, b"\xff\xd8 the banner") == []
    assert list(harvest.spider._offer_posts(exchange, shown("5000000000000003"), [], set())) == []
    harvest.book.page_done()
    record_id = exchange_of(picture).records.response_id
    for post_id in ("5000000000000001", "5000000000000002", "5000000000000003"):
        [version] = harvest.posts.versions("weibo", post_id)
        assert [e.record_id for e in version.evidence if e.role == "media"] == [record_id]


class _Engine:
    """Where the spider puts the requests it makes when idle (Scrapy's engine, in a harvest)."""

    def __init__(self) -> None:
        self.asked: list = []

    def crawl(self, request) -> None:
        self.asked.append(request)


def test_rechecks_wait_for_the_listing_and_skip_the_posts_it_showed(harvest):
    shown = Post("weibo", UID, WHOLE, url=f"https://m.weibo.cn/status/{WHOLE}")
    unseen = Post("weibo", UID, "4600000000000001", url="https://m.weibo.cn/status/4600000000000001")
    harvest.spider.recheck = [shown, unseen]
    harvest.crawler.engine = engine = _Engine()
    handed(harvest, first_page(harvest), sample(PAGE1))
    with pytest.raises(DontCloseSpider):  # the spider stays open for the re-check's answer
        harvest.spider.on_idle()
    [recheck] = engine.asked
    assert exchange_of(recheck).purpose is Purpose.RECHECK
    assert exchange_of(recheck).post_key == f"weibo:{unseen.post_id}"
    harvest.spider.on_idle()  # asked once: idle again, the spider may close
    assert len(engine.asked) == 1


def test_the_spider_yields_only_requests_so_scrapy_passes_them_on_one_task_at_a_time(harvest):
    """CONCURRENT_ITEMS is 1 (crawler.settings): Scrapy's 100 tasks per answer are for items
    handed to slow pipelines, and the spider records its posts itself."""
    asked = handed(harvest, first_page(harvest), sample(PAGE1))
    [long_text] = [r for r in asked if exchange_of(r).post_key == f"weibo:{CUT}"]
    asked += handed(harvest, long_text, sample(LONG_TEXT))
    assert asked and all(isinstance(r, Request) for r in asked)
    assert harvest.crawler.settings.getint("CONCURRENT_ITEMS") == 1
