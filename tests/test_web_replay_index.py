"""The web server's replay index follows the collection by merging in the lines of each file a
harvest closed, not by deriving the whole collection's again; whenever it cannot tell what its
index holds, or a file went away, it derives the whole, as before. Either way its bytes are those
of the replay index of every closed file (``write_replay_index``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from store_helpers import StepClock, json_exchange, picture_exchange

from warc_store import CaptureWriter, Collection, StoreConfig
from warc_store.cdxj import CdxjIndex
from warc_store.replay_index import write_replay_index
from weidang.web.replay import HELD, Replay, latest_capture

NAME = "default"


def harvest(collection: Collection, n: int) -> None:
    """One writer's closed file: two exchanges (a page and a picture) and a post record."""
    with CaptureWriter(collection, StoreConfig()) as writer:
        writer.write_exchange(*json_exchange(n))
        writer.write_exchange(*picture_exchange(n))
        writer.write_metadata(f"urn:weidang:post:weibo:{n}:v1", b'{"n": %d}' % n, "application/json")


def whole(collection: Collection, tmp_path: Path) -> bytes:
    closed = {p.name for p in collection.closed_files()}
    expected = tmp_path / "expected.cdxj"
    write_replay_index((e for e in collection.index if e.filename in closed), expected)
    return expected.read_bytes()


@pytest.fixture()
def setup(tmp_path):
    collection = Collection.create(tmp_path / "collection", StepClock())
    replay = Replay(tmp_path / "no-wayback", tmp_path / "state", lambda name: collection)
    return collection, replay, tmp_path / "state" / "collections" / NAME


def test_a_closed_file_is_merged_in_without_reading_the_whole_index(setup, tmp_path, monkeypatch):
    collection, replay, root = setup
    harvest(collection, 1)
    harvest(collection, 2)
    url = json_exchange(1)[0].url
    assert replay.address(NAME, url) is not None  # the first use derives it from the whole
    assert (root / "indexes" / "index.cdxj").read_bytes() == whole(collection, tmp_path)

    harvest(collection, 3)
    expected = whole(collection, tmp_path)

    def whole_index_read(self):
        raise AssertionError("the whole index was read")

    monkeypatch.setattr(CdxjIndex, "__iter__", whole_index_read)
    third = json_exchange(3)[0].url
    assert replay.address(NAME, third) is not None
    assert (root / "indexes" / "index.cdxj").read_bytes() == expected


def test_a_restarted_server_reads_its_index_and_notes_once_more(setup, tmp_path, monkeypatch):
    collection, replay, root = setup
    harvest(collection, 1)
    first = replay.address(NAME, json_exchange(1)[0].url)
    monkeypatch.setattr(CdxjIndex, "__iter__", lambda self: (_ for _ in ()).throw(AssertionError))
    again = Replay(replay.wayback, replay.state, lambda name: collection)
    assert again.address(NAME, json_exchange(1)[0].url) == first is not None


def test_a_note_about_another_index_or_a_file_gone_derive_the_whole(setup, tmp_path):
    collection, replay, root = setup
    for n in (1, 2):
        harvest(collection, n)
    replay.address(NAME, "https://example.org/")
    note_before = (root / HELD).read_text()
    harvest(collection, 3)
    replay.address(NAME, "https://example.org/")  # merges the third file in
    # a crash between writing the index and its note: the note still says two files
    (root / HELD).write_text(note_before)
    fresh = Replay(replay.wayback, replay.state, lambda name: collection)
    assert fresh.address(NAME, json_exchange(3)[0].url) is not None
    assert (root / "indexes" / "index.cdxj").read_bytes() == whole(collection, tmp_path)

    gone = collection.closed_files()[0]
    gone.rename(tmp_path / gone.name)  # set aside, as recovery does with a foreign file
    assert fresh.address(NAME, json_exchange(1)[0].url) is None
    assert (root / "indexes" / "index.cdxj").read_bytes() == whole(collection, tmp_path)


@pytest.mark.parametrize("block", [16, 64, 8192])
def test_the_latest_capture_of_an_address_by_binary_search(tmp_path, block):
    """Against every address's latest time read line by line: keys that begin other keys,
    the first and last lines, lines longer than a block, addresses absent before, between
    and after the others."""
    rng = random.Random(block)
    keys = [f"cn,gov,{rng.choice('abcxyz')}{'q' * rng.randint(0, 40)})/{rng.randint(0, 30)}"
            for _ in range(300)] + ["cn,gov,a)/", "cn,gov,a)/1", "cn,gov,a)/10",
                                    "cn,gov,zz)/" + "q" * 20_000]  # the last line, many blocks long
    lines = sorted({f"{k} {20260101000000 + rng.randint(0, 10**6)} {{}}\n".encode() for k in keys})
    index = tmp_path / "index.cdxj"
    index.write_bytes(b"".join(lines))
    latest: dict[str, str] = {}
    for line in lines:
        k, stamp, _ = line.decode().split(" ", 2)
        latest[k] = stamp
    for k in set(keys):
        assert latest_capture(index, k, block) == latest[k], k
    for absent in ("a", "cn,gov,a", "cn,gov,a)/0", "cn,gov,b", "zz", "cn,gov,zq)", "cn,gov,档案)/"):
        assert latest_capture(index, absent, block) is None
