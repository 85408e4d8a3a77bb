"""The quick benchmarks run, on a few megabytes, and print their comparison with the peer.

A benchmark that no test runs breaks unseen: bench/transfer_bench.py did, when the transfer's
event sink gained its outcome argument, and was found broken only when someone next measured.
The numbers are not judged here (tests never time anything); only that each bench still runs
the real code and its peer to the end and prints the line that compares them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

CASES = {
    "transfer_bench.py": (["--megabytes", "3"], "verify / bagit: "),
    "warc_verify.py": (["--gigabytes", "0.02", "--pairs", "1"], "over 1 pairs, weidang verify is "),
    "warc_write.py": (["--records", "200"], "warcio WARCWriter"),
    "wacz_bench.py": (["--megabytes", "3"], "ratio (wacz create / weidang)"),
    "catalog_bench.py": (["--posts", "200", "--batch", "20"], "equal to the harvest's tables: True"),
    "harvest_bench.py": (["--posts", "100", "--runs", "1", "--index-records", "2000"],
                         ("records: ", "paired over 1 runs: recording costs ")),
    "record_lookup_bench.py": (["--records", "5000"], "faster than reading the index into memory"),
    "replay_index_bench.py": (["--records", "5000"], "outputs equal byte for byte"),
}


@pytest.mark.parametrize("bench", sorted(CASES))
def test_the_bench_runs_to_its_comparison(bench, tmp_path):
    args, expected = CASES[bench]
    done = subprocess.run([sys.executable, str(BENCH / bench), *args], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for line in (expected,) if isinstance(expected, str) else expected:
        assert line in done.stdout, done.stdout[-3000:]
