"""What the catalog costs a harvest, and how fast `weidang catalog rebuild` reads it back.

    .venv/bin/python bench/catalog_bench.py [--posts 20000] [--batch 20]

Posts are the real timeline sample's posts under new ids (so texts, media and sizes are real).
For each post, as the crawler does: decide, build the metadata record, write it to a WARC file,
record the version. The catalog's part is timed two ways on two catalogs (SQLite, WAL): one
capture per call (``record_version``, one transaction each) and in batches of ``--batch`` as the
harvest's Recorder commits them (``record_versions``). Then a second pass where every post is
unchanged, then the rebuild (records/s), checked equal to what was written.
No assertion on time, just numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from catalog_helpers import FIRST, PAGE1, derived_tables, timeline  # noqa: E402

from catalog.db import open_catalog  # noqa: E402
from catalog.metadata import Evidence, post_metadata  # noqa: E402
from catalog.posts import Capture, PostCatalog  # noqa: E402
from catalog.rebuild import rebuild  # noqa: E402
from warc_store import CaptureWriter, Collection  # noqa: E402


def record_all(root: Path, name: str, posts: list, evidence: list, batch: int) -> tuple[float, float, Any]:
    """Both passes into a fresh catalog; ``batch`` 0: one capture per call. Returns the seconds
    spent in the catalog, the seconds in all, and the catalog."""
    db = open_catalog(root / f"{name}.sqlite")
    collection = Collection.create(root / name / "default")  # the catalog's default collection
    catalog = PostCatalog(db, collection.name)
    in_catalog = 0.0
    started = time.perf_counter()
    with CaptureWriter(collection) as writer:
        for outcome_pass in ("new", "unchanged"):
            waiting: list[Capture] = []
            for post in posts:
                t0 = time.perf_counter()
                decision = catalog.decide(post)
                in_catalog += time.perf_counter() - t0
                assert decision.outcome == outcome_pass
                uri, body, ctype = post_metadata(post, decision.version, decision.outcome, "bench",
                                                 evidence)
                written = writer.write_metadata(uri, body, ctype, refers_to=[evidence[0].record_id])
                capture = Capture(post, decision.version, decision.outcome, written.record_id,
                                  evidence, "bench", post.captured_at)
                t0 = time.perf_counter()
                if batch:
                    waiting.append(capture)
                    if len(waiting) >= batch:
                        catalog.record_versions(waiting)
                        waiting = []
                else:
                    catalog.record_version(*capture[:7])
                in_catalog += time.perf_counter() - t0
            t0 = time.perf_counter()
            catalog.record_versions(waiting)
            in_catalog += time.perf_counter() - t0
    return in_catalog, time.perf_counter() - started, (db, collection)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    _, samples = timeline(PAGE1, FIRST)
    posts = [samples[n % len(samples)].merged(post_id=str(5_000_000_000_000_000 + n),
                                              captured_at=FIRST + dt.timedelta(seconds=n))
             for n in range(args.posts)]
    evidence = [Evidence("<urn:uuid:00000000-0000-0000-0000-000000000000>",
                         "https://m.weibo.cn/api/container/getIndex", "listing", "sha256:00")]
    n = 2 * len(posts)
    print(f"{len(posts)} posts recorded twice (new, then unchanged): {n} captures")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = {}
        for name, batch in (("alone", 0), ("batched", args.batch)):
            in_catalog, total, results[name] = record_all(root, name, posts, evidence, batch)
            how = "one per call" if not batch else f"in batches of {batch}"
            print(f"  {how:20s}: catalog (decide + record) {n / in_catalog:,.0f} captures/s; "
                  f"with the WARC metadata record {n / total:,.0f} captures/s")
        db, collection = results["batched"]
        size = sum(p.stat().st_size for p in root.glob("batched.sqlite*"))
        print(f"  catalog file {size / 1e6:,.1f} MB")
        fresh = open_catalog(root / "fresh.sqlite")
        t0 = time.perf_counter()
        summary = rebuild(fresh, collection)
        seconds = time.perf_counter() - t0
        same = derived_tables(fresh) == derived_tables(db)
        print(f"rebuild: {summary.metadata_records} metadata records from {summary.files} files in "
              f"{seconds:.1f} s ({summary.metadata_records / seconds:,.0f} records/s); "
              f"equal to the harvest's tables: {same}")


if __name__ == "__main__":
    main()
