"""Transfer packages: `transfer create` and `transfer verify` against the `bagit` library's own
validation of the same package, in the same run.

Usage: python bench/transfer_bench.py [--megabytes 50] [--out DIR] [--keep]
Builds a collection of about that many payload bytes (the realistic mix of bench/warc_mix.py:
listing JSON, article pages, pictures, a few videos) in which every listing page carries one
post (with the pictures after it as its media and a post metadata record, as a harvest writes
them), rebuilds the catalog from it, keeps every post (档号 given), then times:

- create: ``catalog.transfer.create_package`` as `weidang transfer create` runs it (WACZ per
  account, metadata XML, register, bag with SHA-256 + SHA-512 + SM3, the package audit that
  re-reads every record, the form's HTML and PDF);
- verify: ``verify_package`` as `weidang transfer verify` runs it (bagit validation, SM3,
  every WACZ's hashes);
- the peer: ``bagit.Bag(...).validate()`` alone on the same package (SHA-256 and SHA-512).

Prints seconds and MB/s over the payload bytes, and verify's time as a multiple of bagit's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from warc_mix import exchanges  # noqa: E402

from catalog.appraisal import ArchiveCodes, Ask, appraise  # noqa: E402
from catalog.db import Database, open_catalog  # noqa: E402
from catalog.metadata import Evidence, post_metadata  # noqa: E402
from catalog.rebuild import rebuild  # noqa: E402
from catalog.schema import posts  # noqa: E402
from catalog.transfer.create import TransferAsk, create_package  # noqa: E402
from catalog.transfer.verify import verify_package  # noqa: E402
from harvesters.records import Media, Post  # noqa: E402
from warc_store import CaptureWriter, Collection, StoreConfig  # noqa: E402
from weidang.transferring import form_renderer, package_auditor  # noqa: E402

ACCOUNTS = ("1669879400", "2803301701")


def build(root: Path, megabytes: float) -> tuple[Collection, Database]:
    collection = Collection.create(root / "collections" / "default")
    target, written, n = megabytes * 1e6, 0, 0
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    pending: list[tuple[Post, list[Evidence]]] = []
    with CaptureWriter(collection, StoreConfig(max_size=128 * 1024**2)) as writer:
        for req, resp, kind in exchanges(10**9):
            done = writer.write_exchange(req, resp, dedup=True)
            written += len(resp.body)
            if kind in ("json", "html"):
                _flush(writer, pending)
                n += 1
                account = ACCOUNTS[n % 2]
                post_id = str(4900000000000000 + n)
                post = Post("weibo", account, post_id, account_name=f"政务账号{account[-2:]}",
                            url=f"https://m.weibo.cn/detail/{post_id}",
                            published_at=when + dt.timedelta(hours=n), text=f"第 {n} 条通知：疫情防控",
                            captured_at=when + dt.timedelta(days=300))
                pending.append((post, [Evidence(done.response_id, done.url, "listing", done.payload_digest)]))
            elif pending:
                post, evidence = pending[-1]
                post.media.append(Media("picture" if kind == "picture" else "video", done.url, id=done.url))
                evidence.append(Evidence(done.response_id, done.url, "media", done.payload_digest,
                                         done.revisit_of))
            if written >= target:
                break
        _flush(writer, pending)
    db = open_catalog(root / "catalog.sqlite")
    rebuild(db, collection)
    return collection, db


def _flush(writer: CaptureWriter, pending: list[tuple[Post, list[Evidence]]]) -> None:
    for post, evidence in pending:
        uri, body, ctype = post_metadata(post, 1, "new", "bench-run", evidence)
        writer.write_metadata(uri, body, ctype, refers_to=[e.record_id for e in evidence])
    pending.clear()


def timed(run):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="transfer-bench-"))
    try:
        collection, db = build(out / "home", args.megabytes)

        def appraisal_sink(_collection: str, detail: dict) -> tuple[int, str]:  # type: ignore[type-arg]
            entry = collection.record_event("appraisal", "success", detail)
            return int(entry["seq"]), str(entry["hash"])

        def transfer_sink(_collection: str, outcome: str, detail: dict) -> tuple[int, str]:  # type: ignore[type-arg]
            entry = collection.record_event("transfer", outcome, detail)
            return int(entry["seq"]), str(entry["hash"])

        with db.read() as conn:
            keys = [(str(p), str(i)) for p, i in conn.execute(posts.select().with_only_columns(
                posts.c.platform, posts.c.post_id))]
        appraise(db, keys, Ask(True, "永久", "bench"), ArchiveCodes("0194", "XM", "BGS"), appraisal_sink,
                 lambda: dt.datetime.now(dt.UTC))
        warc_bytes = sum(p.stat().st_size for p in collection.closed_files())
        print(f"{len(keys)} kept posts; {len(collection.closed_files())} WARC files, "
              f"{warc_bytes / 1e6:.0f} MB")
        now = dt.datetime.now(dt.UTC)
        ask = TransferAsk(out / "package", "bench", "bench", "bench-transfer", now)
        create_s, made = timed(lambda: create_package(
            db, keys, ask, lambda name: collection if name == "default" else None, transfer_sink,
            package_auditor(None), form_renderer("")))
        size = made.payload_bytes / 1e6
        print(f"transfer create: {create_s:.1f} s ({size / create_s:.0f} MB/s over {size:.0f} MB of "
              f"payload; audit {'passed' if made.audit_ok else 'FAILED'})")
        verify_s, check = timed(lambda: verify_package(out / "package"))
        assert check.ok, check.problems
        import bagit

        bagit_s, _ = timed(lambda: bagit.Bag(str(out / "package")).validate())
        print(f"transfer verify: {verify_s:.1f} s ({size / verify_s:.0f} MB/s; bagit validation, "
              "SM3, WACZ hashes)")
        print(f"bagit validate:  {bagit_s:.1f} s ({size / bagit_s:.0f} MB/s; SHA-256 and SHA-512 only)")
        print(f"verify / bagit: {verify_s / bagit_s:.2f}x; create / bagit: {create_s / bagit_s:.2f}x")
        db.close()
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
