"""What the catalog costs a harvest, and how fast `weidang catalog rebuild` reads it back.

    .venv/bin/python bench/catalog_bench.py [--posts 20000]

Posts are the real timeline sample's posts under new ids (so texts, media and sizes are real).
For each post, as the crawler does: decide, build the metadata record, write it to a WARC file,
record the version. Prints posts/s for the catalog alone (decide + record_version, one
transaction per post, WAL) and with the WARC metadata record, then a second pass where every
post is unchanged, then the rebuild (records/s) and checks it equals what was written.
No assertion on time, just numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from catalog_helpers import FIRST, PAGE1, derived_tables, timeline  # noqa: E402

from catalog.metadata import Evidence, post_metadata  # noqa: E402
from catalog.posts import PostCatalog  # noqa: E402
from catalog.rebuild import rebuild  # noqa: E402
from warc_store import CaptureWriter, Collection  # noqa: E402


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20000)
    args = parser.parse_args()
    _, samples = timeline(PAGE1, FIRST)
    posts = [samples[n % len(samples)].merged(post_id=str(5_000_000_000_000_000 + n),
                                              captured_at=FIRST + dt.timedelta(seconds=n))
             for n in range(args.posts)]
    evidence = [Evidence("<urn:uuid:00000000-0000-0000-0000-000000000000>",
                         "https://m.weibo.cn/api/container/getIndex", "listing", "sha256:00")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        conn = connect(root / "catalog.sqlite")
        catalog = PostCatalog(conn)
        collection = Collection.create(root / "default")
        catalog_seconds = 0.0
        started = time.perf_counter()
        with CaptureWriter(collection) as writer:
            for outcome_pass in ("new", "unchanged"):
                for post in posts:
                    t0 = time.perf_counter()
                    decision = catalog.decide(post)
                    catalog_seconds += time.perf_counter() - t0
                    assert decision.outcome == outcome_pass
                    uri, body, ctype = post_metadata(post, decision.version, decision.outcome, "bench",
                                                     evidence)
                    written = writer.write_metadata(uri, body, ctype, refers_to=[evidence[0].record_id])
                    t0 = time.perf_counter()
                    catalog.record_version(post, decision.version, decision.outcome, written.record_id,
                                           evidence, "bench", post.captured_at)
                    catalog_seconds += time.perf_counter() - t0
        total = time.perf_counter() - started
        n = 2 * len(posts)
        print(f"{len(posts)} posts recorded twice (new, then unchanged): {n} captures")
        print(f"  catalog only (decide + record_version): {n / catalog_seconds:,.0f} captures/s")
        print(f"  with the WARC metadata record:          {n / total:,.0f} captures/s")
        size = sum(p.stat().st_size for p in root.glob("catalog.sqlite*"))
        print(f"  catalog file {size / 1e6:,.1f} MB")
        fresh = connect(root / "fresh.sqlite")
        t0 = time.perf_counter()
        summary = rebuild(fresh, collection)
        seconds = time.perf_counter() - t0
        same = derived_tables(fresh) == derived_tables(conn)
        print(f"rebuild: {summary.metadata_records} metadata records from {summary.files} files in "
              f"{seconds:.1f} s ({summary.metadata_records / seconds:,.0f} records/s); "
              f"equal to the harvest's tables: {same}")


if __name__ == "__main__":
    main()
