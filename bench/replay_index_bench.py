"""Deriving the sorted replay index of a whole collection (the web server's first use, pywb's
index): sorted in runs on disk (``replay_index.sorted_lines``) against sorting every line in
memory (what the server did before) and GNU sort over the same lines.

Usage: python bench/replay_index_bench.py [--records 1000000] [--dir DIR]
Each derivation runs in a fresh process: its wall time, CPU time and peak memory (RSS). The
index is shaped like a harvest's: request, response, revisit and metadata records in the order
they were written, addresses in no particular order, a new second every five records.
GNU sort (LC_ALL=C, byte order, as pywb sorts) gets the unsorted replay lines in a file and the
same 32 MiB of memory as one sorted run takes here; both outputs must be equal byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_lookup_bench import write_index  # noqa: E402

from warc_store.cdxj import CdxjIndex  # noqa: E402
from warc_store.replay_index import replay_line  # noqa: E402

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from warc_store.cdxj import CdxjIndex
from warc_store.lines import replace_whole
from warc_store.replay_index import replay_lines, write_replay_index
index, out, mode = CdxjIndex(Path(sys.argv[2])), Path(sys.argv[3]), sys.argv[4]
start, cpu = time.perf_counter(), time.process_time()
if mode == "memory":  # what the web server did before: every line sorted in memory
    replace_whole(out, replay_lines(index))
else:
    write_replay_index(index, out)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(index: Path, out: Path, mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(index), str(out), mode],
                          capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


SORT = """
import json, os, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(["sort", "-S", "32M", "-T", sys.argv[2], "-o", sys.argv[2] + "/sort.cdxj", sys.argv[1]],
               env=dict(os.environ, LC_ALL="C"), check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024}))
"""


def gnu_sort(lines: Path, out: Path) -> dict[str, float] | None:
    """GNU sort over the unsorted replay lines (its own usage, read by a parent of its own)."""
    if shutil.which("sort") is None:
        return None
    done = subprocess.run([sys.executable, "-c", SORT, str(lines), str(out.parent)],
                          capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def show(name: str, m: dict[str, float]) -> None:
    print(f"{name:38s} {m['wall']:7.2f} s wall  {m['cpu']:7.2f} s CPU  peak RSS {m['rss_mb']:7,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="weidang-bench-replay-"))
    work.mkdir(parents=True, exist_ok=True)
    index = work / "index.cdxj"
    try:
        write_index(index, args.records)
        unsorted = work / "unsorted.cdxj"
        with unsorted.open("wb") as fh:
            fh.writelines(line for line in map(replay_line, CdxjIndex(index)) if line is not None)
        print(f"index: {args.records:,} records, {index.stat().st_size / 2**20:,.0f} MiB; "
              f"replay index {unsorted.stat().st_size / 2**20:,.0f} MiB")
        memory = child(index, work / "memory.cdxj", "memory")
        runs = child(index, work / "runs.cdxj", "runs")
        show("every line sorted in memory (before)", memory)
        show("sorted in runs on disk (now)", runs)
        peer = gnu_sort(unsorted, work / "sort.cdxj")
        if peer is not None:
            show("GNU sort, the lines already made", peer)
            assert filecmp.cmp(work / "sort.cdxj", work / "runs.cdxj", shallow=False)
        assert filecmp.cmp(work / "memory.cdxj", work / "runs.cdxj", shallow=False)
        print(f"sorted in runs: {memory['rss_mb'] / runs['rss_mb']:.1f}x less memory than in memory, "
              f"{runs['wall'] / memory['wall']:.2f}x its time"
              + (f"; {runs['wall'] / peer['wall']:.1f}x GNU sort's time, which does not make "
                 "the lines" if peer else "") + "; outputs equal byte for byte")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
