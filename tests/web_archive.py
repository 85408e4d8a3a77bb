"""A real archive for the web tests, and a `weidang web` server on it.

The archive is made the way an archivist makes one: `weidang` harvests (subprocesses) of the
emulator, one Weibo and one WeChat account, then a second harvest that finds an edit (with 疫情
and 档案), a deletion, and a post edited to carry hostile HTML (a script, an onerror handler,
a javascript: link) as the platform would serve it. Users are added with `weidang users add`.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from urllib.request import urlopen

import pytest
from crawler_helpers import WEIDANG, Archive, start_emulator, wechat_account, weibo_ids
from emulator_client import ROOT

WEIBO_UID, WECHAT_BIZ = "7000000001", "MzkwMDAwMDAwMQ=="
WEIBO, WECHAT = f"weibo:{WEIBO_UID}", f"wechat:{WECHAT_BIZ}"
EDITED_TEXT = "市应急管理局更正：疫情通报已更新，档案已归档。"
# What a hostile account could post: each part would run if the page showed it as it came.
HOSTILE_TEXT = ('档案安全提示<script>window.__pwned = "script"</script>'
                '<img src="x" onerror="window.__pwned = \'onerror\'">'
                '<a href="javascript:window.__pwned = \'link\'">点此查看</a>')
# A post an export must not turn into a live spreadsheet formula.
FORMULA_TEXT = '=HYPERLINK("http://example.invalid/","疫情通报")'
PASSWORD = "correct horse battery"
USERS = {"reader": "researcher", "keeper": "archivist", "boss": "admin"}


@dataclass
class WebArchive:
    archive: Archive
    edited: str  # platform:post_id of the edited post (two versions)
    deleted: str
    hostile: str
    formula: str
    with_pictures: str  # a post with pictures fetched into the WARC files

    @property
    def home(self) -> Path:
        return self.archive.root


def _harvest(archive: Archive) -> None:
    done = archive.weidang("harvest", WEIBO, WECHAT, "--json")
    assert done.returncode == 0 and done.stdout.startswith("["), done.stdout + done.stderr


def _post_with_pictures(archive: Archive) -> str:
    rows = archive.rows("SELECT platform, post_id FROM media WHERE record_id IS NOT NULL "
                        "AND kind = 'picture' AND platform = 'weibo' ORDER BY post_id LIMIT 1")
    assert rows, "the emulator's Weibo posts should have pictures"
    return f"{rows[0][0]}:{rows[0][1]}"


def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebArchive]:
    site = start_emulator(tmp_path_factory.mktemp("web-emulator"), accounts=1, posts=12)
    try:
        archive = Archive(tmp_path_factory.mktemp("web-home") / "home", site)
        account = wechat_account(site, WECHAT_BIZ)
        archive.add(WEIBO)
        archive.add(WECHAT, source="backend",
                    credentials={"cookie": account["cookie"], "token": account["token"]})
        _harvest(archive)
        ids = weibo_ids(site, WEIBO_UID)
        link = dict(parse_qsl(urlsplit(account["links"][1]).query))
        for change in ({"op": "edit", "id": ids[4], "text": EDITED_TEXT},
                       {"op": "edit", "id": ids[5], "text": HOSTILE_TEXT},
                       {"op": "edit", "id": ids[6], "text": FORMULA_TEXT},
                       {"op": "delete", "id": ids[3]},
                       {"op": "delete", "platform": "wechat", "biz": WECHAT_BIZ,
                        "mid": link["mid"], "idx": link["idx"]}):
            site.control("POST", "/mutate", json.dumps(change).encode())
        _harvest(archive)
        for name, role in USERS.items():
            done = subprocess.run([*WEIDANG, "users", "add", name, "--role", role, "--password-stdin"],
                                  input=PASSWORD + "\n", env=archive.env, capture_output=True,
                                  text=True, timeout=60, cwd=ROOT)
            assert done.returncode == 0, done.stdout + done.stderr
        yield WebArchive(archive, edited=f"weibo:{ids[4]}", deleted=f"weibo:{ids[3]}",
                         hostile=f"weibo:{ids[5]}", formula=f"weibo:{ids[6]}",
                         with_pictures=_post_with_pictures(archive))
    finally:
        site.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]


def serve(web: WebArchive, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`weidang web` on the archive, as an archivist starts it; stopped afterwards."""
    port = free_port()
    # The server's language comes from the browser here, not from the machine running the tests.
    env = {k: v for k, v in web.archive.env.items() if k not in ("WEIDANG_LANG", "LANG")}
    env.update(extra_env or {})
    process = subprocess.Popen([*WEIDANG, "web", "--port", str(port)], env=env, cwd=ROOT,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process)
        yield Server(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60  # start-up, not a timed assertion: a bound on waiting
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"weidang web stopped: {process.stderr.read() if process.stderr else ''}")
        try:
            with urlopen(url + "/login", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("weidang web did not start listening")
