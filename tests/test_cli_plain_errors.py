"""Conditions the archivist can fix are said in one sentence, never as "failed unexpectedly"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

WEIDANG = str(Path(sys.executable).with_name("weidang"))


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WEIDANG_HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path))
    return subprocess.run([WEIDANG, *args], capture_output=True, text=True, env=env, timeout=120)


def _crash_reports(tmp_path: Path) -> list[Path]:
    return list(tmp_path.rglob("crash-*.txt"))


def test_emulator_on_a_busy_port_says_so(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _run(tmp_path, "emulator", "--port", str(busy.getsockname()[1]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "already in use" in done.stderr and "--port" in done.stderr
    assert "unexpectedly" not in done.stderr and not _crash_reports(tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (always full)")
def test_a_full_disk_is_said_in_words(tmp_path):
    assert _run(tmp_path, "accounts", "add", "weibo:1669879400", "--name", "测试").returncode == 0
    target = tmp_path / "accounts.csv"
    target.symlink_to("/dev/full")  # every write there fails with ENOSPC, as on a full disk
    done = _run(tmp_path, "accounts", "export", str(target))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "disk is full" in done.stderr and "unexpectedly" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not _crash_reports(tmp_path)
