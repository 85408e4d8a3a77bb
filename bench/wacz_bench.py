"""WACZ writing: weidang's writer against py-wacz's `wacz create`, same WARC files, same run.

Usage: python bench/wacz_bench.py [--megabytes 500] [--wacz PATH/TO/wacz] [--out DIR] [--keep]
Builds about that many payload bytes of WARC files with the realistic mix (bench/warc_mix.py,
with picture revisits), then times `write_collection_wacz` (index from the collection's
index.cdxj, each WARC copied once and hashed as it is copied) and `wacz create` (which reads and
re-indexes every record with cdxj-indexer, then copies). `--wacz` names py-wacz's command; by
default the one the tests install (~/.cache/weidang-tests/wacz-*/bin/wacz), if any. Prints
seconds, MB/s over the WARC bytes and the ratio; each is run twice and the faster run counts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from warc_mix import exchanges  # noqa: E402

from warc_store import CaptureWriter, Collection, StoreConfig  # noqa: E402
from warc_store.wacz import write_collection_wacz  # noqa: E402


def build(root: Path, megabytes: float) -> Collection:
    collection = Collection.create(root)
    target = megabytes * 1e6
    with CaptureWriter(collection, StoreConfig(max_size=128 * 1024**2)) as writer:
        written = 0
        for n, (req, resp, kind) in enumerate(exchanges(10**9)):
            writer.write_exchange(req, resp, dedup=True)
            if kind == "picture" and n % 5 == 0:  # the same picture again, as a revisit
                writer.write_exchange(req, resp, dedup=True)
            written += len(resp.body)
            if written >= target:
                break
    return collection


def best_of_two(run: Callable[[], object]) -> float:
    times = []
    for _ in range(2):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def find_wacz(given: str | None) -> Path | None:
    if given:
        return Path(given)
    cache = Path(os.environ.get("WEIDANG_TEST_CACHE") or Path.home() / ".cache" / "weidang-tests")
    found = sorted(cache.glob("wacz-*/bin/wacz"))
    return found[-1] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=500)
    parser.add_argument("--wacz", help="py-wacz's `wacz` command")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="wacz-bench-"))
    try:
        collection = build(out / "coll", args.megabytes)
        files = collection.closed_files()
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} WARC files, {size / 1e6:.0f} MB, "
              f"{sum(1 for _ in collection.index)} records")
        names = [p.name for p in files]
        ours = best_of_two(lambda: write_collection_wacz(collection, names, out / "ours.wacz", [],
                                                         title="bench"))
        print(f"weidang write_collection_wacz: {ours:.2f} s ({size / 1e6 / ours:.0f} MB/s)")
        wacz = find_wacz(args.wacz)
        if wacz is None or not wacz.exists():
            print("py-wacz not found (run tests/test_wacz_readers.py once, or give --wacz): no comparison")
            return
        theirs = best_of_two(lambda: subprocess.run(
            [str(wacz), "create", "-o", str(out / "theirs.wacz"), *map(str, files)],
            check=True, capture_output=True))
        print(f"py-wacz `wacz create`:         {theirs:.2f} s ({size / 1e6 / theirs:.0f} MB/s)")
        print(f"ratio (wacz create / weidang): {theirs / ours:.1f}x")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
