"""The scheduler's dispatch with 200,000 accounts: jobs/s to the queue, its memory, its start-up.

    .venv/bin/python bench/dispatch_bench.py [--accounts 200000] [--seconds 60] [--broker URL]

Accounts are generated straight into a fresh catalog's accounts table (SQLite), none harvested
yet, so every one is due at start. The daemon (schedules.daemon.Daemon, as `weidang run` starts it) runs with
SCHEDULES_DISPATCH=queue on RabbitMQ (queues of a prefix only this run uses), 64 jobs in flight;
a stub worker answers each job at once with an ok summary, so what is measured is the
scheduler's own work per job (decide, send, read the result back, settle). Measured: start-up
(first start, which writes every job to the job store), the jobs settled per second over
``--seconds`` from the first settled one, and the daemon's resident memory (VmRSS, highest
seen). The peer, in the same run on the same accounts: local dispatch
(SCHEDULES_DISPATCH=local), each job a child process that only prints the same summary.
Goal at 200,000: <= 300 MB RSS, <= 30 s start-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.accounts import AccountRegistry  # noqa: E402
from catalog.db import Database  # noqa: E402
from catalog.schema import accounts, iso, utc_now  # noqa: E402

SUMMARY = '[{"outcome": "ok", "posts_new": 0}]'
FAKE_HARVEST = ["/bin/sh", "-c", f"printf '{SUMMARY}'", "sh"]
IN_FLIGHT = 64


def populate(catalog: Path, n: int) -> float:
    """The accounts in one statement (the register's per-account events are left out: they play
    no part in dispatch, and adding 200,000 one by one takes most of an hour here)."""
    t0 = time.monotonic()
    db = Database(catalog)
    now = iso(utc_now())
    rows = [{"platform": "weibo", "account_id": str(7100000000 + i), "active": 1, "created_at": now,
             "updated_at": now, "name": f"测试账号{i}", "credentials": None, "source": None,
             "interval_seconds": 86400, "cron": None, "jitter_seconds": 0, "notes": ""}
            for i in range(n)]
    with db.write() as conn:
        conn.execute(accounts.insert(), rows)
    AccountRegistry(db, via="bench").get("weibo:7100000000")  # readable as the register writes it
    db.close()
    return time.monotonic() - t0


def daemon_process(home: Path, catalog: Path, dispatch: str, broker: str, prefix: str,
                   ) -> subprocess.Popen[str]:
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from schedules.config import DaemonConfig, QueueConfig
from schedules.daemon import Daemon
home = Path({str(home)!r})
queue = QueueConfig(broker_url={broker!r}, prefix={prefix!r}) if {dispatch!r} == "queue" else None
config = DaemonConfig(home=home, catalog_path=Path({str(catalog)!r}), harvest_command={FAKE_HARVEST!r},
                      max_concurrent={IN_FLIGHT}, sync_seconds=60, default_jitter=0, stop_timeout_seconds=5,
                      log_dir=home / "logs", log_to_stderr=False, dispatch={dispatch!r}, queue=queue)
t0 = time.monotonic()
daemon = Daemon(config)
orig = daemon.start
def start():
    orig()
    print("STARTED", time.monotonic() - t0, flush=True)
daemon.start = start
daemon.run()
"""
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)


def stub_worker(broker: str, prefix: str) -> subprocess.Popen[str]:
    """A Celery worker on the harvest queue whose task answers at once (no harvest, no child)."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from schedules.config import QueueConfig
from schedules.queue import HARVEST_TASK, make_app
app = make_app(QueueConfig(broker_url={broker!r}, prefix={prefix!r}))
app.tasks.unregister(HARVEST_TASK)
@app.task(name=HARVEST_TASK)
def harvest(account):
    return {{"returncode": 0, "stdout": {SUMMARY!r}, "stderr": ""}}
app.worker_main(["worker", "--pool", "threads", "--concurrency", "{IN_FLIGHT}", "--queues",
                 "{prefix}.harvest.weibo", "--loglevel", "WARNING", "--without-gossip",
                 "--without-mingle", "--hostname", "bench-{prefix}@%h"])
"""
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def settled(home: Path) -> int:
    log = home / "logs" / "daemon.log"
    return log.read_text(errors="replace").count(" ended ok") if log.exists() else 0


def measure(home: Path, catalog: Path, dispatch: str, broker: str, seconds: float) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    worker = stub_worker(broker, prefix) if dispatch == "queue" else None
    proc = daemon_process(home, catalog, dispatch, broker, prefix)
    try:
        assert proc.stdout is not None
        started = float(proc.stdout.readline().split()[1])
        rss = rss_mb(proc.pid)
        deadline = time.monotonic() + 600
        while settled(home) == 0 and time.monotonic() < deadline:  # the stub worker is ready
            time.sleep(0.5)
        first, t0 = settled(home), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
            rss = max(rss, rss_mb(proc.pid))
        jobs = settled(home) - first
        rate = jobs / (time.monotonic() - t0)
    finally:
        proc.terminate()
        try:
            proc.wait(300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if worker is not None:
            worker.terminate()
            worker.wait(60)
    return {"startup_s": round(started, 1), "jobs_per_s": round(rate, 1), "rss_mb": round(rss, 1),
            "jobs": jobs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog.sqlite"
        made = populate(catalog, args.accounts)
        print(json.dumps({"accounts": args.accounts, "populate_s": round(made, 1)}), flush=True)
        queue = measure(Path(tmp) / "queue", catalog, "queue", args.broker, args.seconds)
        print(json.dumps({"dispatch": "queue", **queue}), flush=True)
        local = measure(Path(tmp) / "local", catalog, "local", args.broker, args.seconds)
        print(json.dumps({"dispatch": "local", **local}), flush=True)
        ratio = queue["jobs_per_s"] / local["jobs_per_s"] if local["jobs_per_s"] else float("inf")
        print(json.dumps({"queue_to_local_jobs_per_s": round(ratio, 2),
                          "goal_rss_mb": 300, "goal_startup_s": 30}), flush=True)


if __name__ == "__main__":
    main()
