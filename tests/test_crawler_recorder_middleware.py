"""The WARC-recording middleware alone: Requests and Responses made here, recorded by the real
writer of a harvest into a collection under tmp_path."""

from __future__ import annotations

import pytest
from crawler_units import answer, build_harvest, request_for
from scrapy.exceptions import NotConfigured

from crawler import signals
from crawler.exchange import exchange_of
from crawler.recorder import WarcRecorderMiddleware
from harvesters import RequestSpec
from warc_store import read_record

LISTING = "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"
PICTURE = "https://wx1.sinaimg.cn/large/006QZngZgy1grl2q3n98jj30rs2084qp.jpg"


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path) as parts:
        yield parts


def test_switched_off_by_its_setting(tmp_path):
    with build_harvest(tmp_path, settings={"WARC_RECORDER_ENABLED": False}) as harvest:
        with pytest.raises(NotConfigured):
            WarcRecorderMiddleware.from_crawler(harvest.crawler)


def test_an_answer_is_recorded_and_its_records_handed_to_the_spider(harvest):
    middleware = WarcRecorderMiddleware.from_crawler(harvest.crawler)
    told = []
    harvest.crawler.signals.connect(lambda records, **_: told.append(records),
                                    signal=signals.warc_exchange_written, weak=False)
    request = request_for(harvest, RequestSpec(LISTING, "timeline"))
    body = '{"ok":1,"data":{"cards":[]},"msg":"档案"}'.encode()
    response = answer(request, body, status=503, reason="Service Unavailable")
    assert middleware.process_response(request, response) is response
    records = exchange_of(request).records
    assert records is not None and told == [records]
    harvest.writer.flush()
    stored = read_record(harvest.writer.collection, records.response_id)
    assert (stored.uri, stored.http_status, stored.payload) == (LISTING, 503, body)
    assert harvest.crawler.stats.get_value("warc/exchanges") == 1
    assert harvest.crawler.stats.get_value("warc/payload_bytes") == len(body)


def test_a_request_that_must_not_be_archived_is_not(harvest):
    middleware = WarcRecorderMiddleware.from_crawler(harvest.crawler)
    token = RequestSpec("https://api.weixin.qq.com/cgi-bin/token?secret=s", "token", archive=False)
    request = request_for(harvest, token)
    middleware.process_response(request, answer(request, b'{"access_token":"t"}'))
    assert exchange_of(request).records is None
    assert harvest.crawler.stats.get_value("warc/exchanges") is None


def test_any_payload_stored_before_becomes_a_revisit_an_empty_one_never_does(harvest):
    middleware = WarcRecorderMiddleware.from_crawler(harvest.crawler)
    picture = b"\xff\xd8\xff picture bytes" * 100
    firsts = []
    for purpose, url, body in (("media", PICTURE, picture), ("timeline", LISTING, b'{"ok":1}'),
                               ("recheck", LISTING + "&empty=1", b"")):
        for _ in range(2):
            request = request_for(harvest, RequestSpec(url, purpose))
            middleware.process_response(request, answer(request, body, content_type="image/jpeg"))
            firsts.append(exchange_of(request).records)
    media, media_again, page, page_again, empty, empty_again = firsts
    assert media.revisit_of is None and media_again.revisit_of == media.response_id
    assert page.revisit_of is None and page_again.revisit_of == page.response_id
    assert empty.revisit_of is None and empty_again.revisit_of is None
    assert harvest.crawler.stats.get_value("warc/revisits") == 2
