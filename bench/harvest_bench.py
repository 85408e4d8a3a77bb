"""Harvest speed: posts/s of an API-only harvest of one large generated account, politeness off,
and what WARC recording costs (the same harvest with the recording middleware switched off).

Usage: python bench/harvest_bench.py [--posts 3000] [--runs 2] [--index-records N]
The emulator runs in its own process (the second core); each harvest runs in a fresh process
because Scrapy's reactor cannot restart. Prints posts/s and CPU-milliseconds per post (of the
harvest process only, not the emulator's) for each variant, and the overhead ratio: of the best
runs, and the median of each run's pair (the steadier figure on a shared machine).
``--index-records N`` adds a third variant: the same recorded harvest into a collection whose
record index already holds N records (an archive some years old), its look-up table built by an
earlier process, as a harvest finds it in such an archive.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ONE = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from catalog.db import open_catalog
from crawler.harvest import run_harvests
from crawler.job import HarvestJob
from crawler.settings import Politeness
from warc_store import CaptureWriter, Collection
home = Path(sys.argv[1]); record = sys.argv[3] != "nowarc"
collection = Collection.create(home / "collection")
if len(sys.argv) > 5:  # an archive's index of many records, its look-up table built earlier
    import os, shutil, subprocess
    shutil.copy(sys.argv[5], collection.index.path)
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from warc_store.cdxj import CdxjIndex; CdxjIndex(Path(sys.argv[1])).refresh()",
                    str(collection.index.path)], check=True)
    os.sync()  # the copy's writeback would otherwise slow this harvest's syncs
db = open_catalog(home / "catalog.sqlite")
job = HarvestJob(platform="weibo", account_id=sys.argv[4], harvest_id="bench-" + sys.argv[3],
                 mode="full", max_pages=10_000, recheck_days=0, media=False, proxy=sys.argv[2])
polite = Politeness(delay=0, concurrency_per_host=8, autothrottle=False, retries=1)
start, cpu = time.perf_counter(), time.process_time()
with CaptureWriter(collection) as writer:
    [summary] = run_harvests([job], writer=writer, db=db, politeness=polite,
                             clock=lambda: datetime.now(UTC), record=record)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"posts": summary.posts_new, "seconds": elapsed, "cpu": cpu,
                  "exchanges": summary.exchanges, "pages": summary.pages,
                  "errors": len(summary.errors)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--index-records", type=int, default=0,
                        help="also harvest into a collection whose index holds this many records")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="weidang-bench-harvest-"))
    variants = ["nowarc", "warc"]
    if args.index_records:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from record_lookup_bench import write_index

        write_index(base / "big.cdxj", args.index_records)
        variants.append("warc-big")
    emu = subprocess.Popen([sys.executable, "-m", "emulator", "--accounts", "1", "--posts", str(args.posts),
                            "--seed", "3", "--state-dir", str(base / "emu")],
                           stdout=subprocess.PIPE, text=True)
    assert emu.stdout is not None
    proxy = emu.stdout.readline().split()[1]
    uid = "7000000001"
    results: dict[str, list[float]] = {v: [] for v in variants}
    cpu_ms: dict[str, list[float]] = {v: [] for v in variants}
    try:
        for run in range(args.runs):
            for variant in variants:
                home = base / f"{variant}-{run}"
                home.mkdir()
                extra = [str(base / "big.cdxj")] if variant == "warc-big" else []
                out = subprocess.run([sys.executable, "-c", ONE, str(home), proxy, variant, uid,
                                      *extra],
                                     capture_output=True, text=True, check=True)
                data = json.loads(out.stdout.strip().splitlines()[-1])
                rate = data["posts"] / data["seconds"]
                results[variant].append(rate)
                cpu_ms[variant].append(1000 * data["cpu"] / max(data["posts"], 1))
                print(f"run {run + 1} {variant:8s}: {data['posts']} posts, {data['pages']} pages, "
                      f"{data['exchanges']} exchanges recorded, {data['seconds']:.1f} s, "
                      f"{rate:,.0f} posts/s, {cpu_ms[variant][-1]:.2f} CPU-ms/post, "
                      f"{data['errors']} errors")
    finally:
        emu.terminate()
        emu.wait()
        shutil.rmtree(base, ignore_errors=True)
    best = {k: max(v) for k, v in results.items()}
    print(f"best: {best['warc']:,.0f} posts/s with WARC recording, {best['nowarc']:,.0f} without; "
          f"recording costs {best['nowarc'] / best['warc']:.2f}x; CPU-ms per post of the harvest "
          f"process: {min(cpu_ms['warc']):.2f} with recording, {min(cpu_ms['nowarc']):.2f} without "
          f"({datetime.now(UTC):%Y-%m-%d}, {args.posts} posts, API only, politeness off)")
    # On a shared machine one slow run skews a best-of; each run's two harvests ran side by
    # side, so their ratio is compared, and the median of those ratios is the steadier figure.
    walls = [a / b for a, b in zip(results["nowarc"], results["warc"], strict=True)]
    cpus = [b / a for a, b in zip(cpu_ms["nowarc"], cpu_ms["warc"], strict=True)]
    print(f"paired over {args.runs} runs: recording costs {statistics.median(walls):.3f}x in time "
          f"(median; runs {', '.join(f'{r:.2f}' for r in sorted(walls))}) and "
          f"{statistics.median(cpus):.3f}x in CPU; median {statistics.median(results['warc']):,.0f} "
          f"posts/s with recording, {statistics.median(results['nowarc']):,.0f} without")
    if args.index_records:
        print(f"into a collection of {args.index_records:,} records: {best['warc-big']:,.0f} "
              f"posts/s, {min(cpu_ms['warc-big']):.2f} CPU-ms per post; "
              f"{best['warc'] / best['warc-big']:.2f}x the time of an empty collection's harvest")


if __name__ == "__main__":
    main()
