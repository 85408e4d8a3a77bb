"""The crawler's harvest of registered accounts: one outcome per account, the lock taken first.

The skips are decided before Scrapy starts, so they are tested in this process; the lock is held
by another process, as a harvest running elsewhere holds it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from crawler_helpers import Archive

from catalog.accounts import AccountRegistry
from catalog.credentials import CredentialStore
from catalog.db import open_catalog
from catalog.runs import RunLog
from crawler.account_lock import account_lock_path
from crawler.harvest_accounts import HarvestConfig, Skipped, harvest_accounts
from crawler.settings import Politeness
from warc_store import RedactionPolicy, StoreConfig

BUSY, PAUSED, GONE, LOGIN = "weibo:7000000001", "weibo:7000000002", "weibo:7000000003", "weibo-main"
NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)

_HOLD = ("import sys; from filelock import FileLock\n"
         "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); sys.stdin.read()")


@contextmanager
def held_elsewhere(folder: Path, account: str) -> Iterator[None]:
    """``account``'s harvest lock, held by another process until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(account_lock_path(folder, account))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate("", timeout=60)  # its stdin closes: it ends, and the lock with it


def _config(tmp_path: Path) -> HarvestConfig:
    return HarvestConfig(politeness=Politeness(), max_pages=5, recheck_days=0, proxy="", demo=False,
                         collection=tmp_path / "collections" / "default", locks=tmp_path / "locks",
                         credentials=CredentialStore(tmp_path / "credentials.toml"),
                         store=StoreConfig(), redaction=RedactionPolicy())


def _pauses(path: Path) -> list[str]:
    db = open_catalog(path)
    try:
        return [p.scope for p in RunLog(db, lambda: NOW).active_pauses(NOW)]
    finally:
        db.close()


def test_each_account_gets_its_skip_without_a_harvest(tmp_path):
    db = open_catalog(tmp_path / "catalog.sqlite")
    registry = AccountRegistry(db)
    for key in (BUSY, PAUSED, GONE):
        registry.add(key, name="测试账号", credentials=LOGIN if key == PAUSED else None)
    registry.remove(GONE)
    runs = RunLog(db, lambda: NOW)
    runs.pause(f"login:{LOGIN}", "the Weibo login has expired", "log in again and refresh the cookie")
    runs.pause(BUSY, "the account asks to be left alone")
    with held_elsewhere(tmp_path / "locks", BUSY):
        outcomes = harvest_accounts([PAUSED, BUSY, GONE], _config(tmp_path), db, clock=lambda: NOW,
                                    force=False)
    assert all(isinstance(o, Skipped) for o in outcomes)
    assert [(o.account, o.why) for o in outcomes if isinstance(o, Skipped)] == [
        (PAUSED, "paused"), (BUSY, "busy"), (GONE, "removed")]
    paused = outcomes[0].to_json()
    assert (paused["outcome"], paused["why"], paused["pause"]["scope"], paused["pause"]["health"]) \
        == ("skipped", "paused", f"login:{LOGIN}", "login expired")
    assert "log in again" in paused["reason"] and "--force" in paused["reason"]
    assert outcomes[1].to_json()["pause"] is None  # busy: its pause was not even looked at
    assert "another weidang process" in outcomes[1].to_json()["reason"]
    assert sorted(_pauses(tmp_path / "catalog.sqlite")) == sorted([BUSY, f"login:{LOGIN}"])
    assert not (tmp_path / "collections").exists()  # nothing ran: no collection was even begun
    db.close()


def test_a_forced_harvest_of_a_busy_account_keeps_its_pause(tmp_path):
    # The lock comes first: a forced harvest that cannot run must not end the pause on its way.
    archive = Archive(tmp_path / "home", SimpleNamespace(proxy_url="http://127.0.0.1:9"))  # type: ignore[arg-type]
    archive.add(PAUSED)
    db = open_catalog(archive.root / "catalog.sqlite")
    try:
        RunLog(db, lambda: NOW).pause(PAUSED, "Weibo answered 418 (rate limited)")
    finally:
        db.close()
    with held_elsewhere(archive.root / "locks", PAUSED):
        done = archive.weidang("harvest", PAUSED, "--force", "--json")
    [skipped] = json.loads(done.stdout)
    assert done.returncode == 1 and "being harvested by another weidang process" in done.stderr
    assert (skipped["outcome"], skipped["why"]) == ("skipped", "busy")
    assert _pauses(archive.root / "catalog.sqlite") == [PAUSED]
    assert archive.rows("SELECT count(*) FROM runs") == [(0,)]


def test_a_busy_account_does_not_stop_the_others(emulator, tmp_path):
    first, second = [f"weibo:{a['uid']}" for a in emulator.world()["weibo"][:2]]
    archive = Archive(tmp_path / "home", emulator)
    archive.add(first)
    archive.add(second)
    with held_elsewhere(archive.root / "locks", first):
        done = archive.weidang("harvest", first, second, "--json")
    skipped, harvested = json.loads(done.stdout)
    assert (skipped["account"], skipped["outcome"], skipped["why"]) == (first, "skipped", "busy")
    assert (harvested["account"], harvested["outcome"]) == (second, "ok"), done.stderr
    assert harvested["posts_new"] > 0 and done.returncode == 1  # not everything was harvested
    assert [r[0] for r in archive.rows("SELECT account FROM runs")] == [second]
