"""One scheduler and several `weidang worker`s as separate processes, on a real broker, harvesting
from the emulator into one home (a shared catalog, one collection per worker)."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from catalog_helpers import derived_tables
from crawler_helpers import WEIDANG, Archive, wechat_ids, weibo_ids
from emulator_client import ROOT, EmulatorClient

from catalog.accounts import AccountRegistry

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"


def need_service(port: int, what: str) -> None:
    """Skip, saying why, where the broker is not running here."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"{what} is not reachable on 127.0.0.1:{port} ({exc}): the queue tests need it")


def queue_archive(root: Path, site: EmulatorClient, broker: str, catalog_url: str = "") -> Archive:
    """A home whose daemon sends harvests to queues only this test uses (a unique prefix); the
    catalog in the home, or on a server (``catalog_url``)."""
    return Archive(root, site, catalog_url=catalog_url, settings=[
        *([f"CATALOG_URL={catalog_url}"] if catalog_url else []),
        "SCHEDULES_DISPATCH=queue", f"SCHEDULES_QUEUE_BROKER_URL={broker}",
        f"SCHEDULES_QUEUE_PREFIX=test-{uuid.uuid4().hex[:12]}", "SCHEDULES_MAX_CONCURRENT=32",
        "SCHEDULES_SYNC_SECONDS=1", "CATALOG_SCHEDULE_JITTER_SECONDS=0", "SCHEDULES_STOP_TIMEOUT_SECONDS=5"])


def register(archive: Archive, weibo: int, wechat: int) -> dict[str, list[str]]:
    """Register accounts of the emulator's world; returns each account's post ids there."""
    world = archive.client.world()
    expected: dict[str, list[str]] = {}
    credentials: dict[str, dict[str, str]] = {}
    archive.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    with archive.catalog() as db:
        registry = AccountRegistry(db, via="test")
        for account in world["weibo"][:weibo]:
            key = f"weibo:{account['uid']}"
            registry.add(key, name="测试账号", jitter="0")
            expected[key] = weibo_ids(archive.client, str(account["uid"]))
        generated = [a for a in world["wechat"] if a["biz"].startswith("Mzkw")]  # not the recorded
        for i, account in enumerate(generated[:wechat]):
            key, login = f"wechat:{account['biz']}", f"login_{i}"
            credentials[login] = {"cookie": account["cookie"], "token": account["token"]}
            registry.add(key, name="测试账号", jitter="0", source="backend", credentials=login)
            expected[key] = wechat_ids(account)
    path = archive.root / "credentials.toml"
    path.write_text("".join(f"[{n}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in c.items()) + "\n"
                            for n, c in credentials.items()), encoding="utf-8")
    path.chmod(0o600)
    return expected


def _command(archive: Archive, *args: str) -> list[str]:
    sets = [f"CRAWLER_PROXY={archive.client.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
            "CRAWLER_BACKOFF_SECONDS=0.05", *archive.settings]
    return [*WEIDANG, *[x for s in sets for x in ("--set", s)], *args]


def start(archive: Archive, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """A weidang process writing its output to ``log`` (a pipe nobody reads would fill)."""
    with open(log, "ab") as out:
        return subprocess.Popen(_command(archive, *args), env=archive.env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_worker(archive: Archive, name: str, *settings: str) -> subprocess.Popen[bytes]:
    """A worker, once Celery says it is ready (its log is appended to at each start)."""
    before = log_of(archive, name).count("ready.")
    sets = [x for s in (f"SCHEDULES_WORKER_NAME={name}", *settings) for x in ("--set", s)]
    proc = start(archive, archive.root.parent / f"{name}.log", *sets, "worker", "--concurrency", "1")
    wait_for(lambda: log_of(archive, name).count("ready.") > before or proc.poll() is not None, 120)
    assert proc.poll() is None, log_of(archive, name)
    return proc


def log_of(archive: Archive, name: str) -> str:
    path = archive.root.parent / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def writing(folder: Path) -> bool:
    """A WARC file in ``folder`` is open and holds records."""
    for path in folder.glob("*.open"):
        try:
            if path.stat().st_size > 0:
                return True
        except FileNotFoundError:  # closed meanwhile
            pass
    return False


def worker_collections(archive: Archive) -> dict[str, list[Path]]:
    base = archive.root / "collections"
    return {p.name: sorted((p / "warcs").glob("*.warc.gz*")) for p in sorted(base.iterdir())
            if p.name.startswith("worker-")}


def check_archive(archive: Archive, expected: dict[str, list[str]], rebuild_url: str = "") -> None:
    """Every post captured, each once; verify passes over every collection; the catalog is
    what a rebuild from all the workers' WARC files gives (into ``rebuild_url``, a fresh
    catalog on the server, when the archive's catalog is there)."""
    for key, ids in expected.items():
        got = archive.post_ids(key)
        assert sorted(got) == sorted(ids), key
    # One version of each post (reposted originals of other accounts too): none captured twice.
    versions = archive.rows("SELECT COUNT(*), COUNT(DISTINCT platform || ':' || post_id) FROM versions")[0]
    assert versions[0] == versions[1] == archive.rows("SELECT COUNT(*) FROM posts")[0][0]
    done = archive.weidang("verify")
    assert done.returncode == 0, done.stdout + done.stderr
    with archive.catalog() as db:
        live = derived_tables(db)
    copy = archive.root.parent / "rebuilt"
    shutil.copytree(archive.root, copy)
    rebuilt_archive = Archive(copy, archive.client, catalog_url=rebuild_url)
    done = rebuilt_archive.weidang("catalog", "rebuild")
    assert done.returncode == 0, done.stdout + done.stderr
    with rebuilt_archive.catalog() as db:
        rebuilt = derived_tables(db)
    for table, rows in live.items():  # name the rows that differ, not just "AssertionError"
        assert rebuilt[table] == rows, (table, sorted(set(rows) ^ set(rebuilt[table]))[:6])


def ended_runs(archive: Archive) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for account, outcome in archive.rows("SELECT account, outcome FROM runs ORDER BY started_at"):
        out.setdefault(account, []).append(outcome)
    return out


