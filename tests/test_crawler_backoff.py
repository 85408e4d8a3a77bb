"""The backoff middleware alone: how long a retry waits, and that a stop ends the wait."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from crawler_units import build_harvest, request_for

from crawler import signals
from crawler.backoff import BackoffMiddleware
from crawler.reachability import GIVE_UP_AT
from crawler.stopping import HarvestStopped
from harvesters import RequestSpec

LISTING = "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path, settings={"BACKOFF_BASE": 2.0}) as parts:
        yield parts


def retry(harvest, times: int):
    request = request_for(harvest, RequestSpec(LISTING, "timeline"))
    request.meta["retry_times"] = times
    return request


def test_each_retry_waits_twice_as_long_as_the_last(harvest):
    middleware = BackoffMiddleware.from_crawler(harvest.crawler)
    assert [middleware.wait(retry(harvest, n)) for n in range(5)] == [0.0, 2.0, 4.0, 8.0, 16.0]
    assert middleware.wait(retry(harvest, 20)) == 300  # never more than five minutes


def test_a_retry_waits_no_longer_than_the_harvest_gives_the_platform(harvest):
    middleware = BackoffMiddleware.from_crawler(harvest.crawler)
    request = retry(harvest, 4)
    request.meta[GIVE_UP_AT] = harvest.clock.now + timedelta(seconds=5.5)
    assert middleware.wait(request) == 4.5  # the clock moves a second at each reading
    request.meta[GIVE_UP_AT] = harvest.clock.now - timedelta(seconds=10)
    assert middleware.wait(request) == 0.0


def test_a_stop_ends_a_retry_s_wait_and_sends_nothing(harvest):
    middleware = BackoffMiddleware.from_crawler(harvest.crawler)
    waiting = retry(harvest, 20)  # five minutes of backoff

    async def stop_while_waiting() -> None:
        pending = asyncio.ensure_future(middleware.process_request(waiting))
        await asyncio.sleep(0)
        harvest.crawler.signals.send_catch_log(signal=signals.harvest_stopping)
        with pytest.raises(HarvestStopped):
            await asyncio.wait_for(pending, 60)  # a guard: it ends at once, not after the backoff

    asyncio.run(stop_while_waiting())
    with pytest.raises(HarvestStopped):
        asyncio.run(middleware.process_request(retry(harvest, 0)))
