"""Finding a record in a large collection: the look-up table beside ``index.cdxj`` against
reading the whole index into memory (what every process did before the table) and ripgrep
scanning the file for the record id.

Usage: python bench/record_lookup_bench.py [--records 1000000] [--dir DIR]
Each measurement runs in a fresh process, as a harvest, a web server or an audit starts: its
wall time, CPU time and peak memory (RSS). The index lines are shaped like a harvest's
(``write_index``: request, response, revisit and metadata records, about 400 bytes a line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warc_store.cdxj import IndexEntry  # noqa: E402
from warc_store.cdxj_lookup import LOOKUP_NAME  # noqa: E402

KINDS = ("request", "response", "metadata", "revisit")

CHILD = """
import json, random, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from warc_store.cdxj import CdxjIndex
path, mode, n = Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rid = lambda i: f"<urn:uuid:{i:032x}>"
start, cpu = time.perf_counter(), time.process_time()
if mode == "memory":  # what each process did before the table: every line into dictionaries
    by_id = {e.record_id: e for e in CdxjIndex(path)}
    found = by_id.get(rid(n - 1))
else:
    index = CdxjIndex(path)
    found = index.by_record_id(rid(n - 1))
first = time.perf_counter() - start
first_cpu = time.process_time() - cpu
each = None
if mode == "table":
    rng = random.Random(1)
    asked = [rng.randrange(n) for _ in range(2000)]
    t = time.perf_counter()
    hits = sum(index.by_record_id(rid(i)) is not None for i in asked)
    each = (time.perf_counter() - t) / len(asked) * 1e6
    assert hits == len(asked)
assert found is not None and found.record_id == rid(n - 1)
print(json.dumps({"first": first, "cpu": first_cpu, "each_us": each,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_index(path: Path, records: int) -> None:
    """An index shaped like a harvest's: request, response, metadata and revisit records in the
    order they were written, addresses in no order, a new second every five records, a WARC
    file every 50,000 records (about 400 bytes a line)."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(records):
            page = (i // 4 * 2654435761) % 10**12  # an address the harvest came to in no order
            kind = KINDS[i % 4]
            url = (f"urn:weidang:post:weibo:{page}:v1" if kind == "metadata"
                   else f"https://m.weibo.cn/statuses/extend?id=49{page:012d}")
            fh.write(IndexEntry(
                url=url, timestamp=f"{start + dt.timedelta(seconds=i // 5):%Y%m%d%H%M%S}",
                record_id=f"<urn:uuid:{i:032x}>", record_type=kind,
                filename=f"weidang-20260101-{i // 50_000:05d}.warc.gz", offset=i * 1500,
                length=1500, digest=f"sha256:{page:064x}", mime="application/json", status=200,
            ).to_line())


def child(path: Path, mode: str, records: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), mode, str(records)],
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def rg_seconds(path: Path, records: int) -> float | None:
    rg = Path(sys.executable).parent / "rg"
    found = str(rg) if rg.exists() else shutil.which("rg")
    if found is None:
        return None
    start = time.perf_counter()
    subprocess.run([found, "-F", "-m", "1", f"<urn:uuid:{records - 1:032x}>", str(path)],
                   capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="weidang-bench-lookup-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "index.cdxj"
    try:
        write_index(path, args.records)
        (work / LOOKUP_NAME).unlink(missing_ok=True)
        size = path.stat().st_size
        print(f"index: {args.records:,} records, {size / 2**20:,.0f} MiB")
        memory = child(path, "memory", args.records)
        build = child(path, "table", args.records)
        table_bytes = sum(p.stat().st_size for p in work.glob(LOOKUP_NAME + "*"))
        later = child(path, "table", args.records)
        rg = rg_seconds(path, args.records)
        print(f"whole index into memory (before): {memory['first']:.2f} s, CPU {memory['cpu']:.2f} s, "
              f"peak RSS {memory['rss_mb']:,.0f} MB, in every process")
        print(f"table built (once per collection): {build['first']:.2f} s, CPU {build['cpu']:.2f} s, "
              f"peak RSS {build['rss_mb']:,.0f} MB; table {table_bytes / 2**20:,.0f} MiB "
              f"({table_bytes / args.records:.0f} B/record, {table_bytes / size:.2f}x the index)")
        print(f"a later process, first look-up: {later['first'] * 1000:.1f} ms, peak RSS "
              f"{later['rss_mb']:,.0f} MB; then {later['each_us']:.0f} us a look-up by record id")
        if rg is not None:
            print(f"rg finding the last record id: {rg * 1000:.0f} ms "
                  f"({rg / later['first']:,.0f}x the first look-up of a process)")
        print(f"first look-up of a process: {memory['first'] / later['first']:,.0f}x faster "
              "than reading the index into memory")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
