"""Writing: WARC/1.1, SHA-256 digests, gzip members, naming, rollover, manifest, index, revisits."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store_helpers import StepClock, build_collection, json_exchange, members, picture_exchange
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import BufferWARCWriter

from warc_store import CaptureWriter, Collection, StoreConfig, read_record
from warc_store.digests import HexDigester, hash_file
from warc_store.writer import REVISIT_PROFILE, RecordWriter

WARCIO = str(Path(sys.executable).with_name("warcio"))


def test_sm3_standard_vector():
    # GB/T 32905-2016, example 1
    assert hashlib.new("sm3", b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


def test_records_carry_sha256_hex_digests_and_pass_warcio_check(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=6)
    [path] = collection.closed_files()
    with open(path, "rb") as fh:
        records = list(ArchiveIterator(fh))
    assert records[0].rec_type == "warcinfo"
    for record in ArchiveIterator(open(path, "rb")):
        h = record.rec_headers
        assert h.protocol == "WARC/1.1"
        block = h.get_header("WARC-Block-Digest")
        assert block.startswith("sha256:") and len(block) == 7 + 64 and block[7:] == block[7:].lower()
        if record.rec_type == "response":
            payload = h.get_header("WARC-Payload-Digest")
            body = record.content_stream().read()
            assert payload == "sha256:" + hashlib.sha256(body).hexdigest()
    check = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout


def test_one_gzip_member_per_record_matching_the_index(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=4)
    [path] = collection.closed_files()
    offsets = [start for start, _ in members(path)]
    indexed = sorted(e.offset for e in collection.index if e.filename == path.name)
    assert offsets == indexed
    assert len(offsets) == 1 + 4 * 2  # warcinfo, then response + request per exchange
    for entry in collection.index:
        with open(collection.warcs / entry.filename, "rb") as fh:
            fh.seek(entry.offset)
            one = gzip.decompress(fh.read(entry.length))
        assert one.startswith(b"WARC/1.1\r\n") and one.count(b"WARC/1.1\r\n") == 1


def test_warcinfo_describes_the_file(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=1, info={"weidang-harvest-id": "h-42"})
    [path] = collection.closed_files()
    info = next(iter(ArchiveIterator(open(path, "rb"))))
    fields = dict(line.split(": ", 1) for line in info.content_stream().read().decode().splitlines())
    assert fields["format"] == "WARC File Format 1.1"
    assert "warc-1.1" in fields["conformsTo"]
    assert fields["software"].startswith("weidang/")
    assert "sha256" in fields["weidang-record-digest"] and "sm3" in fields["weidang-file-fixity"]
    assert fields["isPartOf"] == "c" and fields["weidang-harvest-id"] == "h-42" and fields["hostname"]
    assert info.rec_headers.get_header("WARC-Filename") == path.name


def test_file_is_open_while_written_then_renamed_with_fixity_in_manifest(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    writer = CaptureWriter(collection)
    writer.write_exchange(*json_exchange(1))
    open_path = writer.current_path
    assert open_path is not None and open_path.name.endswith(".warc.gz.open") and open_path.exists()
    assert collection.closed_files() == [] and collection.manifest.entries() == []
    writer.close()
    [closed] = collection.closed_files()
    assert closed.name == open_path.name.removesuffix(".open") and not open_path.exists()
    name = closed.name
    prefix, stamp, serial, *_rest = name.removesuffix(".warc.gz").split("-")
    assert prefix == "weidang" and len(stamp) == 20 and serial == "00001"
    assert name.endswith(f"-{__import__('os').getpid()}.warc.gz")
    [entry] = collection.manifest.entries()
    data = closed.read_bytes()
    assert entry.file == name and entry.size == len(data) and entry.records == 3
    assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.sm3 == hashlib.new("sm3", data).hexdigest()
    events = collection.events.entries()
    assert events[-1]["type"] == "message digest calculation" and events[-1]["detail"]["sm3"] == entry.sm3


def test_rollover_by_size_and_by_age(tmp_path):
    by_size = build_collection(tmp_path / "size", exchanges=10, config=StoreConfig(max_size=30_000))
    files = by_size.closed_files()
    assert len(files) >= 3
    assert all(f.stat().st_size < 30_000 + 25_000 for f in files)  # at most one record over
    assert {e.file for e in by_size.manifest.entries()} == {f.name for f in files}
    clock = StepClock(step=timedelta(minutes=20))
    by_age = build_collection(tmp_path / "age", exchanges=6, clock=clock,
                              config=StoreConfig(max_age_seconds=3600))
    assert len(by_age.closed_files()) >= 2
    serials = [f.name.split("-")[2] for f in by_age.closed_files()]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)


def test_compression_level_is_a_setting(tmp_path):
    fast = build_collection(tmp_path / "l1", exchanges=8, config=StoreConfig(compress_level=1))
    best = build_collection(tmp_path / "l9", exchanges=8, config=StoreConfig(compress_level=9))
    stored = build_collection(tmp_path / "l0", exchanges=8, config=StoreConfig(compress_level=0))
    size = lambda c: sum(f.stat().st_size for f in c.closed_files())  # noqa: E731
    assert size(stored) > size(fast) >= size(best)


def test_revisit_for_a_payload_already_stored(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    req, resp = picture_exchange(1)
    with CaptureWriter(collection) as w:
        first = w.write_exchange(req, resp, dedup=True)
        again = w.write_exchange(type(req)("GET", "https://wx3.sinaimg.cn/large/same.jpg"), resp, dedup=True)
        forced = w.write_exchange(req, resp, dedup=False)
    assert first.revisit_of is None and forced.revisit_of is None
    assert again.revisit_of == first.response_id
    stored = read_record(collection, again.response_id)
    assert stored.record_type == "revisit"
    assert stored.header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
    assert stored.header("WARC-Refers-To") == first.response_id
    assert stored.header("WARC-Refers-To-Target-URI") == req.url
    original = read_record(collection, first.response_id)
    assert stored.header("WARC-Refers-To-Date") == original.date
    assert stored.header("WARC-Payload-Digest") == first.payload_digest
    assert stored.payload == b"" and original.payload == resp.body
    [path] = collection.closed_files()
    check = subprocess.run([WARCIO, "check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_index_finds_every_record_without_a_scan(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=5)
    lines = (collection.root / "index.cdxj").read_text().splitlines()
    key, stamp, raw = lines[1].split(" ", 2)
    data = json.loads(raw)
    assert key.startswith("cn,weibo,m)/api/container/getindex?")
    assert len(stamp) == 14 and stamp.isdigit()
    assert {"url", "digest", "mime", "status", "filename", "offset", "length", "record_id"} <= set(data)
    assert data["status"] == 200 and data["mime"] == "application/json"
    for entry in collection.index:
        record = read_record(collection, entry.record_id)
        assert record.record_id == entry.record_id and record.offset == entry.offset
    fresh = Collection.open(collection.root)  # another process's view
    some = list(collection.index)[3]
    assert fresh.index.by_record_id(some.record_id) == some
    assert fresh.index.by_url(some.url)


def test_several_processes_write_one_collection(tmp_path):
    root = tmp_path / "c"
    Collection.create(root)
    script = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "from store_helpers import json_exchange\n"
        "from warc_store import Collection, CaptureWriter\n"
        f"c = Collection.open(Path({str(root)!r}))\n"
        "with CaptureWriter(c) as w:\n"
        "    for n in range(40): w.write_exchange(*json_exchange(n))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0, 0]  # generous: the machine may be busy
    collection = Collection.open(root)
    files = collection.closed_files()
    assert len(files) == 3 and len({f.name.rsplit("-", 1)[1] for f in files}) == 3  # one per pid
    assert len(collection.manifest.entries()) == 3
    entries = list(collection.index)
    assert len(entries) == 3 * (1 + 40 * 2)
    assert len({e.record_id for e in entries}) == len(entries)
    assert collection.events.check() == []
    for f in files:
        assert hash_file(f).sha256 == {e.file: e for e in collection.manifest.entries()}[f.name].sha256


class _StockWriter(BufferWARCWriter):
    """warcio's own writer, told only to use SHA-256 in hex as weidang does."""

    @staticmethod
    def _create_digester():
        return HexDigester()


def _plain(out: io.BytesIO) -> bytes:
    return gzip.decompress(out.getvalue())


def test_every_record_kind_is_byte_for_byte_what_warcio_writes(tmp_path):
    """Our writer builds its records through warcio and may hand it what it knows already (the
    digests, the header bytes): the bytes must stay exactly those warcio's own writer makes."""
    when = datetime(2026, 12, 4, 8, 30, 1, 123456, tzinfo=UTC)
    date, rid = "2026-12-04T08:30:01.123456Z", "<urn:uuid:0b5c1f64-0000-4000-8000-000000000001>"
    url = "https://m.weibo.cn/api/container/getIndex?containerid=107603&page=2"
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Set-Cookie", "a=REDACTED"),
               ("Set-Cookie", "b=2"), ("Content-Length", "27")]
    body = '{"ok":1,"text":"关于档案"}'.encode()
    extra = {"WARC-Record-ID": rid, "WARC-Weidang-Redaction": "header:Set-Cookie",
             "WARC-Concurrent-To": "<urn:uuid:x>"}
    marks = {"WARC-Weidang-Demo": "demo"}
    base = {"WARC-Record-ID": rid, "WARC-Date": date}
    ours = RecordWriter(io.BytesIO(), marks=marks)
    stock = _StockWriter(gzip=False, warc_version="WARC/1.1")

    def same(record, *stock_args, http=None, **stock_kwargs):
        out = io.BytesIO()
        RecordWriter(out).write(record)
        mine = _plain(out)
        stock.out = io.BytesIO()
        uri, kind = stock_args
        stock_kwargs["warc_headers_dict"] = {"WARC-Type": kind, **stock_kwargs["warc_headers_dict"]}
        stock.write_record(stock.create_warc_record(uri, kind, http_headers=http, **stock_kwargs))
        assert mine == stock.out.getvalue()

    warc = {**base, "WARC-Target-URI": url, "WARC-Weidang-Redaction": "header:Set-Cookie",
            "WARC-Concurrent-To": "<urn:uuid:x>", **marks}
    same(ours.response(url, 200, "OK", headers, body, when, extra),
         url, "response", payload=io.BytesIO(body), length=len(body), warc_headers_dict=warc,
         http=StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1"))
    req_headers = [("Host", "m.weibo.cn"), ("Accept", "application/json")]
    same(ours.request(url, "GET", req_headers, b"", when, extra),
         url, "request", payload=io.BytesIO(b""), length=0, warc_headers_dict=warc,
         http=StatusAndHeaders("GET /api/container/getIndex?containerid=107603&page=2 HTTP/1.1",
                               list(req_headers), is_http_request=True))
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    refers = {"record_id": "<urn:uuid:y>", "url": url, "date": date}
    revisit_warc = {**base, "WARC-Target-URI": url, "WARC-Profile": REVISIT_PROFILE,
                    "WARC-Refers-To": "<urn:uuid:y>", "WARC-Refers-To-Target-URI": url,
                    "WARC-Refers-To-Date": date, "WARC-Payload-Digest": digest, **marks}
    same(ours.revisit(url, 200, "OK", headers, digest, refers, when, {"WARC-Record-ID": rid}),
         url, "revisit", warc_headers_dict=revisit_warc,
         http=StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1"))
    meta_warc = {**base, "WARC-Target-URI": "urn:weidang:post:1", "WARC-Refers-To": "<urn:uuid:y>",
                 **marks}
    same(ours.metadata("urn:weidang:post:1", body, "application/json", when,
                       {"WARC-Record-ID": rid, "WARC-Refers-To": "<urn:uuid:y>"}),
         "urn:weidang:post:1", "metadata", payload=io.BytesIO(body), length=len(body),
         warc_content_type="application/json", warc_headers_dict=meta_warc)
    same(ours.resource(url, body, "image/png", when, {"WARC-Record-ID": rid}),
         url, "resource", payload=io.BytesIO(body), length=len(body), warc_content_type="image/png",
         warc_headers_dict={**base, "WARC-Target-URI": url, **marks})


def test_an_answer_the_server_compressed_goes_into_a_stored_member(tmp_path):
    """Deflate cannot shrink a gzip-encoded body: it is stored, as JPEG is, and reads back the
    same; a plain answer of the same text is still compressed, and so is a revisit of either
    (its headers alone)."""
    collection = Collection.create(tmp_path / "c", StepClock())
    text = json.dumps({"cards": [{"text": f"关于做好档案工作的通知 {i}"} for i in range(200)]},
                      ensure_ascii=False).encode()
    req, resp = json_exchange(1)
    body = gzip.compress(text, mtime=0)
    encoded = dataclasses.replace(resp, body=body, headers=[*resp.headers, ("Content-Encoding", "gzip")])
    plain = dataclasses.replace(resp, body=text)
    with CaptureWriter(collection) as writer:
        stored = writer.write_exchange(req, encoded)
        packed = writer.write_exchange(dataclasses.replace(req, url=req.url + "&plain=1"), plain)
        again = writer.write_exchange(req, encoded, dedup=True)  # headers alone: compressed
        pic_req, pic_resp = picture_exchange(2)
        picture = writer.write_exchange(pic_req, pic_resp)
        seen = writer.write_exchange(pic_req, pic_resp, dedup=True)
    assert again.revisit_of == stored.response_id and seen.revisit_of == picture.response_id
    for ids, compressed in ((stored, False), (packed, True), (again, True), (seen, True)):
        entry = collection.index.by_record_id(ids.response_id)
        with open(collection.warcs / entry.filename, "rb") as fh:
            fh.seek(entry.offset)
            member = fh.read(entry.length)
        assert (len(member) < len(gzip.decompress(member))) is compressed
    assert read_record(collection, stored.response_id).payload == body
    assert StoreConfig().level_for("application/json", "gzip") == 0
    assert StoreConfig().level_for("application/json", "identity") == 6
    assert StoreConfig().level_for("text/html", "") == 6
