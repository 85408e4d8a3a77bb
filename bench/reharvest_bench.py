"""Re-harvest bytes: what a second harvest that finds nothing new stores, against the first one.

Usage: python bench/reharvest_bench.py [--posts 500]
One generated account of each platform (Weibo mobile, WeChat backend) in the emulator, each
harvested twice through the `weidang` command (default settings: media on, re-checks of the last
7 days, incremental second run). Prints the WARC bytes each harvest added, the second as a share
of the first (the peer), and the records of the second harvest by type.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from crawler_helpers import WEIDANG, Archive, start_emulator, wechat_account  # noqa: E402

BIZ = "MzkwMDAwMDAwMQ=="


class _Archive(Archive):
    """The tests' archive, with time for a large account's harvest."""

    def weidang(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        sets = [x for s in [f"CRAWLER_PROXY={self.client.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
                            *self.settings] for x in ("--set", s)]
        done = subprocess.run([*WEIDANG, *sets, *args], env=self.env, capture_output=True,
                              text=True, timeout=3600, cwd=ROOT)
        assert not check or done.returncode == 0, done.stdout + done.stderr
        return done


def _bytes(archive: Archive) -> int:
    return sum(p.stat().st_size for p in archive.warc_files())


def _twice(archive: Archive, key: str) -> tuple[int, int, Counter[str]]:
    first, _ = archive.harvest(key)
    assert first["outcome"] == "ok", first
    before_ids = {r.record_id for r in archive.records()}
    first_bytes = _bytes(archive)
    second, _ = archive.harvest(key)
    assert second["outcome"] == "ok" and second["posts_new"] == 0, second
    added = [r for r in archive.records() if r.record_id not in before_ids]
    kinds = Counter(r.record_type for r in added)
    asked = Counter(urlsplit(r.uri).path for r in added if r.record_type == "request")
    return first_bytes, _bytes(archive) - first_bytes, kinds, asked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="weidang-bench-reharvest-"))
    site = start_emulator(base / "emu", accounts=1, posts=args.posts)
    try:
        for platform in ("weibo", "wechat"):
            archive = _Archive(base / platform, site)
            if platform == "wechat":
                account = wechat_account(site, BIZ)
                key = f"wechat:{BIZ}"
                archive.add(key, source="backend",
                            credentials={"cookie": account["cookie"], "token": account["token"]})
            else:
                key = "weibo:7000000001"
                archive.add(key)
            first, second, kinds, asked = _twice(archive, key)
            print(f"{platform:6s}: first harvest {first / 1e6:.2f} MB, second {second / 1e6:.3f} MB "
                  f"= {second / first:.1%} of the first; second harvest's records: {dict(kinds)}; "
                  f"what it asked for: {dict(asked.most_common(6))}")
    finally:
        site.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"({datetime.now(UTC):%Y-%m-%d}, {args.posts} posts per account, emulator, politeness off)")


if __name__ == "__main__":
    main()
