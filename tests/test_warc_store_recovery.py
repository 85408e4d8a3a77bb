"""Crash safety: a writer killed at any moment loses at most the record being written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from store_helpers import StepClock, json_exchange

from warc_store import CaptureWriter, Collection, recover, verify_collection

WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from store_helpers import json_exchange, picture_exchange
import warc_store.capture
from warc_store import Collection, CaptureWriter, StoreConfig, HttpRequest, HttpResponse
import random
rnd = random.Random(5)
# ~1.2 MB of varied text: deflating it takes many writes, so kills land at many places inside it
big = "".join(chr(0x4E00 + rnd.randrange(3000)) for _ in range({big_chars})).encode()


class DiesInItsNthWrite:
    # The WARC file, except that its Nth write stores only half of what it was given (a gzip
    # member is then always torn), says so on stdout, and waits for the kill.
    writes = 0

    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        if len(data) > 1:
            DiesInItsNthWrite.writes += 1
            if DiesInItsNthWrite.writes == {stop_at}:
                self.fh.write(data[:len(data) // 2])
                self.fh.flush()
                print("inside", self.fh.name, flush=True)
                time.sleep(3600)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)


warc_store.capture.open = lambda *a, **k: DiesInItsNthWrite(open(*a, **k))
c = Collection.open(Path({root!r}))
w = CaptureWriter(c, StoreConfig(max_size={max_size}))
n = 0
while True:
    if n % 3 == 0:
        w.write_exchange(HttpRequest("GET", f"https://m.weibo.cn/detail/{{n}}"),
                         HttpResponse(200, "OK", [("Content-Type", "text/html")], big))
    else:
        w.write_exchange(*(json_exchange(n) if n % 3 == 1 else picture_exchange(n, 200_000)))
    n += 1
"""


def _kill_writer_in_write(root: Path, stop_at: int, max_size: int, big_chars: int) -> str:
    """Run a writer until its ``stop_at``-th write to a WARC file is half done, then kill -9 it;
    returns the name of the file it was writing."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(
        tests=str(Path(__file__).parent), root=str(root), max_size=max_size, stop_at=stop_at,
        big_chars=big_chars)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        said, _, path = proc.stdout.readline().strip().partition(" ")
        assert said == "inside", "the writer ended before its kill point"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return Path(path).name


# Write numbers from the warcinfo record of a first file to records deep into later files.
STOPS = [1, 2, 3, 5, 9, 17, 30, 52, 90, 160]


def test_killed_writer_is_recovered_at_many_points(tmp_path):
    root = tmp_path / "c"
    Collection.create(root)
    for i, stop_at in enumerate(STOPS):
        name = _kill_writer_in_write(root, stop_at, max_size=2_000_000 if i % 2 else 1 << 30,
                                     big_chars=400_000 if i % 3 else 40_000)
        collection = Collection.open(root)
        [left] = collection.open_files()  # every kill lands inside a record of the file being written
        assert left.name == name
        raw = left.read_bytes()
        [done] = recover(collection)
        assert not done.foreign and done.cut_bytes > 0 and done.quarantined
        kept_aside = (collection.quarantine / done.quarantined).read_bytes()
        if done.kept_records:  # the complete records are kept, the torn one set aside: no byte lost
            assert (collection.warcs / done.file).read_bytes() + kept_aside == raw
        else:  # killed inside its first record: nothing to keep, the whole file set aside
            assert kept_aside == raw and not (collection.warcs / done.file).exists()
        assert collection.open_files() == []
        report = verify_collection(collection, workers=1)
        assert report.ok, report.to_json()
        # the index lists exactly the records the files hold
        for entry in collection.manifest.entries():
            indexed = [e for e in collection.index if e.filename == entry.file]
            assert len(indexed) == entry.records
    events = Collection.open(root).events.entries()
    files_recovered = [e for e in events if e["type"] == "recovery"
                       and e["detail"]["file"].endswith(".warc.gz")]
    assert len(files_recovered) == len(STOPS)  # one recovery event per kill


def test_cut_tail_is_quarantined_not_lost(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    writer = CaptureWriter(collection)
    for n in range(3):
        writer.write_exchange(*json_exchange(n))
    path = writer.current_path
    assert path is not None
    whole = path.read_bytes()
    writer._current.fh.close()  # the process "dies": its lock goes, nothing is closed properly
    writer._current = None
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00partial-record")
    [done] = recover(collection)
    assert done.kept_records == 7 and done.cut_bytes == len(b"\x1f\x8b\x08\x00partial-record")
    [closed] = collection.closed_files()
    assert closed.read_bytes() == whole
    assert (collection.quarantine / done.quarantined).read_bytes() == b"\x1f\x8b\x08\x00partial-record"
    assert verify_collection(collection, workers=1).ok


def test_live_writer_is_left_alone(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    with CaptureWriter(collection) as writer:
        writer.write_exchange(*json_exchange(1))
        assert recover(Collection.open(collection.root)) == []
        assert writer.current_path is not None and writer.current_path.exists()


def test_interrupted_between_manifest_and_rename(tmp_path):
    from warc_store.capture import seal_file

    collection = Collection.create(tmp_path / "c", StepClock())
    writer = CaptureWriter(collection)
    writer.write_exchange(*json_exchange(1))
    path = writer.current_path
    writer._current.fh.flush()
    real_rename = os.rename
    try:
        os.rename = lambda *a: (_ for _ in ()).throw(KeyboardInterrupt())  # dies right before the rename
        try:
            seal_file(collection, path, 3, "test")
        except KeyboardInterrupt:
            pass
    finally:
        os.rename = real_rename
    writer._current.fh.close()
    writer._current = None
    [done] = recover(collection)
    assert done.note.startswith("already in the manifest")
    assert len(collection.manifest.entries()) == 1 and verify_collection(collection, workers=1).ok
