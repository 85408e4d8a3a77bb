"""Harvest workers with Redis as the broker (and as the result backend): the same flow as on
RabbitMQ, with one scheduler and two workers as separate processes."""

from __future__ import annotations

import pytest
from crawler_helpers import emulator_site
from queue_helpers import (
    REDIS,
    check_archive,
    ended_runs,
    need_service,
    queue_archive,
    register,
    start,
    start_worker,
    stop,
    worker_collections,
)

pytestmark = pytest.mark.slow

site = emulator_site(accounts=4, posts=20)


def test_two_workers_on_redis_capture_every_post_once(site, tmp_path):
    need_service(6379, "Redis")
    archive = queue_archive(tmp_path / "home", site, REDIS)
    expected = register(archive, weibo=4, wechat=2)
    workers = [start_worker(archive, f"r{i}") for i in (1, 2)]
    try:
        scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        for proc in workers:
            stop(proc)
    assert ended_runs(archive) == {key: ["ok"] for key in expected}
    collections = worker_collections(archive)
    assert set(collections) == {"worker-r1", "worker-r2"} and all(collections.values())
    check_archive(archive, expected)
