"""kill -9 during a harvest, then a rerun: no post lost or recorded twice, and the catalog
matches the WARC files (a rebuild from them gives the same tables)."""

from __future__ import annotations

import os
import signal
import time

from crawler_helpers import Archive, start_emulator, weibo_ids

UID = "7000000001"
DERIVED = ("posts", "versions", "media", "statuses", "captures")
# Timeline pages answer slowly, so that the harvest is surely in the middle when it is killed.
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.4\n')


def _tables(archive: Archive) -> dict[str, list[tuple]]:
    return {t: sorted(map(repr, archive.rows(f"SELECT * FROM {t}"))) for t in DERIVED}


def test_kill_during_a_harvest_then_rerun(tmp_path):
    site = start_emulator(tmp_path / "emulator", plan=PLAN, accounts=1, posts=40)
    try:
        archive = Archive(tmp_path / "home", site)
        key = f"weibo:{UID}"
        archive.add(key)
        proc = archive.popen("harvest", key, "--json")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until a few pages and their posts are in
            pages = [r for r in site.control("GET", "/requests?host=m.weibo.cn")
                     if "containerid=107603" in r["url"]]
            if len(pages) >= 3:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        collection = archive.collection()
        assert collection.open_files(), "the killed harvest left its WARC file open"
        held_before = set(archive.post_ids(key))
        assert 0 < len(held_before) < 40  # killed midway

        summary, _ = archive.harvest(key)
        assert summary["outcome"] == "ok", summary
        assert sorted(archive.post_ids(key)) == sorted(weibo_ids(site, UID))  # none lost
        duplicates = archive.rows("SELECT platform, post_id, COUNT(*) FROM versions "
                                  "GROUP BY platform, post_id HAVING COUNT(*) > 1")
        assert duplicates == []  # none recorded twice
        assert archive.collection().open_files() == []
        events = [e["type"] for e in archive.collection().events.entries()]
        assert "recovery" in events
        verified = archive.weidang("verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr

        before = _tables(archive)
        rebuilt = archive.weidang("catalog", "rebuild")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert _tables(archive) == before  # the catalog is exactly what the WARC files say
    finally:
        site.stop()
