"""Independent readers accept weidang's WACZ: py-wacz validates it, cdxj-indexer writes the same
index from the WARC files, and pywb replays a post and a revisit from it with its own index.

The collection comes from real harvests (weidang subprocesses against the emulator), so the WARC
files hold exactly what weidang writes: warcinfo, request, response, revisit and metadata records.
The readers run from venvs of their own (tests/reader_venvs.py), built once and cached.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from crawler_helpers import Archive, emulator_site
from reader_venvs import PYWB, WACZ, reader_venv

from warc_store import (
    CaptureWriter,
    Collection,
    ExchangeRecords,
    HttpRequest,
    HttpResponse,
    IndexEntry,
    read_record,
)
from warc_store.replay_index import replay_lines
from warc_store.wacz import Page, WaczWritten, write_collection_wacz

pytestmark = pytest.mark.slow

ACCOUNT = "weibo:7000000001"
site = emulator_site(posts=8)


@dataclass
class Package:
    collection: Collection
    made: WaczWritten
    posts: list[IndexEntry]
    revisits: list[ExchangeRecords]  # of a picture: under another URL, then under its own


@pytest.fixture(scope="module")
def package(site: Any, tmp_path_factory: Any) -> Package:
    """Two harvests of one account (the second finds every post unchanged), then one picture
    captured again days later under another CDN host and under its own URL (the writer's
    revisits, as a later harvest stores them), packed into a WACZ whose pages are the posts'
    long-text responses."""
    archive = Archive(tmp_path_factory.mktemp("home") / "home", site)
    archive.add(ACCOUNT)
    for _ in range(2):
        summary, done = archive.harvest(ACCOUNT)
        assert summary["outcome"] == "ok", done.stdout + done.stderr
    collection = archive.collection()
    picture = next(e for e in collection.index
                   if e.record_type == "response" and (e.mime or "").startswith("image/"))
    stored = read_record(collection, picture.record_id)
    later = datetime.now(UTC) + timedelta(days=2)
    other_host = urlsplit(picture.url)._replace(netloc="wx9.sinaimg.cn").geturl()
    with CaptureWriter(collection) as writer:
        revisits = [writer.write_exchange(HttpRequest("GET", url),
                                          HttpResponse(200, "OK", stored.http_headers, stored.payload),
                                          dedup=True, when=later + timedelta(minutes=n))
                    for n, url in enumerate([other_host, picture.url])]
    assert all(r.revisit_of == picture.record_id for r in revisits)
    posts = [e for e in collection.index
             if e.record_type == "response" and "/statuses/extend?id=" in e.url]
    assert posts
    pages = [Page(e.url, e.timestamp, f"微博 {e.url.rsplit('=', 1)[-1]}", text="南湖镇人民政府办公室")
             for e in posts[:3]]
    names = [p.name for p in collection.closed_files()]
    made = write_collection_wacz(collection, names, tmp_path_factory.mktemp("wacz") / "account.wacz", pages,
                                 title="测试账号 weibo:7000000001")
    return Package(collection, made, posts, revisits)


def test_wacz_validate_accepts_the_package_and_rejects_a_changed_copy(package, tmp_path):
    made = package.made
    wacz = reader_venv(WACZ) / "wacz"
    demo = write_collection_wacz(package.collection, [p.name for p in package.collection.closed_files()],
                                 tmp_path / "demo.wacz", [], title="演示", demo=True)
    for path in (made.path, demo.path):  # with pages and their text; marked as demo data
        ok = subprocess.run([str(wacz), "validate", "-f", str(path)], capture_output=True, text=True)
        assert ok.returncode == 0 and "Validation succeeded" in ok.stdout, ok.stdout + ok.stderr
    # the same package with one index line dropped: its hash no longer matches datapackage.json
    changed = tmp_path / "changed.wacz"
    with zipfile.ZipFile(made.path) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data.split(b"\n", 1)[1] if info.filename == "indexes/index.cdx" else data)
    bad = subprocess.run([str(wacz), "validate", "-f", str(changed)], capture_output=True, text=True)
    assert bad.returncode == 1 and "index.cdx" in bad.stdout and "hash" in bad.stdout.lower(), \
        bad.stdout + bad.stderr


def test_replay_index_is_byte_for_byte_what_cdxj_indexer_writes(package, tmp_path):
    """The order pywb and py-wacz sort by, the lines they choose, the fields they write."""
    collection, made = package.collection, package.made
    indexer = reader_venv(WACZ) / "cdxj-indexer"
    out = tmp_path / "theirs.cdxj"
    subprocess.run([str(indexer), "--sort", "-o", str(out), *map(str, collection.closed_files())],
                   check=True, capture_output=True)
    with zipfile.ZipFile(made.path) as zf:
        ours = zf.read("indexes/index.cdx")
    theirs = out.read_bytes()
    assert ours == theirs
    kinds = {json.loads(line.split(b" ", 2)[2])["mime"] for line in ours.splitlines()}
    assert {"warc/revisit", "application/vnd.weidang.post+json", "application/json"} <= kinds
    assert ours == b"".join(replay_lines(collection.index))


def test_replay_index_lists_the_records_pywb_indexes_in_its_order(package, tmp_path):
    """pywb's own indexer on the same files: the same records in the same order (it leaves a
    revisit's status out; cdxj-indexer, above, keeps it, and so does weidang)."""
    collection = package.collection
    out = tmp_path / "pywb.cdxj"
    subprocess.run([str(reader_venv(PYWB) / "cdx-indexer"), "--sort", "--cdxj", "-o", str(out),
                    *map(str, collection.closed_files())], check=True, capture_output=True)

    def records(lines: list[bytes]) -> list[tuple[bytes, bytes, str, str, str]]:
        rows = []
        for line in lines:
            key, ts, raw = line.split(b" ", 2)
            fields = json.loads(raw)
            rows.append((key, ts, fields["url"], fields["filename"], fields["offset"]))
        return rows

    assert records(replay_lines(collection.index)) == records(out.read_bytes().splitlines())


@pytest.fixture(scope="module")
def pywb(package, tmp_path_factory) -> Any:
    """pywb serving a collection made from the WACZ by ``wb-manager add --unpack-wacz``, which
    takes the WACZ's own index (renaming the WARC files) instead of indexing again."""
    bin_dir = reader_venv(PYWB)
    root = tmp_path_factory.mktemp("pywb")
    made = package.made
    for args in (["init", "pkg"], ["add", "--unpack-wacz", "pkg", str(made.path)]):
        done = subprocess.run([str(bin_dir / "wb-manager"), *args], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(root / "wayback.log", "w")
    server = subprocess.Popen([str(bin_dir / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/pkg/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base, timeout=5)
                break
            except urllib.error.HTTPError:
                break  # answering
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.1)
        assert server.poll() is None, (root / "wayback.log").read_text()
        yield base, root
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def body_of(collection: Collection, record_id: str) -> bytes:
    """A response's body as a browser gets it: pywb undoes the Content-Encoding on replay."""
    record = read_record(collection, record_id)
    coding = next((v for k, v in record.http_headers if k.lower() == "content-encoding"), "")
    return gzip.decompress(record.payload) if coding.strip().lower() == "gzip" else record.payload


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # a revisit pywb cannot resolve hangs
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_pywb_uses_the_package_index_as_it_is(package, pywb):
    made = package.made
    _, root = pywb
    with zipfile.ZipFile(made.path) as zf:
        ours = zf.read("indexes/index.cdx").splitlines()
    kept = (root / "collections/pkg/indexes/index.cdxj").read_bytes().splitlines()
    assert len(kept) == len(ours)
    assert [line.split(b" ", 2)[:2] for line in kept] == [line.split(b" ", 2)[:2] for line in ours]
    assert len(list((root / "collections/pkg/archive").glob("*.warc.gz"))) == len(made.files) - 4


def test_pywb_replays_a_post_from_the_package(package, pywb):
    collection, posts = package.collection, package.posts
    base, _ = pywb
    post = posts[0]
    status, body = fetch(f"{base}{post.timestamp}id_/{post.url}")
    assert status == 200
    assert body == body_of(collection, post.record_id)


@pytest.mark.parametrize("which", ["under another URL", "under its own URL"])
def test_pywb_replays_a_revisit_through_its_original(package, pywb, which):
    collection = package.collection
    base, _ = pywb
    written = package.revisits[0 if which == "under another URL" else 1]
    revisit = collection.index.by_record_id(written.response_id)
    original = collection.index.by_record_id(written.revisit_of or "")
    assert revisit is not None and revisit.record_type == "revisit" and original is not None
    status, body = fetch(f"{base}{revisit.timestamp}id_/{revisit.url}")
    assert status == 200
    assert body == body_of(collection, original.record_id) and body


def test_pywb_serves_the_post_record_itself(package, pywb):
    collection = package.collection
    base, _ = pywb
    record = next(e for e in collection.index if e.url.startswith("urn:weidang:post:"))
    status, body = fetch(f"{base}{record.timestamp}id_/{record.url}")
    assert status == 200 and body == read_record(collection, record.record_id).payload
    assert json.loads(body)

