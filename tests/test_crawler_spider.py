"""The spider in this process: recorded answers handed to it as Scrapy would, after the recording
and reading middlewares, and what it asks next and tells the book looked at directly."""

from __future__ import annotations

import pytest
from catalog_helpers import PAGE1, UID
from crawler_units import answer, build_harvest, request_for, sample
from scrapy.exceptions import CloseSpider
from twisted.internet import error as tx
from twisted.python.failure import Failure

from crawler.exchange import exchange_of
from crawler.reading import ReadingMiddleware
from crawler.recorder import WarcRecorderMiddleware
from harvesters import Post, Purpose, RateLimited, WeiboHarvester

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
