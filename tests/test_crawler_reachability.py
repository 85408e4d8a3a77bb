"""The reachability middleware alone: the harvest's clock moved by hand, failures made here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from crawler_units import answer, build_harvest, request_for
from twisted.internet import error as tx

from crawler.exchange import state_of
from crawler.reachability import FULL_TIMEOUT, GIVE_UP_AT, ReachabilityMiddleware
from harvesters import RequestSpec

LISTING = "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path, settings={"UNREACHABLE_GIVE_UP_SECONDS": 30}) as parts:
        yield parts


def listing_request(harvest, timeout: float = 60):
    request = request_for(harvest, RequestSpec(LISTING, "timeline"))
    request.meta["download_timeout"] = timeout
    return request


def test_no_request_outwaits_the_give_up_time(harvest):
    middleware = ReachabilityMiddleware.from_crawler(harvest.crawler)
    request = listing_request(harvest)
    middleware.process_request(request)
    assert request.meta[FULL_TIMEOUT] == 60
    assert request.meta["download_timeout"] < 30  # the clock moved on by a second meanwhile
    harvest.clock.now += timedelta(seconds=40)  # long past the give-up time: one short step
    late = listing_request(harvest)
    middleware.process_request(late)
    assert late.meta["download_timeout"] == 1.0


def test_a_platform_that_stops_answering_is_given_up_in_words(harvest):
    middleware = ReachabilityMiddleware.from_crawler(harvest.crawler)
    state = state_of(harvest.crawler)
    request = listing_request(harvest)
    middleware.process_request(request)
    middleware.process_exception(request, tx.DNSLookupError("m.weibo.cn"))
    assert state.no_answer == "the name m.weibo.cn could not be found (DNS)"
    assert not state.gave_up and request.meta[GIVE_UP_AT] is not None  # a retry waits no longer
    harvest.clock.now += timedelta(seconds=31)
    again = listing_request(harvest)
    middleware.process_exception(again, tx.ConnectionRefusedError())
    assert state.gave_up and state.asks_nothing_more
    assert again.meta["dont_retry"] is True
    assert state.no_answer == "m.weibo.cn refused the connection"


def test_an_answer_puts_the_give_up_time_off(harvest):
    middleware = ReachabilityMiddleware.from_crawler(harvest.crawler)
    state = state_of(harvest.crawler)
    request = listing_request(harvest)
    middleware.process_request(request)
    harvest.clock.now += timedelta(seconds=25)
    middleware.process_response(request, answer(request, b'{"ok":1}'))
    harvest.clock.now += timedelta(seconds=25)  # 50 s since the first request, 25 since the answer
    middleware.process_exception(request, tx.TimeoutError())
    assert not state.gave_up and "did not answer" in state.no_answer


def test_a_failure_that_is_not_about_reaching_the_platform_changes_nothing(harvest):
    middleware = ReachabilityMiddleware.from_crawler(harvest.crawler)
    request = listing_request(harvest)
    middleware.process_request(request)
    harvest.clock.now += timedelta(seconds=60)
    middleware.process_exception(request, ValueError("a bug"))
    state = state_of(harvest.crawler)
    assert (state.gave_up, state.no_answer) == (False, "")
    assert "dont_retry" not in request.meta
