"""Harvest throughput with 1, 2 and 4 workers, each with its own egress, under the platforms'
per-address limit.

    .venv/bin/python bench/workers_bench.py [--workers 1 2 4] [--accounts 4] [--posts 100] [--rps 5]

The emulator answers each client address at most ``--rps`` requests a second (its
``per_address_rps``), as the platforms limit each address. Each worker's requests leave from its
own loopback address (``CRAWLER_BIND_ADDRESS=127.0.0.1x``, ``CRAWLER_EGRESS``), as workers on
separate machines would. For each worker count, in the same run: a fresh home, the same
Weibo accounts, the workers started (and ready), then `weidang run --once` with
SCHEDULES_DISPATCH=queue on RabbitMQ; measured from the scheduler's start to its end, posts
captured per second, and the ratio to one worker. Politeness delay off, browser capture off,
so that the per-address limit is what bounds a harvest.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
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

WEIDANG = [str(ROOT / ".venv/bin/weidang")] if (ROOT / ".venv/bin/weidang").exists() \
    else [sys.executable, "-m", "weidang"]


def emulator(folder: Path, accounts: int, posts: int, rps: float) -> tuple[subprocess.Popen[str], str]:
    plan = folder / "plan.toml"
    folder.mkdir(parents=True, exist_ok=True)
    plan.write_text(f"per_address_rps = {rps}\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--accounts", str(accounts), "--posts",
                             str(posts), "--seed", "1", "--state-dir", str(folder / "state"),
                             "--plan", str(plan)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    proxy = proc.stdout.readline().split()[1]
    return proc, proxy


def settings(proxy: str, prefix: str) -> list[str]:
    sets = [f"CRAWLER_PROXY={proxy}", "CRAWLER_DELAY_SECONDS=0", "CRAWLER_BROWSER_ENABLED=false",
            "SCHEDULES_DISPATCH=queue", f"SCHEDULES_QUEUE_PREFIX={prefix}", "SCHEDULES_MAX_CONCURRENT=32",
            "SCHEDULES_SYNC_SECONDS=1", "CATALOG_SCHEDULE_JITTER_SECONDS=0"]
    return [x for s in sets for x in ("--set", s)]


def one(base: Path, proxy: str, workers: int, accounts: int) -> dict[str, float]:
    home = base / f"home-{workers}"
    home.mkdir(parents=True, mode=0o700)
    db = Database(home / "catalog.sqlite")
    registry = AccountRegistry(db, via="bench")
    for i in range(accounts):
        registry.add(f"weibo:{7000000001 + i}", name="测试账号", jitter="0")
    db.close()
    env = dict(os.environ, WEIDANG_HOME=str(home))
    common = settings(proxy, f"bench-{uuid.uuid4().hex[:10]}")
    procs = []
    for i in range(workers):
        log = open(base / f"worker-{workers}-{i}.log", "wb")  # noqa: SIM115 - closed with the process
        egress = ["--set", f"SCHEDULES_WORKER_NAME=w{i}", "--set", f"CRAWLER_EGRESS=e{i}",
                  "--set", f"CRAWLER_BIND_ADDRESS=127.0.0.{10 + i}"]
        procs.append((subprocess.Popen([*WEIDANG, *common, *egress, "worker", "--concurrency", "1"],
                                       env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not all(
                "ready." in (base / f"worker-{workers}-{i}.log").read_text(errors="replace")
                for i in range(workers)):
            time.sleep(0.5)
        t0 = time.monotonic()
        subprocess.run([*WEIDANG, *common, "run", "--once"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=7200)
        seconds = time.monotonic() - t0
    finally:
        for proc, log in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)
            log.close()
    db = Database(home / "catalog.sqlite")
    with db.read() as conn:
        posts = conn.exec_driver_sql("SELECT COUNT(*) FROM posts").scalar_one()
        ok = conn.exec_driver_sql("SELECT COUNT(*) FROM runs WHERE outcome = 'ok'").scalar_one()
    db.close()
    return {"workers": workers, "posts": int(posts), "runs_ok": int(ok), "seconds": round(seconds, 1),
            "posts_per_s": round(posts / seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--rps", type=float, default=5.0)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="weidang-bench-workers-"))
    emu, proxy = emulator(base / "emulator", args.accounts, args.posts, args.rps)
    try:
        results = [one(base, proxy, n, args.accounts) for n in args.workers]
    finally:
        emu.terminate()
        emu.wait()
    single = next((r["posts_per_s"] for r in results if r["workers"] == 1), results[0]["posts_per_s"])
    for r in results:
        print(json.dumps({**r, "ratio_to_one": round(r["posts_per_s"] / single, 2),
                          "per_address_rps": args.rps}), flush=True)


if __name__ == "__main__":
    main()
