"""The reading middleware alone: each answer is read once, by the harvest's own harvester, and a
refusal is known to the whole harvest before the spider sees the answer."""

from __future__ import annotations

import pytest
from catalog_helpers import PAGE1, UID
from crawler_units import answer, build_harvest, request_for, sample

from crawler.exchange import exchange_of, state_of
from crawler.reading import ReadingMiddleware
from harvesters import HarvestError, LoginExpired, RateLimited, RequestSpec, WeiboHarvester

META = {"platform": "weibo", "account_id": UID}


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path) as parts:
        yield parts


def timeline_request(harvest):
    spec = WeiboHarvester().timeline_request(UID, containerid=f"107603{UID}")
    return request_for(harvest, spec)


def test_an_answer_is_read_once_into_its_exchange(harvest):
    middleware = ReadingMiddleware.from_crawler(harvest.crawler)
    request = timeline_request(harvest)
    response = answer(request, sample(PAGE1))
    assert middleware.process_response(request, response) is response
    exchange = exchange_of(request)
    assert exchange.parse_error is None and len(exchange.parsed.posts) == 10
    assert exchange.parsed.next_requests  # the next page, for the spider to follow
    assert state_of(harvest.crawler).refusal is None


def test_a_refusal_stops_the_harvest_and_the_first_one_is_kept(harvest):
    middleware = ReadingMiddleware.from_crawler(harvest.crawler)
    first, second = timeline_request(harvest), timeline_request(harvest)
    middleware.process_response(first, answer(first, b"", status=418, reason="I'm a teapot"))
    middleware.process_response(second, answer(second, b'{"ok":-100}'))
    assert isinstance(exchange_of(second).parsed.problem, LoginExpired)
    state = state_of(harvest.crawler)
    assert isinstance(state.refusal, RateLimited) and state.asks_nothing_more


def test_an_unreadable_answer_is_kept_as_its_error(harvest):
    middleware = ReadingMiddleware.from_crawler(harvest.crawler)
    request = timeline_request(harvest)
    middleware.process_response(request, answer(request, b"<html>not json", content_type="text/html"))
    exchange = exchange_of(request)
    assert exchange.parsed is None and isinstance(exchange.parse_error, HarvestError)
    assert "neither Weibo JSON" in str(exchange.parse_error)


def test_media_are_not_read(harvest):
    middleware = ReadingMiddleware.from_crawler(harvest.crawler)
    picture = RequestSpec("https://wx1.sinaimg.cn/large/p.jpg", "media", meta=META)
    request = request_for(harvest, picture)
    middleware.process_response(request, answer(request, b"\xff\xd8", content_type="image/jpeg"))
    exchange = exchange_of(request)
    assert exchange.parsed is None and exchange.parse_error is None
