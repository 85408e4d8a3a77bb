"""Write speed: weidang's capture writer against warcio's own WARCWriter, same records.

Usage: python bench/warc_write.py [--records 10000] [--out DIR]
Prints records/s and MB/s (uncompressed input) for weidang at zlib levels 6 and 9 and for
warcio's WARCWriter (always level 9, SHA-1 digests), plus the size each produced.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).parent))
from warc_mix import exchanges  # noqa: E402

from warc_store import CaptureWriter, Collection, StoreConfig  # noqa: E402


def run_weidang(items, out: Path, level: int) -> tuple[float, int]:
    collection = Collection.create(out)
    start = time.perf_counter()
    with CaptureWriter(collection, StoreConfig(compress_level=level)) as writer:
        for req, resp, kind in items:
            writer.write_exchange(req, resp, dedup=kind in ("picture", "video"))
    elapsed = time.perf_counter() - start  # includes closing: SHA-256 + SM3 of every file
    return elapsed, sum(p.stat().st_size for p in collection.closed_files())


def run_warcio(items, out: Path) -> tuple[float, int]:
    out.mkdir(parents=True)
    path = out / "warcio.warc.gz"
    start = time.perf_counter()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for req, resp, _kind in items:
            http = StatusAndHeaders(f"{resp.status} {resp.reason}", list(resp.headers), protocol="HTTP/1.1")
            record = writer.create_warc_record(req.url, "response", payload=io.BytesIO(resp.body),
                                               length=len(resp.body), http_headers=http)
            rq = StatusAndHeaders(f"GET {req.url} HTTP/1.1", list(req.headers), is_http_request=True)
            request = writer.create_warc_record(req.url, "request", http_headers=rq)
            writer.write_request_response_pair(request, record)
    return time.perf_counter() - start, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    items = list(exchanges(args.records))
    raw = sum(len(r.body) for _, r, _ in items)
    print(f"{args.records} exchanges, {raw / 1e6:,.0f} MB of payload "
          f"({sum(len(r.body) for _, r, k in items if k in ('picture', 'video')) / raw:.0%} pictures+video)")
    base = Path(args.out or tempfile.mkdtemp(prefix="weidang-bench-write-"))
    for label, fn in (("weidang level 6", lambda: run_weidang(items, base / "l6", 6)),
                      ("weidang level 9", lambda: run_weidang(items, base / "l9", 9)),
                      ("warcio WARCWriter (level 9)", lambda: run_warcio(items, base / "warcio"))):
        elapsed, size = fn()
        print(f"{label:30s} {args.records / elapsed:8,.0f} exchanges/s  {raw / 1e6 / elapsed:7,.1f} MB/s  "
              f"{size / 1e6:8,.1f} MB on disk  ({elapsed:.1f} s)")
    if args.out is None:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
