"""Per-egress politeness: a platform refusal seen by one worker pauses that platform on its
egress only (stored in the catalog, so every worker sees it); a worker with another egress goes
on taking the platform's jobs. Each worker's requests leave from its own loopback address, and
the emulator refuses (418) only one of them."""

from __future__ import annotations

import pytest
from crawler_helpers import emulator_site
from queue_helpers import (
    RABBITMQ,
    ended_runs,
    log_of,
    need_service,
    queue_archive,
    register,
    start,
    start_worker,
    stop,
    wait_for,
)

pytestmark = pytest.mark.slow

REFUSED = "127.0.0.2"
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        f'client = "{REFUSED}"\nfault = "status"\nstatus = 418\n')

site = emulator_site(plan=PLAN, accounts=4, posts=10)


def test_a_refusal_pauses_only_the_workers_sharing_that_egress(site, tmp_path):
    need_service(5672, "RabbitMQ")
    archive = queue_archive(tmp_path / "home", site, RABBITMQ)
    expected = register(archive, weibo=4, wechat=0)
    refused = start_worker(archive, "gz", "CRAWLER_EGRESS=gz-line", f"CRAWLER_BIND_ADDRESS={REFUSED}")
    scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
    other = None
    try:
        # The first job reaches the only worker, whose address the platform refuses.
        wait_for(lambda: "refused egress gz-line" in log_of(archive, "gz"), 600)
        other = start_worker(archive, "sh", "CRAWLER_EGRESS=sh-line", "CRAWLER_BIND_ADDRESS=127.0.0.3")
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        stop(scheduler)
        for proc in (refused, other):
            if proc is not None:
                stop(proc)
    # One pause, of weibo on the refused egress only; none of weibo everywhere.
    pauses = archive.rows("SELECT scope FROM pauses WHERE cleared_at IS NULL")
    assert pauses == [("egress:gz-line:weibo",)]
    # The refused harvest is the only one that did not end ok; every other account was
    # harvested, all of it, by the worker whose egress the platform still answered.
    runs = ended_runs(archive)
    refused_accounts = [key for key, outcomes in runs.items() if outcomes != ["ok"]]
    assert len(refused_accounts) == 1 and set(runs) == set(expected)
    for key in set(expected) - set(refused_accounts):
        assert sorted(archive.post_ids(key)) == sorted(expected[key]), key
    used = {r[0] for r in archive.rows("SELECT DISTINCT collection FROM versions")}
    assert used == {"worker-sh"}
    assert "refused egress" not in log_of(archive, "sh")
