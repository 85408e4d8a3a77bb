"""One scheduler per catalog on PostgreSQL: a second `weidang run` on the same catalog, from
another home (another machine), is refused in plain words; the lock goes with its holder, even
killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from catalog_helpers import Catalogs, postgres_url
from crawler_helpers import WEIDANG
from emulator_client import ROOT
from queue_helpers import stop, wait_for
from schedules_helpers import config
from sqlalchemy import text

from catalog.db import Database
from schedules.daemon import Daemon
from schedules.errors import DaemonRunning

pytestmark = pytest.mark.slow


@pytest.fixture
def catalog_url(tmp_path):
    url, reason = postgres_url()
    if url is None:
        pytest.skip(reason)
    place = Catalogs("postgresql", tmp_path)
    try:
        yield str(place.target())
    finally:
        place.close()


def _run(home: Path, url: str, *args: str) -> list[str]:
    return [*WEIDANG, "--home", str(home), "--set", f"CATALOG_URL={url}", "run", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "WEIDANG_TEST_POSTGRES_URL": ""}


def _started(home: Path) -> bool:
    log = home / "logs" / "daemon.log"
    return log.exists() and "daemon started" in log.read_text(errors="replace")


def test_a_second_scheduler_on_the_same_catalog_is_refused(tmp_path, catalog_url):
    first_home, second_home = tmp_path / "machine-1", tmp_path / "machine-2"
    with open(tmp_path / "first.log", "wb") as out:
        first = subprocess.Popen(_run(first_home, catalog_url), cwd=ROOT, env=_env(), stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: _started(first_home) or first.poll() is not None, 120)
        assert first.poll() is None, (tmp_path / "first.log").read_text()
        refused = subprocess.run(_run(second_home, catalog_url, "--once"), cwd=ROOT, env=_env(),
                                 capture_output=True, text=True, timeout=300)
        assert refused.returncode != 0
        assert f"Another scheduler (weidang run {first.pid}@" in refused.stderr
        assert "one `weidang run` per catalog" in refused.stderr
        assert "Traceback" not in refused.stderr and "postgres@" not in refused.stderr.split("catalog ")[0]
        assert not _started(second_home)
        # Killed without a chance to clean up: the server ends its session, and the lock with it.
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        stop(first)
    again = subprocess.run(_run(second_home, catalog_url, "--once"), cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert _started(second_home)


def test_a_scheduler_whose_lock_connection_was_cut_takes_the_lock_again(tmp_path, catalog_url):
    daemon = Daemon(config(tmp_path / "home", catalog_path=catalog_url))
    daemon.start()
    try:
        me = f"weidang run {os.getpid()}@%"
        with Database(catalog_url) as db, db.write() as conn:  # the server drops the session
            assert conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE application_name LIKE :me"), {"me": me}).scalar_one() == 1
        wait_for(lambda: daemon.lock.keep(), 60)
        with pytest.raises(DaemonRunning, match="Another scheduler|another scheduler"):
            Daemon(config(tmp_path / "other", catalog_path=catalog_url)).start()
    finally:
        daemon.stop()
    log = (tmp_path / "home" / "logs" / "daemon.log").read_text()
    assert "daemon started" in log
