"""The daemon's scheduling, with scripted fake harvests (schedules of seconds)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from catalog_helpers import execute
from schedules_helpers import Background, add, config, intervals, script, starts, wait_for

from catalog.accounts import AccountRegistry
from catalog.db import Database
from catalog.runs import RunLog
from schedules.daemon import Daemon, run_account
from schedules.errors import DaemonRunning
from schedules.plan import JobPlan, parse_time
from schedules.store import job_store


def test_jobs_follow_the_catalog_without_restart(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1s")
    with Background(Daemon(config(home))) as daemon:
        wait_for(lambda: starts(home, "weibo:7000000001"))
        add(home, "weibo:7000000002", interval="1h")
        wait_for(lambda: starts(home, "weibo:7000000002"))  # a new account runs at once
        db = Database(home / "catalog.sqlite")
        registry = AccountRegistry(db, via="test")
        registry.remove("weibo:7000000001")
        registry.update("weibo:7000000002", cron="0 6 * * *")
        db.close()
        wait_for(lambda: daemon.scheduler.get_job("weibo:7000000001") is None)
        wait_for(lambda: daemon.scheduler.get_job("weibo:7000000002").name.startswith("cron 0 6"))
        # A run handed out before the removal may still be starting (slowly, on a busy machine):
        # "no run after the removal" counts from when none is in flight.
        wait_for(lambda: not daemon._executor.busy)
        removed_at = time.time()
        time.sleep(1.5)
    assert not [s for s in starts(home, "weibo:7000000001") if s["t"] > removed_at + 0.5]
    assert len(starts(home, "weibo:7000000002")) == 1


@pytest.mark.parametrize("stage", ["prepare", "sleep"])
def test_a_schedule_changed_while_its_run_is_under_way_is_not_made_due_again(tmp_path, stage):
    """The run in flight (still preparing, or with its run row open) is this period's run: a
    change of schedule meanwhile must not take it for a run that never happened or was cut off.
    The scheduler is held while the change is placed, so whatever it would fire stays visible."""
    home = tmp_path / "home"
    daemon = Daemon(config(home))
    script(home, weibo__7000000002={stage: 3})
    add(home, "weibo:7000000002", interval="1h")
    with Background(daemon):
        wait_for(lambda: starts(home, "weibo:7000000002"))
        daemon.scheduler.hold()
        db = Database(home / "catalog.sqlite")
        AccountRegistry(db, via="test").update("weibo:7000000002", cron="0 6 * * *")
        db.close()
        wait_for(lambda: daemon.scheduler.get_job("weibo:7000000002").name.startswith("cron 0 6"))
        assert daemon._executor.busy, "the first run ended before the change was placed"
        next_run = daemon.scheduler.get_job("weibo:7000000002").next_run_time
        assert next_run > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), next_run
        daemon.scheduler.resume()
        wait_for(lambda: not daemon._executor.busy)
        time.sleep(1)
    assert len(starts(home, "weibo:7000000002")) == 1


def test_a_second_daemon_on_the_same_home_is_refused(tmp_path):
    home = tmp_path / "home"
    first = Daemon(config(home))
    first.start()
    try:
        with pytest.raises(DaemonRunning) as refused:
            Daemon(config(home)).start()
        assert f"process {os.getpid()}" in str(refused.value)
    finally:
        first.stop()
    second = Daemon(config(home))  # the lock is free again once the first has stopped
    second.start()
    second.stop()


def test_missed_runs_after_downtime_happen_once(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="10s")
    now = dt.datetime.now(dt.UTC)
    db = Database(home / "catalog.sqlite")
    runs = RunLog(db, clock=lambda: now - dt.timedelta(seconds=2))  # ran just before the downtime...
    runs.finish(runs.start("weibo:7000000001"), "ok")
    db.close()
    # ... and the store of the daemon that went down says the next run was due a day ago: 8,640
    # slots were missed, the latest 5 s ago, and APScheduler's default grace of 1 s (kept in this
    # old store) would drop them all.
    plan = JobPlan("weibo:7000000001", None, 10, None, 0)
    store = job_store(config(home).store_url)
    store.start(BackgroundScheduler(), "default")  # written as a daemon would, without running one
    store.add_job(Job(store._scheduler, id="weibo:7000000001", func=run_account,
                      trigger=plan.trigger(now - dt.timedelta(days=1, seconds=5)), executor="default",
                      args=["weibo:7000000001"], kwargs={}, name=plan.signature, misfire_grace_time=1,
                      coalesce=True, max_instances=1, next_run_time=now - dt.timedelta(days=1)))
    store.shutdown()
    reports = Daemon(config(home)).run(once=True)
    assert [r.what for r in reports] == ["ok"], [(r.what, r.detail) for r in reports]
    assert len(starts(home)) == 1
    store = job_store(config(home).store_url)
    store.start(BackgroundScheduler(), "default")
    assert store.lookup_job("weibo:7000000001").misfire_grace_time is None
    store.shutdown()


def test_one_run_per_account_and_a_global_cap(tmp_path):
    home = tmp_path / "home"
    keys = [f"weibo:700000000{i}" for i in range(1, 5)]
    for key in keys:
        add(home, key, interval="1s")
    script(home, **{k.replace(":", "__"): {"sleep": 1.5} for k in keys})
    # Until four runs have ended, however slow the machine (not a fixed window of seconds).
    with Background(Daemon(config(home, max_concurrent=2))):
        wait_for(lambda: len(intervals(home)) >= 4, timeout=180)
    done = intervals(home)
    assert len(done) >= 4
    for key in keys:  # never two runs of one account at once
        mine = sorted((s, e) for k, s, e in done if k == key)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(mine, mine[1:], strict=False))
    moments = sorted({t for _, s, e in done for t in (s, e)})
    busiest = max(sum(1 for _, s, e in done if s <= m + 0.01 and e > m + 0.01) for m in moments)
    assert busiest <= 2


def test_paused_accounts_are_skipped_until_the_pause_ends(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    add(home, "wechat:MzkwMDAwMDAwMQ==", interval="1h", credentials="county_login")
    db = Database(home / "catalog.sqlite")
    runs = RunLog(db)
    runs.pause("platform:weibo", "Weibo answered 418 (rate limited)",
               until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))
    runs.pause("login:county_login", "the login expired", "refresh the cookie")
    db.close()
    with Background(Daemon(config(home))) as daemon:
        # Until the Weibo account has run once its pause ended, however slow the machine.
        wait_for(lambda: any(r.account == "weibo:7000000001" and r.what == "ok"
                             for r in list(daemon.reports)), timeout=180)
    reports = list(daemon.reports)
    weibo = [r.what for r in reports if r.account == "weibo:7000000001"]
    assert weibo[0] == "skipped-paused" and "ok" in weibo  # it ran again right after the pause
    assert [r.what for r in reports if r.account.startswith("wechat")] == ["skipped-paused"]
    assert starts(home, "wechat:MzkwMDAwMDAwMQ==") == []
    assert "paused" in (home / "logs" / "daemon.log").read_text()


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_failing_accounts_are_backed_off_and_alerted(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1s")
    add(home, "weibo:7000000002", interval="1h")
    script(home, weibo__7000000001={"outcome": "failed", "reason": "the listing answered 500 "
                                    "(token=abcdef123456 was sent)"},
           weibo__7000000002={"error": "the login county_login is missing from credentials.toml"})
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alert"
        with Background(Daemon(config(home, webhook_url=url, backoff_max_seconds=3600))) as daemon:
            # Until three failures in a row, a skip for backoff and both alerts: however slow
            # the machine (no window of seconds that a busy one overruns).
            def seen() -> bool:
                failing = [r.what for r in list(daemon.reports) if r.account == "weibo:7000000001"]
                return (failing.count("failed") >= 3 and "skipped-backoff" in failing
                        and len({a["account"] for a in _Hook.received}) == 2)
            wait_for(seen, timeout=180)
    finally:
        server.shutdown()
    db = Database(home / "catalog.sqlite")
    failed = sorted(parse_time(r.started_at).timestamp()
                    for r in RunLog(db).history("weibo:7000000001") if r.outcome == "failed")
    crashed = RunLog(db).history("weibo:7000000002")  # refused before it began: the daemon records it
    db.close()
    # Every second without backoff; backed off, the period doubles per failure in a row: the k-th
    # failure's start is followed by the next one no sooner than 2**k - 1 periods (1, 3, 7 s).
    gaps = [b - a for a, b in zip(failed, failed[1:], strict=False)]
    assert len(gaps) >= 2 and all(gap >= 2 ** k - 1 - 0.05 for k, gap in enumerate(gaps, 1)), gaps
    assert [r.outcome for r in crashed] == ["failed"] and "credentials.toml" in crashed[0].reason
    alerts = _Hook.received
    assert {a["account"] for a in alerts} == {"weibo:7000000001", "weibo:7000000002"}
    assert all(a["event"] == "failed" for a in alerts)
    assert "abcdef123456" not in json.dumps(alerts)
    assert "token=REDACTED" in next(a for a in alerts if a["account"] == "weibo:7000000001")["message"]


def test_a_broken_webhook_is_logged_not_fatal(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    script(home, weibo__7000000001={"outcome": "failed"})
    reports = Daemon(config(home, webhook_url="http://127.0.0.1:9/none", webhook_timeout=1)).run(once=True)
    assert [r.what for r in reports] == ["failed"]
    assert "webhook could not be reached" in (home / "logs" / "daemon.log").read_text()


def test_no_line_of_the_daemon_log_holds_a_secret(tmp_path):
    from schedules.alerts import daemon_logger

    token = "80_" + "AbC9dEf1" * 12
    log = daemon_logger(tmp_path / "logs", stderr=False)
    log.info("harvest of %s ended stopped: refused (at https://x/?access_token=%s)", "wechat:x", token)
    log.error("a child said: token %s", token)
    for handler in log.handlers:
        handler.flush()
    text = (tmp_path / "logs" / "daemon.log").read_text(encoding="utf-8")
    assert token not in text and text.count("REDACTED") == 2


def test_a_traceback_in_the_daemon_log_holds_no_secret(tmp_path):
    from schedules.alerts import daemon_logger

    token = "80_" + "AbC9dEf1" * 12
    log = daemon_logger(tmp_path / "logs", stderr=False)
    try:
        raise RuntimeError(f"refused https://x/?access_token={token}")
    except RuntimeError:
        log.exception("a job of the scheduler failed")
    for handler in log.handlers:
        handler.flush()
    text = (tmp_path / "logs" / "daemon.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: refused" in text
    assert token not in text


def test_an_account_harvested_elsewhere_is_skipped(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    # The daemon reads what the child says as data: the wording of the sentence does not matter.
    script(home, weibo__7000000001={"skipped": "busy", "reason": "weibo:7000000001 is in use"})
    reports = Daemon(config(home)).run(once=True)
    assert [(r.what, r.detail) for r in reports] == [("skipped-busy", "weibo:7000000001 is in use")]
    db = Database(home / "catalog.sqlite")
    assert RunLog(db).history("weibo:7000000001") == []
    db.close()


def test_an_unrunnable_stored_schedule_skips_that_account_only(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    add(home, "weibo:7000000002", interval="1h")
    db = Database(home / "catalog.sqlite")  # as an older weidang stored `--interval 99999999999999d`
    execute(db, "UPDATE accounts SET interval_seconds = :v WHERE account_id = '7000000002'",
            v=99999999999999 * 86400)
    db.close()
    daemon = Daemon(config(home))
    reports = daemon.run(once=True)
    assert [(r.account, r.what) for r in reports] == [("weibo:7000000001", "ok")]
    assert daemon._signatures.keys() == {"weibo:7000000001"}
    log = (home / "logs" / "daemon.log").read_text()
    assert log.count("ALERT failed weibo:7000000002: the schedule of weibo:7000000002 cannot be run") == 1
    assert "interval 99999999999999d is too long; give from 1s to 366d" in log
    from weidang.cli import main

    monkeypatch.setenv("WEIDANG_HOME", str(home))
    assert main(["status", "--json"]) == 0
    listed = {s["account"]: s for s in json.loads(capsys.readouterr().out)["accounts"]}
    assert listed["weibo:7000000002"]["health"] == "failing"
    assert "weidang accounts schedule weibo:7000000002" in listed["weibo:7000000002"]["note"]
    assert listed["weibo:7000000001"]["health"] == "ok"


def test_a_sentence_that_sounds_like_a_skip_is_a_failure(tmp_path):
    # A crash whose message happens to contain the words of a skip is still a crash: recorded
    # as a failed run and alerted, not skipped in silence.
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    add(home, "weibo:7000000002", interval="1h")
    script(home, weibo__7000000001={"error": "weibo:7000000001 is being harvested by another "
                                    "weidang process right now; wait for that harvest to finish"},
           weibo__7000000002={"error": "weibo:7000000002 is paused (the disk was full)"})
    reports = Daemon(config(home)).run(once=True)
    assert sorted(r.what for r in reports) == ["failed", "failed"]
    db = Database(home / "catalog.sqlite")
    runs = RunLog(db)
    assert [r.outcome for r in runs.history("weibo:7000000001")] == ["failed"]
    assert [r.outcome for r in runs.history("weibo:7000000002")] == ["failed"]
    db.close()


def test_stopping_while_runs_are_due_logs_no_traceback(tmp_path):
    # Five accounts due every second, two harvests at a time: at every stop some runs are due,
    # queued or being submitted. APScheduler's thread used to hand them to the executor after
    # it was shut down, logging "cannot schedule new futures after shutdown" with a traceback.
    for trial in range(6):
        home = tmp_path / f"home{trial}"
        keys = [f"weibo:700000000{i}" for i in range(1, 6)]
        for key in keys:
            add(home, key, interval="1s")
        script(home, **{k.replace(":", "__"): {"sleep": 0.3} for k in keys})
        daemon = Daemon(config(home, max_concurrent=2))
        stopper = threading.Timer(1.0 + trial * 0.15, daemon.request_stop)
        stopper.start()
        daemon.run()
        stopper.join()
        log = (home / "logs" / "daemon.log").read_text()
        assert "daemon stopped" in log
        assert "Traceback" not in log and "ERROR" not in log, log


def test_a_harvest_stopped_before_it_began_leaves_no_failed_run(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    script(home, weibo__7000000001={"prepare": 60})  # still starting up when the daemon stops
    with Background(Daemon(config(home))) as daemon:
        wait_for(lambda: starts(home, "weibo:7000000001"))
    assert [r.what for r in daemon.reports] == ["not-started"]
    db = Database(home / "catalog.sqlite")
    assert RunLog(db).history("weibo:7000000001") == []  # no failure to back the account off
    db.close()


def test_a_quarantined_file_is_alerted(tmp_path):
    # The child says it on stderr, which the daemon does not read: its summary carries it.
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    warning = "/x/warcs/foreign.warc.gz.open was not begun by this collection, so it was moved"
    script(home, weibo__7000000001={"warnings": [warning]})
    reports = Daemon(config(home)).run(once=True)
    assert [r.what for r in reports] == ["ok"]
    log = (home / "logs" / "daemon.log").read_text()
    assert log.count(f"ALERT quarantined weibo:7000000001: {warning}") == 1, log


def test_a_login_found_ended_before_the_harvest_is_alerted_once(tmp_path):
    # The harvest's login check paused the login just now (alert); an older pause is no news.
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    add(home, "weibo:7000000002", interval="1h")
    pause = {"scope": "login:gov-weibo", "kind": "login", "health": "login expired",
             "reason": "the weibo login gov-weibo no longer works",
             "advice": "Log in again with `weidang login gov-weibo weibo`", "until": None}
    script(home, weibo__7000000001={"skipped": "paused", "reason": "paused", "pause": pause, "alert": True},
           weibo__7000000002={"skipped": "paused", "reason": "paused", "pause": pause})
    reports = Daemon(config(home)).run(once=True)
    assert sorted(r.what for r in reports) == ["skipped-paused", "skipped-paused"]
    log = (home / "logs" / "daemon.log").read_text()
    assert log.count("ALERT login expired") == 1, log
    assert ("ALERT login expired weibo:7000000001: the weibo login gov-weibo no longer works What to do: "
            "Log in again with `weidang login gov-weibo weibo`") in log


def test_a_login_expiring_soon_is_alerted(tmp_path):
    home = tmp_path / "home"
    add(home, "weibo:7000000001", interval="1h")
    notice = "the weibo login gov-weibo expires on 2026-03-04 08:00 UTC"
    script(home, weibo__7000000001={"login_notices": [notice]})
    reports = Daemon(config(home)).run(once=True)
    assert [r.what for r in reports] == ["ok"]
    log = (home / "logs" / "daemon.log").read_text()
    assert log.count(f"ALERT login expires soon weibo:7000000001: {notice}") == 1, log


def test_alerts_speak_the_daemons_language(tmp_path):
    """A daemon started in Chinese alerts in Chinese: the crawler's own judgements (taken from
    ``crawler.outcome.judge``, so a change of its words shows here), the advice, the kind's title;
    ``event`` stays the machine's word."""
    from crawler.job import HarvestJob, HarvestSummary
    from crawler.outcome import Ending, judge
    from weidang.errors import in_words

    job, ending = HarvestJob("weibo", "7000000001", "h1"), Ending(closed="finished", posts_seen=0)
    judged = [judge(HarvestSummary(job.account, "h1", **summary), job, ending)
              for summary in ({"pages": 0, "reported_total": 5},  # no listing page answered
                              {"pages": 2, "reported_total": 5})]  # a listing without posts
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "home"
    try:
        for n, (outcome, reason, advice) in enumerate(judged, 1):
            _Hook.received.clear()
            account = f"weibo:700000000{n}"
            add(home, account, interval="1h")
            script(home, **{account.replace(":", "__"): {"outcome": outcome, "reason": reason,
                                                         "advice": advice}})
            url = f"http://127.0.0.1:{server.server_address[1]}/alert"
            Daemon(config(home, webhook_url=url, say=in_words("zh_CN"))).run(once=True)
            alert = next(a for a in _Hook.received if a["account"] == account)
            assert alert["event"] == "failed" and alert["title"] == "失败", alert
            assert alert["message"] != reason and alert["advice"] != advice, alert
            assert "采集" in alert["advice"] and alert["advice"].endswith("。"), alert
    finally:
        server.shutdown()
    log = (home / "logs" / "daemon.log").read_text()
    assert "ALERT failed weibo:7000000001: 平台没有返回任何列表页" in log and "处理办法： 请检查" in log
