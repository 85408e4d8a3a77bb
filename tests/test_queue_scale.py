"""One scheduler and three workers, each a separate process, harvesting many accounts from the
emulator: every post captured exactly once, verify passes over every worker's collection, the
catalog equals a rebuild from all of them.

12 accounts by default (each harvest is a child process of ~10 s on a busy 2-core machine,
so about a minute there); the issue's 200 with ``WEIDANG_QUEUE_SCALE_ACCOUNTS=200`` (by the
same measure some eleven minutes; not run in CI)."""

from __future__ import annotations

import os

import pytest
from crawler_helpers import emulator_site
from queue_helpers import (
    RABBITMQ,
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

ACCOUNTS = int(os.environ.get("WEIDANG_QUEUE_SCALE_ACCOUNTS", "12"))
WECHAT = max(1, ACCOUNTS // 8)

site = emulator_site(accounts=ACCOUNTS, posts=6)


def test_one_scheduler_and_three_workers_harvest_every_account_once(site, tmp_path):
    need_service(5672, "RabbitMQ")
    archive = queue_archive(tmp_path / "home", site, RABBITMQ)
    archive.settings.append("CRAWLER_BROWSER_ENABLED=false")  # the queue at scale, not Chromium
    expected = register(archive, weibo=ACCOUNTS - WECHAT, wechat=WECHAT)
    assert len(expected) == ACCOUNTS
    workers = [start_worker(archive, f"s{i}") for i in (1, 2, 3)]
    try:
        scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
        assert scheduler.wait(3600) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        for proc in workers:
            stop(proc)
    assert ended_runs(archive) == {key: ["ok"] for key in expected}
    assert set(worker_collections(archive)) == {"worker-s1", "worker-s2", "worker-s3"}
    assert all(worker_collections(archive).values())  # the work was spread over all three
    check_archive(archive, expected)
