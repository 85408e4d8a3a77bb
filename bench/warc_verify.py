"""Verify speed: `weidang verify` against its peers and the hashing floor, same files, one run.

Usage: python bench/warc_verify.py [--gigabytes 1.0] [--out DIR] [--keep] [--pairs N]
(`pip install -e '.[bench]'` brings FastWARC; without it its lines are skipped.)

Builds about that many bytes of response bodies as WARC files with the realistic mix
(bench/warc_mix.py), in a temporary folder removed at the end unless --keep, or in --out DIR,
where they stay and a later run with the same DIR uses them again. It reads them
once so every run finds them in the page cache, then times, one run each:

- `weidang verify` on all cores, and with --workers 1;
- `warcio check` on all the files (one process: block and payload digests);
- `fastwarc check -p` (block and payload digests) and `fastwarc check` (block digests only),
  one file after the other, as its command takes one file;
- the hashing floor: SHA-256 and SM3 of every byte, each file and hash a task, largest first,
  spread over the cores (`verify` must do at least this);
- `sha256sum`, then SM3, on one core, as a person would run them.

weidang's modules are compiled to bytecode first, as the peers' are where pip installed them.
Prints wall seconds, CPU seconds (user + system of the process and its children) and MB/s over
compressed and uncompressed bytes, then the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from warc_mix import exchanges  # noqa: E402

from warc_store import CaptureWriter, Collection, StoreConfig  # noqa: E402
from warc_store.digests import new_sm3  # noqa: E402
from warc_store.sm3 import implementation as sm3_implementation  # noqa: E402

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Give weidang's modules their bytecode before timing, as the peers have theirs (pip
    compiles an installed package): an editable install run with PYTHONDONTWRITEBYTECODE set
    (as CI and many containers do) would compile every module it loads at each start."""
    for package in ("weidang", "catalog", "harvesters", "warc_store"):
        compileall.compile_dir(ROOT / package, quiet=1)


def build(root: Path, gigabytes: float) -> Collection:
    if (root / "manifest.jsonl").exists():
        return Collection.open(root)
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


def _digest(path: str, algorithm: str) -> str:
    """``algorithm`` of the file; SM3 is the one weidang uses (libgcrypt's where it can)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, new_sm3 if algorithm == "sm3" else algorithm).hexdigest()


def sm3_speeds(path: str) -> str:
    """MB/s of weidang's SM3 and of OpenSSL's on one file read from the page cache."""
    size = os.path.getsize(path)
    speeds = []
    for make in (new_sm3, lambda: hashlib.new("sm3")):
        start = time.process_time()
        with open(path, "rb") as fh:
            hashlib.file_digest(fh, make)
        speeds.append(size / 1e6 / (time.process_time() - start))
    return (f"SM3 by {sm3_implementation()}: {speeds[0]:,.0f} MB/s on one core "
            f"(OpenSSL's SM3: {speeds[1]:,.0f} MB/s)")


def floor(paths: list[str]) -> None:
    """SHA-256 and SM3 of every byte, spread over the cores: the least a verify must do."""
    order = sorted(paths, key=os.path.getsize, reverse=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for fut in [pool.submit(_digest, p, a) for p in order for a in ("sm3", "sha256")]:
            fut.result()


def record_digest_seconds(path: str) -> float:
    """CPU seconds of what checking every record's two digests adds to the hashing floor at the
    least: inflating every gzip member (one C call each) and SHA-256 over the inflated bytes
    twice (a response's block digest covers its HTTP head and body, its payload digest the body
    again; the two cannot share a pass). Finding the members and reading the file are not
    counted: they come first, untimed."""
    from zlib_ng import zlib_ng

    from warc_store.scan import scan

    with open(path, "rb") as fh:
        spans = [(r.offset, r.length) for r in scan(fh, lambda _chunk: None)]
    data = memoryview(Path(path).read_bytes())
    start = time.process_time()
    for offset, length in spans:
        inflated = zlib_ng.decompress(data[offset:offset + length], zlib_ng.MAX_WBITS | 16)
        hashlib.sha256(inflated)
        hashlib.sha256(inflated)
    return time.process_time() - start


def one_core_hashing(paths: list[str]) -> None:
    subprocess.run(["sha256sum", *paths], check=True, capture_output=True)
    for p in paths:
        _digest(p, "sm3")


class Run:
    def __init__(self, label: str, wall: float, cpu: float) -> None:
        self.label, self.wall, self.cpu = label, wall, cpu


def timed(label: str, commands: list[list[str]], compressed: int, uncompressed: int,
          env: dict[str, str] | None = None, ok: Callable[[int], bool] = lambda rc: rc == 0) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for command in commands:
        done = subprocess.run(command, capture_output=True, env=env)
        if not ok(done.returncode):
            sys.exit(f"{label}: {' '.join(command[:3])} ... failed:\n{done.stdout.decode()[-2000:]}"
                     f"{done.stderr.decode()[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"{label:46s} {wall:7.2f} s wall {cpu:7.2f} s CPU  {compressed / 1e6 / wall:7.1f} MB/s "
          f"compressed  {uncompressed / 1e6 / wall:7.1f} MB/s uncompressed", flush=True)
    return Run(label, wall, cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--pairs", type=int, default=0,
                        help="then time verify and warcio check this many times more, in turns, "
                             "and print the median of their ratios (one run of each is noisy)")
    parser.add_argument("--floor", nargs="+", help=argparse.SUPPRESS)  # the floor, in a child
    args = parser.parse_args()
    if args.floor:
        floor(args.floor)
        return
    base = Path(args.out or tempfile.mkdtemp(prefix="weidang-bench-verify-"))
    start = time.perf_counter()
    collection = build(base / "c", args.gigabytes)
    paths = collection.closed_files()
    files = [str(p) for p in paths]
    compressed = sum(p.stat().st_size for p in paths)
    uncompressed = uncompressed_size(paths)  # also brings the files into the page cache
    print(f"{len(paths)} files, {compressed / 1e6:,.0f} MB compressed, {uncompressed / 1e6:,.0f} MB "
          f"uncompressed, ready in {time.perf_counter() - start:.0f} s; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(sm3_speeds(max(files, key=os.path.getsize)), flush=True)
    compile_sources()
    env = dict(os.environ, WEIDANG_HOME=str(base / "home"))
    weidang = [str(BIN / "weidang"), "verify"]
    n = len(files)
    ours = timed("weidang verify (all cores)", [[*weidang, str(collection.root)]], compressed,
                 uncompressed, env)
    one = timed("weidang verify --workers 1", [[*weidang, "--workers", "1", str(collection.root)]],
                compressed, uncompressed, env)
    warcio = timed("warcio check", [[str(BIN / "warcio"), "check", *files]], compressed, uncompressed)
    fastwarc = None
    if (BIN / "fastwarc").exists():
        fastwarc = timed(f"fastwarc check -p, {n} files one after the other",
                         [[str(BIN / "fastwarc"), "check", "-q", "-p", f] for f in files],
                         compressed, uncompressed)
        timed(f"fastwarc check (block digests), {n} files", [[str(BIN / "fastwarc"), "check", "-q", f]
                                                             for f in files], compressed, uncompressed)
    else:
        print("fastwarc: not installed (pip install -e '.[bench]'), skipped")
    low = timed("hashing floor: SHA-256 + SM3, all cores", [[sys.executable, __file__, "--floor", *files]],
                compressed, uncompressed)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        extra = sum(pool.map(record_digest_seconds, files))
    least = low.cpu + extra
    print(f"{'floor with the record digests (+ inflate, SHA-256 twice)':46s}         {least:7.2f} s CPU "
          f"(the hashing floor's {low.cpu:.2f} + {extra:.2f})", flush=True)
    timed("sha256sum, then SM3, one core", [[sys.executable, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]); import warc_verify; "
        "warc_verify.one_core_hashing(sys.argv[2:])"), str(Path(__file__).parent), *files]],
          compressed, uncompressed)
    print(f"weidang verify is {warcio.wall / ours.wall:.2f}x as fast as warcio check "
          f"({warcio.wall / one.wall:.2f}x on one core)"
          + (f", {fastwarc.wall / ours.wall:.2f}x as fast as fastwarc check -p" if fastwarc else ""))
    print(f"weidang verify takes {ours.wall / low.wall:.2f}x the wall time and {ours.cpu / low.cpu:.2f}x "
          f"the CPU time of the hashing floor ({ours.cpu:.2f} against {low.cpu:.2f} CPU seconds; "
          f"warcio check {warcio.cpu:.2f}" + (f", fastwarc check -p {fastwarc.cpu:.2f}" if fastwarc else "")
          + ")")
    print(f"the record digests alone put the least a verify can do at {least / low.cpu:.2f}x the "
          f"hashing floor's CPU; weidang verify takes {ours.cpu / least:.2f}x that")
    if args.pairs:
        alternate(args.pairs, [*weidang, str(collection.root)], [str(BIN / "warcio"), "check", *files],
                  compressed, uncompressed, env)
    if not args.keep and not args.out:
        shutil.rmtree(base)


def alternate(pairs: int, verify: list[str], warcio: list[str], compressed: int, uncompressed: int,
              env: dict[str, str]) -> None:
    """verify, then warcio check, ``pairs`` times: the ratio of each pair, and their median
    (a neighbour's load slows both of a pair alike, much less so two runs minutes apart)."""
    ratios = []
    for n in range(1, pairs + 1):
        ours = timed(f"pair {n}: weidang verify", [verify], compressed, uncompressed, env)
        theirs = timed(f"pair {n}: warcio check", [warcio], compressed, uncompressed)
        ratios.append(theirs.wall / ours.wall)
    ratios.sort()
    middle = len(ratios) // 2
    median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    print(f"over {pairs} pairs, weidang verify is {median:.2f}x as fast as warcio check (median; "
          f"from {ratios[0]:.2f}x to {ratios[-1]:.2f}x)")


if __name__ == "__main__":
    main()
