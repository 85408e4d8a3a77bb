"""A power cut during a harvest: the catalog never claims a version its WARC file lost, and
`catalog repair` mends a catalog that does (what an older weidang, or a cut deeper than the last
sync, leaves).

A power cut keeps of a file only what was fsynced. The harvest runs under a wrapper that notes
the length of each `.open` file at each fsync; after `kill -9`, the file is cut back to that
length, which is what the disk would hold. Then it is cut at other points too, deeper than any
sync, for repair.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from crawler_helpers import Archive, emulator_site, weibo_ids

from warc_store.scan import scan

UID = "7000000001"
KEY = f"weibo:{UID}"
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.4\n')
WRAPPER = textwrap.dedent("""
    import os, sys
    real, log = os.fsync, open(sys.argv[1], "a", encoding="utf-8")

    def fsync(fd):
        real(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.endswith(".open"):
            log.write(f"{path}\\t{os.fstat(fd).st_size}\\n")
            log.flush()

    os.fsync = fsync
    sys.argv = ["weidang", *sys.argv[2:]]
    from weidang.cli import main
    sys.exit(main())
""")


site = emulator_site(plan=PLAN, accounts=1, posts=60)


def _catalogued(archive: Archive) -> set[str]:
    return {r[0] for r in archive.rows("SELECT metadata_record_id FROM captures UNION "
                                       "SELECT metadata_record_id FROM statuses")}


def _in_files(archive: Archive) -> set[str]:
    """Record ids of every whole record in the WARC files, as a reader after the cut finds them."""
    found = set()
    for path in archive.warc_files():
        with open(path, "rb") as fh:
            for rec in scan(fh):
                if not rec.ok:
                    break
                found.add(rec.record_id)
    return found


def _killed_midway(archive: Archive, command: list[str]) -> None:
    """Start a harvest, kill -9 it once some versions are in the catalog."""
    proc = archive.popen("harvest", KEY, "--json") if not command else \
        _popen(archive, command)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if (archive.root / "catalog.sqlite").exists():
            try:
                if archive.rows("SELECT COUNT(*) FROM versions")[0][0] >= 15:
                    break
            except Exception:  # the catalog is being created
                pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert archive.collection().open_files(), "the killed harvest left its WARC file open"
    held = len(archive.post_ids(KEY))
    assert 0 < held < 60, held


def _popen(archive: Archive, command: list[str]) -> subprocess.Popen[str]:
    sets = [x for s in [f"CRAWLER_PROXY={archive.client.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
                        "CRAWLER_BACKOFF_SECONDS=0.05"] for x in ("--set", s)]
    return subprocess.Popen([*command, *sets, "harvest", KEY, "--json"], env=archive.env,
                            cwd=archive.root.parent, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _cut(path: Path, length: int) -> None:
    with open(path, "rb+") as fh:
        fh.truncate(length)


def _recaptured_whole(archive: Archive, site) -> None:
    """The next harvest mends it all: every post held, every catalog row backed by a record."""
    summary, done = archive.harvest(KEY)
    assert summary["outcome"] == "ok", summary
    assert sorted(archive.post_ids(KEY)) == sorted(weibo_ids(site, UID))
    indexed = {e.record_id for e in archive.collection().index}
    assert _catalogued(archive) <= indexed
    verified = archive.weidang("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_power_cut_keeps_every_version_the_catalog_claims(site, tmp_path):
    site.control("POST", "/reset")
    archive = Archive(tmp_path / "home", site)
    archive.add(KEY)
    synced = tmp_path / "fsyncs.log"
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER, encoding="utf-8")
    _killed_midway(archive, [sys.executable, str(wrapper), str(synced)])

    lengths: dict[str, int] = {}
    for line in synced.read_text(encoding="utf-8").splitlines() if synced.exists() else []:
        path, size = line.split("\t")
        lengths[Path(path).name] = int(size)
    for path in archive.collection().open_files():  # the power cut: unsynced bytes are gone
        _cut(path, lengths.get(path.name, 0))
    claimed = _catalogued(archive)
    assert claimed, "nothing reached the catalog before the kill"
    assert claimed <= _in_files(archive)  # the catalog was never ahead of the disk
    _recaptured_whole(archive, site)


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8, 0.97])
def test_repair_drops_versions_whose_records_were_cut(site, tmp_path, keep):
    site.control("POST", "/reset")
    archive = Archive(tmp_path / "home", site)
    archive.add(KEY)
    _killed_midway(archive, [])
    [open_file] = archive.collection().open_files()
    _cut(open_file, int(open_file.stat().st_size * keep))
    before = _catalogued(archive)

    repaired = archive.weidang("catalog", "repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    indexed = {e.record_id for e in archive.collection().index}
    after = _catalogued(archive)
    assert after <= indexed  # no row without its record
    if not before <= indexed:
        assert "Dropped" in repaired.stdout, repaired.stdout
    # a post left in the catalog is described by what its records say, nothing more
    for (post_id, version, record_id) in archive.rows(
            "SELECT post_id, version, metadata_record_id FROM versions"):
        assert record_id in indexed, (post_id, version)
    _recaptured_whole(archive, site)

