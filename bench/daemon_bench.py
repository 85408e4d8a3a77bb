"""The daemon with 1,000 and 10,000 scheduled accounts: start-up, idle memory and CPU, catch-up.

    .venv/bin/python bench/daemon_bench.py [--sizes 1000 10000] [--idle 30]

Accounts are generated straight into a fresh catalog, each with a recent successful run, so an
idle daemon has nothing to do. Measured on the daemon process (schedules.daemon.Daemon, as
`weidang run` starts it): start-up time (first start, which writes every job to the SQLite job
store, and a restart), resident memory (VmRSS) and CPU over an idle window that includes catalog
syncs every 10 s. Catch-up: the same accounts with their last runs a day old (a day of downtime),
harvest children replaced by a process that only prints a summary, so the time measured is the
daemon's own: from start until every account has run once (8 at a time), with `run --once`.
Goal at 10,000: <= 200 MB RSS, idle CPU near zero, start-up <= 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.accounts import AccountRegistry  # noqa: E402
from catalog.db import Database  # noqa: E402
from catalog.runs import RunLog  # noqa: E402

FAKE_HARVEST = ["/bin/sh", "-c", "printf '[{\"outcome\": \"ok\", \"posts_new\": 0}]'", "sh"]


def populate(home: Path, n: int, last_run_age: dt.timedelta) -> None:
    home.mkdir(parents=True)
    db = Database(home / "catalog.sqlite")
    registry = AccountRegistry(db, via="bench")
    when = dt.datetime.now(dt.UTC) - last_run_age
    runs = RunLog(db, clock=lambda: when)
    with registry.batch():
        for i in range(n):
            registry.add(f"weibo:{7100000000 + i}", name=f"测试账号{i}", interval="1d")
    for i in range(n):
        runs.finish(runs.start(f"weibo:{7100000000 + i}"), "ok")
    db.close()


def daemon_process(home: Path, mode: str, jitter: int) -> subprocess.Popen[str]:
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from schedules.daemon import Daemon, DaemonConfig
home = Path({str(home)!r})
config = DaemonConfig(home=home, catalog_path=home / "catalog.sqlite", harvest_command={FAKE_HARVEST!r},
                      max_concurrent=8, sync_seconds=10, default_jitter={jitter}, log_dir=home / "logs",
                      log_to_stderr=False)
t0 = time.monotonic()
daemon = Daemon(config)
if {mode!r} == "once":
    reports = daemon.run(once=True)
    print("DONE", time.monotonic() - t0, len(reports), flush=True)
else:
    orig = daemon.start
    def start():
        orig()
        print("STARTED", time.monotonic() - t0, flush=True)
    daemon.start = start
    daemon.run()
"""
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks (100 Hz)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_run(home: Path, idle: float) -> dict[str, float]:
    proc = daemon_process(home, "run", jitter=900)
    assert proc.stdout is not None
    started = float(proc.stdout.readline().split()[1])
    time.sleep(2)
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(idle)
    cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
    rss = rss_mb(proc.pid)
    proc.terminate()
    proc.wait(60)
    return {"startup_s": started, "idle_cpu_percent": cpu * 100, "rss_mb": rss}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "idle"
            populate(home, n, dt.timedelta(minutes=5))
            first = idle_run(home, args.idle)
            again = idle_run(home, args.idle)
            print(json.dumps({"accounts": n, "first_start_s": round(first["startup_s"], 2),
                              "restart_s": round(again["startup_s"], 2),
                              "idle_rss_mb": round(again["rss_mb"], 1),
                              "idle_cpu_percent": round(again["idle_cpu_percent"], 2)}), flush=True)
            home = Path(tmp) / "catchup"
            populate(home, n, dt.timedelta(days=1, minutes=5))
            proc = daemon_process(home, "once", jitter=0)
            out, _ = proc.communicate(timeout=3600)
            done = next(line for line in out.splitlines() if line.startswith("DONE")).split()
            print(json.dumps({"accounts": n, "catch_up_after_a_day_s": round(float(done[1]), 1),
                              "runs": int(done[2])}), flush=True)


if __name__ == "__main__":
    main()
