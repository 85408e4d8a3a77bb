"""Harvest workers on RabbitMQ: one scheduler (`weidang run` with SCHEDULES_DISPATCH=queue) and
several `weidang worker`s, each a separate process, against the emulator."""

from __future__ import annotations

import signal

import pytest
from crawler_helpers import emulator_site
from queue_helpers import (
    RABBITMQ,
    check_archive,
    ended_runs,
    log_of,
    need_service,
    queue_archive,
    register,
    start,
    start_worker,
    stop,
    wait_for,
    worker_collections,
    writing,
)

pytestmark = pytest.mark.slow

# Every timeline page waits, so a harvest is still running when its worker is killed.
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.5\n')

site = emulator_site(plan=PLAN, accounts=8, posts=30)


@pytest.fixture(autouse=True)
def rabbitmq():
    need_service(5672, "RabbitMQ")


def test_three_workers_share_the_accounts_and_capture_every_post_once(site, tmp_path):
    archive = queue_archive(tmp_path / "home", site, RABBITMQ)
    expected = register(archive, weibo=7, wechat=3)
    workers = [start_worker(archive, f"w{i}") for i in (1, 2, 3)]
    try:
        scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        for proc in workers:
            stop(proc)
    # The daemon learnt every job's end: one run per account, each ok.
    assert ended_runs(archive) == {key: ["ok"] for key in expected}
    daemon_log = (archive.root / "logs" / "daemon.log").read_text()
    assert all(f"harvest of {key} ended ok" in daemon_log for key in expected)
    # The work was spread: every worker wrote captures into its own collection, and only there.
    collections = worker_collections(archive)
    assert set(collections) == {"worker-w1", "worker-w2", "worker-w3"}
    assert all(files for files in collections.values())
    assert not (archive.root / "collections" / "default").exists()
    used = {r[0] for r in archive.rows("SELECT DISTINCT collection FROM versions")}
    assert used == set(collections)
    check_archive(archive, expected)
    # The broker's password is never printed.
    for text in (daemon_log, *(log_of(archive, f"w{i}") for i in (1, 2, 3))):
        assert "guest:guest@" not in text


def test_a_killed_workers_job_is_finished_by_another_and_its_open_file_recovered(site, tmp_path):
    archive = queue_archive(tmp_path / "home", site, RABBITMQ)
    expected = register(archive, weibo=4, wechat=0)
    doomed = start_worker(archive, "doomed")
    scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
    rescuer = None
    try:
        warcs = archive.root / "collections" / "worker-doomed" / "warcs"
        # Mid-harvest: records are being written to its open WARC file.
        wait_for(lambda: writing(warcs), 600)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        left_open = sorted(warcs.glob("*.open"))
        assert left_open
        rescuer = start_worker(archive, "rescuer")
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        stop(scheduler)
        if rescuer is not None:
            stop(rescuer)
    # Its job came back to the queue and the rescuer ran it; every account ended ok.
    runs = ended_runs(archive)
    assert set(runs) == set(expected)
    assert all(outcomes[-1] == "ok" for outcomes in runs.values())
    # The killed run (closed as failed by the next harvest of its account), then the rescuer's.
    cut = [key for key, outcomes in runs.items() if outcomes == ["failed", "ok"]]
    assert len(cut) == 1 and all(runs[key] == ["ok"] for key in set(runs) - set(cut))
    assert f"harvest of {cut[0]} ended ok" in (archive.root / "logs" / "daemon.log").read_text()
    # Restarted, the killed worker recovers what it left open before taking any job.
    again = start_worker(archive, "doomed")
    stop(again)
    assert not any(p.exists() for p in left_open)
    assert not list(warcs.glob("*.open"))
    check_archive(archive, expected)
