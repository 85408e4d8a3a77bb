"""The web server's replay index follows the collection by merging in the lines of each file a
harvest closed, not by deriving the whole collection's again: into a small recent index, which
joins the main one once it has grown (pywb searches both). Whenever it cannot tell what its
indexes hold, or a file went away, it derives the whole, as before. Either way the two hold the
lines of the replay index of every closed file (``replay_lines``, which other tests hold against
cdxj-indexer and pywb). A whole one is sorted in bounded memory (``sorted_lines``)."""

from __future__ import annotations

import heapq
import random
import urllib.request
from pathlib import Path

import pytest
from store_helpers import StepClock, json_exchange, picture_exchange

from warc_store import CaptureWriter, Collection, StoreConfig, replay_index
from warc_store.cdxj import CdxjIndex, url_key
from warc_store.replay_index import SPILL_PREFIX, replay_lines, sorted_lines, write_replay_index
from weidang.web import replay as replay_module
from weidang.web.replay import HELD, MAIN, RECENT, Replay, latest_capture

NAME = "default"


def harvest(collection: Collection, n: int) -> None:
    """One writer's closed file: two exchanges (a page and a picture) and a post record."""
    with CaptureWriter(collection, StoreConfig()) as writer:
        writer.write_exchange(*json_exchange(n))
        writer.write_exchange(*picture_exchange(n))
        writer.write_metadata(f"urn:weidang:post:weibo:{n}:v1", b'{"n": %d}' % n, "application/json")


def whole(collection: Collection, tmp_path: Path) -> bytes:
    closed = {p.name for p in collection.closed_files()}
    return b"".join(replay_lines(e for e in collection.index if e.filename in closed))


def held(root: Path) -> bytes:
    """What the two replay indexes hold together, in pywb's order."""
    with open(root / "indexes" / MAIN, "rb") as main, open(root / "indexes" / RECENT, "rb") as recent:
        return b"".join(heapq.merge(main, recent))


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
    assert (root / "indexes" / MAIN).read_bytes() == whole(collection, tmp_path)
    assert (root / "indexes" / RECENT).read_bytes() == b""
    main = (root / "indexes" / MAIN).stat().st_ino

    harvest(collection, 3)
    expected = whole(collection, tmp_path)

    def whole_index_read(self):
        raise AssertionError("the whole index was read")

    monkeypatch.setattr(CdxjIndex, "__iter__", whole_index_read)
    third = json_exchange(3)[0].url
    assert replay.address(NAME, third) is not None
    assert held(root) == expected
    [third_file] = [p.name for p in collection.closed_files()][2:]
    assert (root / "indexes" / RECENT).read_bytes() == b"".join(replay_lines(
        e for e in collection.index.by_file(third_file)))
    assert (root / "indexes" / MAIN).stat().st_ino == main  # the main index was not rewritten


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
    assert (root / "indexes" / MAIN).read_bytes() == whole(collection, tmp_path)
    assert (root / "indexes" / RECENT).read_bytes() == b""

    gone = collection.closed_files()[0]
    gone.rename(tmp_path / gone.name)  # set aside, as recovery does with a foreign file
    assert fresh.address(NAME, json_exchange(1)[0].url) is None
    assert (root / "indexes" / MAIN).read_bytes() == whole(collection, tmp_path)


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


@pytest.mark.parametrize("run_lines,fan_in", [(1, 2), (2, 2), (3, 5), (7, 3), (1000, 64)])
def test_sorting_in_runs_gives_the_sorted_lines_and_leaves_nothing_behind(tmp_path, run_lines, fan_in):
    rng = random.Random(run_lines * 100 + fan_in)
    keys = [f"com,example)/{rng.choice('abc')}{rng.randrange(40)}" for _ in range(150)]
    lines = [f"{k} 2026{rng.randrange(10**10):010d} {{}}\n".encode() for k in keys]
    lines += lines[:20]  # the same line twice, as a sort keeps it
    assert list(sorted_lines(lines, tmp_path, run_lines=run_lines, fan_in=fan_in)) == sorted(lines)
    assert list(tmp_path.iterdir()) == []
    assert list(sorted_lines([], tmp_path, run_lines=run_lines)) == []


def test_sorting_spills_runs_to_disk_and_removes_them_when_stopped(tmp_path):
    lines = (f"k{n % 97:03d} {n}\n".encode() for n in range(50))
    sorting = sorted_lines(lines, tmp_path, run_lines=8, fan_in=2)
    first = next(sorting)
    [runs] = tmp_path.iterdir()  # more lines than one run: runs on disk, not in memory
    # seven runs, merged two by two into four, then two; each pass removed the runs it read
    assert runs.name.startswith(SPILL_PREFIX) and len(list(runs.iterdir())) == 2
    assert first == b"k000 0\n"
    sorting.close()  # a consumer that fails half-way (a full disk) leaves no runs behind
    assert list(tmp_path.iterdir()) == []


def test_a_first_use_sorts_a_large_collection_in_runs(setup, tmp_path, monkeypatch):
    collection, replay, root = setup
    for n in range(1, 5):
        harvest(collection, n)
    (root / f"{SPILL_PREFIX}left-by-a-kill").mkdir(parents=True)
    made: list[int] = []
    real = replay_index._write_run

    def counted_run(path: Path, lines):
        made.append(1)
        return real(path, lines)

    monkeypatch.setattr(replay_index, "_write_run", counted_run)
    monkeypatch.setattr(replay_index.sorted_lines, "__kwdefaults__", {"run_lines": 3, "fan_in": 2})
    assert replay.address(NAME, json_exchange(2)[0].url) is not None
    assert len(made) >= 4  # twelve lines in runs of three, merged two by two
    assert (root / "indexes" / MAIN).read_bytes() == whole(collection, tmp_path)
    assert [p.name for p in root.iterdir() if p.name.startswith(SPILL_PREFIX)] == []
    lines = len(whole(collection, tmp_path).splitlines())
    assert write_replay_index(collection.index, tmp_path / "all.cdxj") == lines


def test_the_recent_index_joins_the_main_one_once_it_has_grown(setup, tmp_path, monkeypatch):
    collection, replay, root = setup
    monkeypatch.setattr(replay_module, "RECENT_SHARE", 1000)  # any recent line is "grown"
    harvest(collection, 1)
    replay.address(NAME, "https://example.org/")
    harvest(collection, 2)
    replay.address(NAME, "https://example.org/")  # into the empty recent index
    assert (root / "indexes" / RECENT).stat().st_size > 0
    harvest(collection, 3)
    replay.address(NAME, "https://example.org/")  # the recent one is not empty: all into the main
    assert (root / "indexes" / MAIN).read_bytes() == whole(collection, tmp_path)
    assert (root / "indexes" / RECENT).read_bytes() == b""
    again = Replay(replay.wayback, replay.state, lambda name: collection)
    monkeypatch.setattr(CdxjIndex, "__iter__", lambda self: (_ for _ in ()).throw(AssertionError))
    assert again.address(NAME, json_exchange(2)[0].url) is not None  # the note holds both files


def test_an_address_captured_again_since_is_found_in_the_recent_index(setup):
    collection, replay, root = setup
    harvest(collection, 1)
    url = json_exchange(1)[0].url
    first = replay.address(NAME, url)
    with CaptureWriter(collection, StoreConfig()) as writer:
        writer.write_exchange(*json_exchange(1))  # the same page, later
    later = replay.address(NAME, url)
    assert first is not None and later is not None and later > first
    assert latest_capture(root / "indexes" / MAIN, url_key(url)) == first.split("/")[2]
    assert latest_capture(root / "indexes" / RECENT, url_key(url)) == later.split("/")[2]


def test_pywb_replays_what_only_the_recent_index_holds(setup):
    """The real pywb of the web server, from its own environment: it reads both indexes."""
    from reader_venvs import PYWB, reader_venv

    collection, _, root = setup
    replay = Replay(reader_venv(PYWB) / "wayback", root.parent.parent, lambda name: collection)
    try:
        harvest(collection, 1)
        replay.address(NAME, "https://example.org/")
        harvest(collection, 2)
        request, response = json_exchange(2)
        path = replay.address(NAME, request.url)
        assert path is not None and (root / "indexes" / MAIN).read_bytes().count(b"page=2") == 0
        host, port = replay.upstream()
        stamp = path.split("/")[2]
        with urllib.request.urlopen(f"http://{host}:{port}/{NAME}/{stamp}id_/{request.url}",
                                    timeout=60) as answer:
            assert answer.read() == response.body
    finally:
        replay.close()
