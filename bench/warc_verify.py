"""Verify speed: `weidang verify` against `warcio check` and against raw hashing, same files.

Usage: python bench/warc_verify.py [--gigabytes 1.0] [--out DIR] [--keep]
Builds about that many bytes of WARC files with the realistic mix (bench/warc_mix.py), then
times: `weidang verify` (all cores), `warcio check` on the same files, and raw hashing
(`sha256sum` plus SM3 over the same bytes, one after the other, as a person would run them).
Prints MB/s over compressed and uncompressed bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from warc_mix import exchanges  # noqa: E402

from warc_store import CaptureWriter, Collection, StoreConfig  # noqa: E402

BIN = Path(sys.executable).parent


def build(root: Path, gigabytes: float) -> Collection:
    collection = Collection.create(root)
    target = gigabytes * 1e9
    with CaptureWriter(collection, StoreConfig(max_size=256 * 1024**2)) as writer:
        written = 0
        for req, resp, _ in exchanges(10**9):
            writer.write_exchange(req, resp)
            written += len(resp.body)
            if written >= target:
                break
    return collection


def uncompressed_size(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        with gzip.open(p, "rb") as fh:  # reads every member in turn
            while chunk := fh.read(1 << 22):
                total += len(chunk)
    return total


def timed(label: str, fn, compressed: int, uncompressed: int) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"{label:44s} {elapsed:7.2f} s  {compressed / 1e6 / elapsed:7.1f} MB/s compressed  "
          f"{uncompressed / 1e6 / elapsed:7.1f} MB/s uncompressed")
    return elapsed


def raw_hashing(paths: list[Path]) -> None:
    subprocess.run(["sha256sum", *map(str, paths)], check=True, capture_output=True)
    for p in paths:
        h = hashlib.new("sm3")
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = Path(args.out or tempfile.mkdtemp(prefix="weidang-bench-verify-"))
    start = time.perf_counter()
    collection = build(base / "c", args.gigabytes)
    paths = collection.closed_files()
    compressed = sum(p.stat().st_size for p in paths)
    uncompressed = uncompressed_size(paths)
    print(f"built {len(paths)} files, {compressed / 1e6:,.0f} MB compressed, "
          f"{uncompressed / 1e6:,.0f} MB uncompressed in {time.perf_counter() - start:.0f} s; "
          f"{os.cpu_count()} cores")
    env = dict(os.environ, WEIDANG_HOME=str(base / "home"))
    ours = timed("weidang verify (all cores)", lambda: subprocess.run(
        [str(BIN / "weidang"), "verify", str(collection.root)], check=True, capture_output=True, env=env),
        compressed, uncompressed)
    one = timed("weidang verify --workers 1", lambda: subprocess.run(
        [str(BIN / "weidang"), "verify", "--workers", "1", str(collection.root)], check=True,
        capture_output=True, env=env), compressed, uncompressed)
    theirs = timed("warcio check", lambda: subprocess.run(
        [str(BIN / "warcio"), "check", *map(str, paths)], check=True, capture_output=True),
        compressed, uncompressed)
    raw = timed("raw hashing (sha256sum, then SM3)", lambda: raw_hashing(paths), compressed, uncompressed)
    print(f"weidang verify is {theirs / ours:.1f}x faster than warcio check "
          f"({theirs / one:.1f}x on one core) and runs at {raw / ours:.2f}x the speed of raw hashing")
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
