"""`weidang run` with real harvests through the emulator: SIGTERM, kill -9, status, schedules."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

from crawler_helpers import Archive, start_emulator
from schedules_helpers import wait_for

ACCOUNT = "weibo:7000000001"


def _open_run(archive: Archive) -> bool:
    try:
        return bool(archive.rows("SELECT run_id FROM runs WHERE account = ? AND ended_at IS NULL",
                                 ACCOUNT))
    except sqlite3.OperationalError:  # no run recorded yet: the table is made with the first
        return False


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _archive(tmp_path: Path, emulator) -> Archive:
    archive = Archive(tmp_path / "home", emulator,
                      settings=["CRAWLER_DELAY_SECONDS=0.3", "SCHEDULES_SYNC_SECONDS=1"])
    archive.add(ACCOUNT)
    done = archive.weidang("accounts", "schedule", ACCOUNT, "--every", "1h", "--jitter", "0", check=True)
    assert "now harvested every 1h" in done.stdout
    return archive


def test_sigterm_stops_the_harvest_cleanly_and_exits_0(tmp_path, emulator):
    archive = _archive(tmp_path, emulator)
    daemon = archive.popen("run")
    try:
        wait_for(lambda: _open_run(archive), 30)
        refused = archive.weidang("run", "--once")  # one daemon per home
        assert refused.returncode == 1
        assert f"process {daemon.pid}" in refused.stderr and "already running" in refused.stderr
        time.sleep(1.5)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.communicate()
    [(outcome, reason)] = archive.rows("SELECT outcome, reason FROM runs WHERE account = ?", ACCOUNT)
    assert outcome in ("partial", "ok") and (outcome == "ok" or "stopped before it finished" in reason)
    assert not list((archive.collection_dir / "warcs").glob("*.open"))
    assert archive.weidang("verify").returncode == 0  # closed with its fixity in the manifest
    log = (archive.root / "logs" / "daemon.log").read_text()
    assert "stopping the harvest of weibo:7000000001" in log and "daemon stopped" in log


def test_kill_9_loses_nothing_and_the_next_start_resumes(tmp_path, emulator):
    archive = _archive(tmp_path, emulator)
    daemon = archive.popen("run")
    try:
        wait_for(lambda: _open_run(archive), 30)
        # killed once it has written (not a fixed time: a busy machine may not have written yet)
        wait_for(lambda: list((archive.collection_dir / "warcs").glob("*.open")), 30)
        children = _children(daemon.pid)
        os.kill(daemon.pid, signal.SIGKILL)
        for child in children:  # the power goes: the harvest dies with it
            os.kill(child, signal.SIGKILL)
        daemon.wait(10)
    finally:
        daemon.communicate()
    assert children
    assert list((archive.collection_dir / "warcs").glob("*.open"))
    done = archive.weidang("--set", "CRAWLER_DELAY_SECONDS=0", "run", "--once")
    assert done.returncode == 0, done.stderr
    runs = archive.rows("SELECT outcome FROM runs WHERE account = ? ORDER BY started_at", ACCOUNT)
    assert [r[0] for r in runs] == ["failed", "ok"]  # the killed run, then the catch-up
    assert not list((archive.collection_dir / "warcs").glob("*.open"))
    assert archive.weidang("verify").returncode == 0
    status = json.loads(archive.weidang("status", "--json", check=True).stdout)
    [row] = status["accounts"]
    assert row["health"] == "ok" and row["next_run"] and row["posts_new"] > 0
    assert status["daemon"] == "not running"
    table = archive.weidang("status", check=True).stdout
    assert "weibo:7000000001" in table and " ok " in table and "NEXT RUN" in table


def test_a_refused_login_without_a_credentials_name_is_told_as_login_expired(tmp_path):
    site = start_emulator(tmp_path / "emulator", 'description = "Weibo wants a login"\n[[rule]]\n'
                          'host = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                          'fault = "weibo_captcha"\nurl = "https://passport.weibo.cn/signin/login"\n')
    try:
        archive = _archive(tmp_path, site)
        assert archive.weidang("run", "--once").returncode == 0
        [(scope, run_id)] = archive.rows("SELECT scope, run_id FROM pauses")
        assert scope == f"login:{ACCOUNT}"  # the account is its own login
        log = (archive.root / "logs" / "daemon.log").read_text()
        assert f"ALERT login expired {ACCOUNT}" in log
        [row] = json.loads(archive.weidang("status", "--json", check=True).stdout)["accounts"]
        assert row["health"] == "login expired"
        # A harvest started by hand (or by the daemon, which reads this) says why, as data.
        done = archive.weidang("harvest", ACCOUNT, "--json")
        [skipped] = json.loads(done.stdout)
        assert done.returncode == 1 and "is paused" in done.stderr
        assert (skipped["outcome"], skipped["why"], skipped["pause"]["scope"],
                skipped["pause"]["health"]) == ("skipped", "paused", f"login:{ACCOUNT}", "login expired")
    finally:
        site.stop()


def _health(archive: Archive) -> dict:
    [row] = json.loads(archive.weidang("status", "--json", check=True).stdout)["accounts"]
    return row


def test_status_tells_a_killed_harvest_from_a_running_one(tmp_path):
    # The listing answers slowly, so the harvest is surely still running when it is looked at.
    site = start_emulator(tmp_path / "emulator", '[[rule]]\nhost = "m.weibo.cn"\n'
                          'path = "/api/container/getIndex"\nfault = "delay"\nseconds = 60\n')
    try:
        archive = _archive(tmp_path, site)
        harvest = archive.popen("harvest", ACCOUNT)
        try:
            wait_for(lambda: _open_run(archive), 30)
            assert _health(archive)["health"] == "running"
            harvest.kill()  # kill -9: nothing is cleaned up, the run stays open in the catalog
            harvest.wait(10)
        finally:
            if harvest.poll() is None:
                harvest.kill()
            harvest.communicate()
        assert _open_run(archive)
        row = _health(archive)
        assert row["health"] == "interrupted" and "killed" in row["note"]
        table = archive.weidang("status", check=True).stdout
        assert " interrupted " in table and f"{ACCOUNT}: the harvest ended without finishing" in table
    finally:
        site.stop()


def test_sigterm_stops_a_harvest_waiting_to_retry_within_seconds(tmp_path):
    # After two answers the platform fails with 503; each retry waits 600 s, then 1200 s ...
    # Scrapy's own graceful stop would wait all that out before the run could end.
    site = start_emulator(tmp_path / "emulator", '[[rule]]\nhost = "m.weibo.cn"\nafter = 2\n'
                          'fault = "status"\nstatus = 503\n')
    try:
        archive = _archive(tmp_path, site)
        archive.settings += ["CRAWLER_BACKOFF_SECONDS=600", "CRAWLER_RETRIES=5"]
        daemon = archive.popen("run")
        try:
            # the first 503 has been answered: its retry is now waiting out its backoff
            wait_for(lambda: any(r["fault"] for r in site.control("GET", "/requests")), 60)
            signalled = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(300)
            took = time.monotonic() - signalled
        finally:
            if daemon.poll() is None:
                daemon.kill()
            _, stderr = daemon.communicate()
        # A behaviour bound, not a benchmark: far below the 600 s backoff, and generous for a busy
        # machine (a loaded one took over 10 s to stop the harvest and record it).
        assert code == 0 and took < 120, (code, took)
        log = (archive.root / "logs" / "daemon.log").read_text()
        assert "Traceback" not in stderr + log and "ERROR" not in stderr + log, stderr + log
        [(outcome, reason)] = archive.rows("SELECT outcome, reason FROM runs WHERE account = ?", ACCOUNT)
        assert outcome == "partial" and "stopped before it finished" in reason
        assert "ended partial" in log and "daemon stopped" in log
        assert not list((archive.collection_dir / "warcs").glob("*.open"))
        assert archive.weidang("verify").returncode == 0
    finally:
        site.stop()


def test_a_running_harvest_shows_its_progress_and_eta_beside_the_accounts_completeness(tmp_path):
    """After a finished harvest, a slow second one: `status` and the web dashboard show what the
    account holds against the platform's count, that the harvest runs, what it has recorded so
    far and when it is likely done (the first harvest's duration less the time it has run)."""
    from catalog.users import add_user
    from weidang.home import Home
    from weidang.web import create_app

    site = start_emulator(tmp_path / "emulator", accounts=1, posts=4)
    try:
        archive = _archive(tmp_path, site)
        archive.weidang("harvest", ACCOUNT, check=True)
        first = _health(archive)
        assert first["captured_total"] and first["reported_total"], first
        assert first["running_recorded"] is None and first["running_eta_seconds"] is None
        site.load_plan('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
                       'fault = "delay"\nseconds = 60\n')
        harvest = archive.popen("harvest", ACCOUNT)
        try:
            wait_for(lambda: _open_run(archive), 30)
            row = _health(archive)
            assert row["health"] == "running"
            assert row["running_recorded"] == 0  # the listing has not answered yet
            assert isinstance(row["running_eta_seconds"], int) and row["running_eta_seconds"] >= 0
            assert (row["captured_total"], row["reported_total"]) == (first["captured_total"],
                                                                      first["reported_total"])
            home = Home(archive.root)
            app = create_app(home, home.settings(), environ={})
            with app.config["DB"].write() as conn:
                add_user(conn, "keeper", "archivist", "correct horse battery", "test")
            client = app.test_client()
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            client.post("/login", data={"name": "keeper", "password": "correct horse battery",
                                        "csrf_token": token.group(1) if token else ""})
            page = client.get("/accounts/status?lang=zh_CN").text
            told = archive.weidang("--lang", "zh_CN", "status", check=True).stdout
        finally:
            harvest.kill()
            harvest.communicate()
    finally:
        site.stop()
    assert '<meta http-equiv="refresh" content="15">' in page
    assert "正在采集：已记录 0 个新版本或修改版本" in page
    assert f"{ACCOUNT}: 正在采集：已记录 0 个新版本或修改版本" in told  # the command line says it too
    assert ("预计约" in page) or ("用时已超过上次采集" in page)
    share = round(100 * first["captured_total"] / first["reported_total"])
    assert f'{first["captured_total"]} / {first["reported_total"]} ({share}%)' in page
