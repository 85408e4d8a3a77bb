"""Demo data is marked on every record, found by its records, and still read by other WARC tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import StepClock, json_exchange, picture_exchange
from warcio.archiveiterator import ArchiveIterator

from warc_store import CaptureWriter, Collection, StoreConfig, verify_collection
from warc_store.demo import DEMO_FIELD, DEMO_HEADER, collection_demo_marks, demo_marks

DEMO_INFO = {DEMO_FIELD: "true", "weidang-harvest-id": "weibo-1669879400-demo"}


def _collection(root: Path, info: dict[str, str]) -> Collection:
    """Every kind of record a harvest writes: warcinfo, response, request, revisit, metadata."""
    collection = Collection.create(root, StepClock())
    with CaptureWriter(collection, StoreConfig(), info=info) as w:
        first = w.write_exchange(*json_exchange(1))
        w.write_exchange(*picture_exchange(2))
        w.write_exchange(*json_exchange(1), dedup=True)  # the same payload again: a revisit
        w.write_metadata("urn:weidang:post:weibo:1", b'{"id": "1"}', "application/json",
                         refers_to=[first.response_id])
    return collection


def _headers(path: Path) -> list[tuple[str, str | None]]:
    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header(DEMO_HEADER)) for r in ArchiveIterator(fh)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Collection:
    return _collection(tmp_path_factory.mktemp("demo") / "c", DEMO_INFO)


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Collection:
    return _collection(tmp_path_factory.mktemp("real") / "c", {"weidang-harvest-id": "weibo-1"})


def test_every_record_of_a_demo_harvest_carries_the_mark(demo):
    [path] = demo.closed_files()
    records = _headers(path)
    assert {kind for kind, _ in records} == {"warcinfo", "response", "request", "revisit", "metadata"}
    assert all(mark == "true" for _, mark in records), records


def test_a_real_harvest_carries_no_mark(real):
    [path] = real.closed_files()
    assert all(mark is None for _, mark in _headers(path))


def test_demo_data_is_told_by_its_records(demo, real):
    marks = collection_demo_marks(demo)
    assert marks.demo and not marks.mixed and marks.refusal() is None
    assert marks.records == marks.demo_records == 8  # warcinfo, 3 x (response, request), metadata
    plain = collection_demo_marks(real)
    assert not plain.demo and not plain.mixed and plain.demo_records == 0 and plain.records == 8


def test_demo_and_real_files_together_are_refused(demo, real):
    [d], [r] = demo.closed_files(), real.closed_files()
    marks = demo_marks([d, r])
    assert marks.mixed and not marks.demo
    assert marks.refusal() == (f"demo data ({d.name}) would be packaged with real captures ({r.name}); "
                               "package them separately")


def test_a_file_mixing_demo_and_real_records_is_named(demo, real, tmp_path):
    """Gzip members appended from another file (a careless merge): each record still says what it is."""
    [d], [r] = demo.closed_files(), real.closed_files()
    merged = tmp_path / "merged.warc.gz"
    merged.write_bytes(r.read_bytes() + d.read_bytes())
    marks = demo_marks([merged])
    assert marks.mixed and marks.mixed_files == ["merged.warc.gz"] and marks.demo_records == 8
    assert marks.refusal() == ("merged.warc.gz mixes demo records with real captures; demo data must "
                               "never be packaged with real captures")


def test_verify_passes_on_marked_records_and_notes_the_demo(demo, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(demo.root, copy)
    report = verify_collection(Collection.open(copy), workers=1)
    assert report.ok and report.demo, report.to_json()
    assert all(f.records == 8 and not f.bad_records for f in report.files)


def test_warcio_check_accepts_marked_files(demo):
    [path] = demo.closed_files()
    warcio = str(Path(sys.executable).with_name("warcio"))
    done = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # warcio checks no digest of a revisit (it has no payload of its own)
    assert done.stdout.count("digest pass") == 7 and "fail" not in done.stdout
    assert done.stdout.count("digest present but not checked (revisit)") == 1


def test_fastwarc_reads_marked_files_and_their_digests():
    fastwarc = pytest.importorskip("fastwarc.warc")
    # not the module fixture: importorskip must come first, so a missing FastWARC skips cleanly
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        [path] = _collection(Path(tmp) / "c", DEMO_INFO).closed_files()
        with open(path, "rb") as fh:
            records = list((r.headers.get(DEMO_HEADER), r.verify_block_digest())
                           for r in fastwarc.ArchiveIterator(fh, parse_http=False))
    assert records == [("true", True)] * 8
