"""bench/search_bench.py runs on both embedded indexes (a small corpus; with rg when it is
installed): a benchmark that no test runs breaks unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "search_bench.py"


def test_the_search_bench_measures_both_indexes_and_their_counts_agree(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--posts", "1500", "--runs", "1",
                           "--dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "tantivy index build" in out and "sqlite index build" in out
    assert out.count("counts (exact count = rg, page total consistent): all equal") == 2
    assert "MISMATCH" not in out
    again = subprocess.run([sys.executable, str(BENCH), "--posts", "1500", "--runs", "1",
                            "--dir", str(tmp_path), "--reuse", "--backend", "tantivy"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "tantivy index and dump reused" in again.stdout


def test_the_engine_bound_builds_the_same_index_with_tokens_made_first(tmp_path):
    """--tokens-first only moves the tokens out of the timed build: the index answers alike."""
    done = subprocess.run([sys.executable, str(BENCH), "--posts", "1500", "--runs", "1",
                           "--dir", str(tmp_path), "--backend", "tantivy", "--tokens-first"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tantivy index build (rebuild, tokens made first)" in done.stdout
    assert "counts (exact count = rg, page total consistent): all equal" in done.stdout
