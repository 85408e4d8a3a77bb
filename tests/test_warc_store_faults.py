"""Faults on disk: a full disk, torn last lines, files copied in from elsewhere, deletions that
only a count can show, and an auditor's read-only copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_helpers import (
    StepClock,
    build_collection,
    json_exchange,
    private_mounts_available,
    run_with_private_mounts,
)

from warc_store import CaptureWriter, Collection, recover, verify_collection

TESTS = str(Path(__file__).parent)
needs_mounts = pytest.mark.skipif(not private_mounts_available(),
                                  reason="needs `unshare -rm` (a private mount namespace)")

FULL_DISK = """
import json, os, subprocess, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
disk = Path({disk!r})
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
from store_helpers import build_collection
from warc_store import StoreError
from warc_store.cdxj import IndexEntry
from warc_store.manifest import ManifestEntry
c = build_collection(disk / "c", exchanges=2)
names = ("index.cdxj", "events.jsonl", "manifest.jsonl", "tally.json")
before = {{n: (c.root / n).read_bytes() for n in names}}

def fill(leave):
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while os.write(fd, b"\\0" * 4096):
            pass
    except OSError:
        pass
    os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    os.close(fd)

def attempt(what, action):
    try:
        action()
        out[what] = "written"
    except StoreError as exc:
        out[what] = str(exc)

def add_event():
    with c.locked():
        c.events.append("ingestion", "success", {{"pad": "x" * 60000}}, "test")

out = {{}}
fill(8192)  # two pages left: the next appends can store only part of what they write
lines = [IndexEntry(url=f"https://example.org/{{i}}", timestamp="20261125080000",
                    record_id=f"<urn:uuid:{{i}}>", record_type="response", filename="x.warc.gz",
                    offset=i, length=1) for i in range(600)]
attempt("index", lambda: c.index.append(lines))
attempt("events", add_event)
fill(0)
entry = ManifestEntry(file="y.warc.gz", size=1, sha256="0" * 64, sm3="0" * 64,
                      closed_at="2026-11-25T08:00:00+00:00", records=1)
attempt("manifest", lambda: c.manifest.add(entry))
out["unchanged"] = [n for n in names if (c.root / n).read_bytes() == before[n]]
out["left"] = sorted(p.name for p in c.root.iterdir())
(disk / "filler").unlink()
from warc_store import verify_collection
out["verified"] = verify_collection(c, workers=1).ok
print(json.dumps(out))
"""


@needs_mounts
def test_a_full_disk_leaves_index_event_log_and_manifest_whole(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "full.py"
    script.write_text(FULL_DISK.format(tests=TESTS, disk=str(disk)))
    done = run_with_private_mounts(f"{sys.executable} {script}")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for what in ("index", "events", "manifest"):
        assert out[what].startswith("the disk is full: nothing was added to"), out
    assert out["unchanged"] == ["index.cdxj", "events.jsonl", "manifest.jsonl", "tally.json"]
    assert not [n for n in out["left"] if n.endswith(".tmp")]
    assert out["verified"] is True


def _dead_writer(collection: Collection, exchanges: int = 3) -> Path:
    """A writer that dies without closing its file (its lock goes with it)."""
    writer = CaptureWriter(collection)
    for n in range(exchanges):
        writer.write_exchange(*json_exchange(n))
    writer.flush()
    assert writer._current is not None
    path = writer._current.path
    writer._current.fh.close()
    writer._current = None
    return path


def test_a_torn_index_line_is_cut_and_the_open_file_still_recovered(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    _dead_writer(collection)
    index = collection.root / "index.cdxj"
    with open(index, "ab") as fh:  # what a full disk made of the last append
        fh.write(b'cn,weibo,m)/api 20261125080000 {"url":"https://m.weibo.cn/api","tim')
    report = verify_collection(collection, workers=1)
    assert not report.ok and any("index's last line is unfinished" in p for p in report.index_problems)
    [done] = recover(collection)  # a harvest or `catalog repair` starts with this
    assert done.kept_records == 7 and collection.open_files() == []
    assert index.read_bytes().endswith(b"\n")
    assert verify_collection(collection, workers=1).ok
    notes = [e["detail"].get("note", "") for e in collection.events.entries() if e["type"] == "recovery"]
    assert any("the index ended in an unfinished line" in n for n in notes)


def test_catalog_repair_after_a_torn_index_line(tmp_path, capsys):
    from weidang.cli import main

    home = tmp_path / "home"
    collection = Collection.create(home / "collections" / "default", StepClock())
    _dead_writer(collection)
    with open(collection.root / "index.cdxj", "ab") as fh:
        fh.write(b'cn,weibo,m)/api 20261125080000 {"url":"https://m.weibo.cn/api","tim')
    assert main(["--home", str(home), "catalog", "repair"]) == 0, capsys.readouterr().err
    assert collection.open_files() == [] and verify_collection(collection, workers=1).ok


def test_index_lines_lost_with_a_torn_tail_are_indexed_again(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=4)
    index = collection.root / "index.cdxj"
    where = lambda: sorted((e.record_id, e.filename, e.offset, e.length)  # noqa: E731
                           for e in Collection.open(collection.root).index)
    whole, before = index.read_bytes(), where()
    index.write_bytes(whole[: len(whole) - 500])  # the last lines, and half of one, are lost
    assert not verify_collection(collection, workers=1).ok
    assert recover(collection) == []
    assert where() == before
    assert verify_collection(collection, workers=1).ok


def test_an_unfinished_event_is_set_aside_and_the_chain_goes_on(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    log = collection.root / "events.jsonl"
    torn = b'{"agent": "weidang", "detail": {"file": "x'
    with open(log, "ab") as fh:
        fh.write(torn)
    report = verify_collection(collection, workers=1)
    assert any("the last event is unfinished" in p for p in report.chain_problems)
    assert report.not_recorded and log.read_bytes().endswith(torn)  # verify changes nothing then
    collection.record_event("ingestion", "success", {"n": 1})  # any append sets it aside first
    assert collection.events.check() == []
    kept = [p for p in collection.quarantine.iterdir() if p.name.startswith("events.jsonl.unfinished")]
    assert [p.read_bytes() for p in kept] == [torn]
    assert verify_collection(collection, workers=1).ok


def _foreign_open_file(tmp_path: Path) -> Path:
    """An interrupted file of another weidang collection (same collection name, other home)."""
    other = Collection.create(tmp_path / "elsewhere" / "c", StepClock(datetime(2026, 3, 1, tzinfo=UTC)))
    return _dead_writer(other, exchanges=4)


def test_an_open_file_this_collection_did_not_begin_is_quarantined(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    foreign = _foreign_open_file(tmp_path)
    copied = collection.warcs / foreign.name
    shutil.copy(foreign, copied)
    own = _dead_writer(collection)
    manifest_before = collection.manifest.entries()
    done = {r.file: r for r in recover(collection)}
    name = foreign.name.removesuffix(".open")
    assert done[name].foreign and done[name].kept_records == 0
    assert (collection.quarantine / foreign.name).read_bytes() == foreign.read_bytes()
    assert not done[own.name.removesuffix(".open")].foreign  # its own dead writer's file is adopted
    assert [e.file for e in collection.manifest.entries()] == (
        [e.file for e in manifest_before] + [own.name.removesuffix(".open")])
    assert not [e for e in collection.index if e.filename == name]
    [event] = [e for e in collection.events.entries() if e["type"] == "quarantine"]
    assert event["detail"]["file"] == foreign.name
    assert "not begun by this collection" in event["detail"]["note"]
    assert verify_collection(collection, workers=1).ok


def test_a_foreign_file_under_a_name_this_collection_began_is_quarantined(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    own = _dead_writer(collection)
    foreign = _foreign_open_file(tmp_path)
    shutil.copy(foreign, own)  # same name as a file this collection began, other content
    [done] = recover(collection)
    assert done.foreign and "does not carry the id" in done.note
    assert collection.manifest.entries() == [] and verify_collection(collection, workers=1).ok


def test_a_copy_named_like_a_closed_file_is_set_aside_and_nothing_is_replaced(tmp_path):
    collection = build_collection(tmp_path / "c", exchanges=2)
    [closed] = collection.closed_files()
    indexed = list(collection.index)
    foreign = _foreign_open_file(tmp_path)
    kept = []
    for _ in range(2):  # twice: the second copy must not replace the first in quarantine/
        shutil.copy(foreign, closed.with_name(closed.name + ".open"))
        [done] = recover(collection)
        assert done.foreign and done.quarantined not in kept
        kept.append(done.quarantined)
    assert all((collection.quarantine / k).read_bytes() == foreign.read_bytes() for k in kept)
    assert list(Collection.open(collection.root).index) == indexed
    assert verify_collection(collection, workers=1).ok


def test_the_harvest_side_warns_about_a_quarantined_file(tmp_path, capsys):
    from weidang.store import recover_and_warn

    collection = build_collection(tmp_path / "c", exchanges=2)
    foreign = _foreign_open_file(tmp_path)
    shutil.copy(foreign, collection.warcs / foreign.name)
    recover_and_warn(collection)
    err = capsys.readouterr().err
    assert err.startswith("Warning: ") and foreign.name in err and "quarantine" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["repair", "rebuild"])
def test_catalog_commands_set_a_foreign_file_aside_and_say_so(tmp_path, capsys, command):
    from weidang.cli import main

    home = tmp_path / "home"
    collection = build_collection(home / "collections" / "default", exchanges=2)
    foreign = _foreign_open_file(tmp_path)
    shutil.copy(foreign, collection.warcs / foreign.name)
    assert main(["--home", str(home), "catalog", command]) == 0
    assert "Warning: " in capsys.readouterr().err
    assert collection.open_files() == [] and (collection.quarantine / foreign.name).exists()


# -- deletions that verify must catch without a seal ------------------------------------------

@pytest.fixture
def two_files(tmp_path):
    from warc_store import StoreConfig

    collection = build_collection(tmp_path / "c", exchanges=8, config=StoreConfig(max_size=40_000))
    assert len(collection.closed_files()) >= 2 and verify_collection(collection, workers=1).ok
    return collection


def _cut_lines(path: Path, keep: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:keep]))


def test_a_file_deleted_with_its_manifest_line_is_caught(two_files):
    last = two_files.closed_files()[-1]
    last.unlink()
    manifest = two_files.root / "manifest.jsonl"
    _cut_lines(manifest, len(manifest.read_bytes().splitlines()) - 1)
    report = verify_collection(two_files, workers=1)
    assert not report.ok and report.missing == [] and report.unexpected == []
    assert any(last.name in p and "the file is gone too" in p for p in report.cross_problems)
    assert any("entries, but" in p and "were counted" in p for p in report.cross_problems)
    assert any(last.name in p for p in report.index_problems)


@pytest.mark.parametrize("how", ["last events", "emptied", "removed"])
def test_a_cut_event_log_is_caught(two_files, how):
    log = two_files.root / "events.jsonl"
    if how == "last events":
        _cut_lines(log, len(log.read_bytes().splitlines()) - 2)
    elif how == "emptied":
        log.write_bytes(b"")
    else:
        log.unlink()
    report = verify_collection(two_files, workers=1)
    assert not report.ok and report.chain_problems == []
    assert any("events were deleted from its end, or the log was emptied or removed" in p
               for p in report.cross_problems), report.cross_problems


def test_a_cut_stays_visible_after_later_events(two_files):
    log = two_files.root / "events.jsonl"
    _cut_lines(log, len(log.read_bytes().splitlines()) - 2)
    for n in range(5):  # later harvests go on appending
        two_files.record_event("ingestion", "success", {"n": n})
    report = verify_collection(two_files, workers=1)
    assert any("is not the one counted" in p for p in report.cross_problems), report.cross_problems


def test_only_the_last_fixity_events_deleted_is_caught(two_files):
    log = two_files.root / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    last_digest = max(i for i, line in enumerate(lines) if b"message digest calculation" in line)
    log.write_bytes(b"".join(lines[:last_digest]))  # the last file's digest event and all after
    report = verify_collection(two_files, workers=1)
    name = two_files.closed_files()[-1].name
    assert any(name in p and "no digest event" in p for p in report.cross_problems)


def test_a_deleted_tally_is_caught(two_files):
    (two_files.root / "tally.json").unlink()
    two_files.record_event("ingestion", "success", {})  # and is not quietly made again
    report = verify_collection(two_files, workers=1)
    assert any("tally.json" in p and "missing" in p for p in report.cross_problems)


# -- an auditor's read-only copy ---------------------------------------------------------------

def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@needs_mounts
def test_verify_works_on_a_read_only_copy_and_writes_nothing(tmp_path):
    src = tmp_path / "copy"
    build_collection(src / "collections" / "default", exchanges=4)
    (src / "collections" / "default" / ".lock").unlink(missing_ok=True)
    mnt, user = tmp_path / "mnt", tmp_path / "user"
    mnt.mkdir()
    user.mkdir()
    before = _tree(src)
    weidang = Path(sys.executable).with_name("weidang")
    env = f"HOME={user} XDG_DATA_HOME={user}/xdg WEIDANG_HOME="
    done = run_with_private_mounts(
        f"mount --bind {src} {mnt} && mount -o remount,ro,bind {mnt} && "
        f"env {env} {weidang} --home {mnt} verify && "
        f"env {env} {weidang} verify --json {mnt}/collections/default && "
        f"env {env} {weidang} --home {mnt} seal")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout and "read-only" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("weidang-seal-1:")
    assert "Traceback" not in done.stderr and "failed unexpectedly" not in done.stderr
    assert _tree(src) == before
    assert list(user.iterdir()) == []  # no default home made for it either


def test_a_crash_report_goes_to_the_home_given_never_the_default_one(tmp_path, monkeypatch):
    import tempfile

    import weidang.commands.verify as verify_command
    from weidang.cli import main

    home, xdg, temp = tmp_path / "home", tmp_path / "xdg", tmp_path / "temp"
    temp.mkdir()
    monkeypatch.delenv("WEIDANG_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    build_collection(home / "collections" / "default", exchanges=2)

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(verify_command, "verify_collection", boom)
    assert main(["--home", str(home), "verify"]) == 70
    assert [p.name[:6] for p in (home / "logs").iterdir()] == ["crash-"]
    assert main(["verify", str(home / "collections" / "default")]) == 70  # no home given
    assert not xdg.exists()  # the default home was not made for a crash report
    assert [p.name[:13] for p in temp.iterdir()] == ["weidang-crash"]


@pytest.fixture
def shared_dir():
    """A folder outside pytest's private (0700) temporary tree, so another user can reach it."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="weidang-ro-"))
    base.chmod(0o755)
    yield base
    subprocess.run(["chmod", "-R", "u+w", str(base)], check=True)
    shutil.rmtree(base)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_verify_works_for_a_user_who_may_not_write_the_copy(shared_dir):
    src = shared_dir / "c"
    build_collection(src, exchanges=2)
    (src / ".lock").unlink(missing_ok=True)
    subprocess.run(["chmod", "-R", "a+rX,a-w", str(src)], check=True)
    before = _tree(src)
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         str(Path(sys.executable).with_name("weidang")), "verify", str(src)],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(shared_dir / "nobody"), "LANG": "C.UTF-8"})
    if "Permission denied" in done.stderr and not done.stdout:
        pytest.skip("weidang is not readable by an unprivileged user on this machine")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "read-only" in done.stdout and _tree(src) == before
    assert not (shared_dir / "nobody").exists()
