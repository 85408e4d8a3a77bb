"""pywb, in a virtual environment of its own, replaying WARC files: an independent reader.

The environment is made once (``pip install pywb==PYWB_VERSION``) and cached under
``~/.cache/weidang-tests/``; a lock keeps two test processes from building it at once. A test
skips with the reason when the environment cannot be built (no package registry reachable).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PYWB_VERSION = "2.10.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "weidang-tests"


def pywb_venv() -> Path:
    """The cached environment's folder, built on first use."""
    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    venv = CACHE / f"pywb-{PYWB_VERSION}-{tag}-replay"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"pywb-{PYWB_VERSION}-replay.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / "ready").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(venv / "bin/pip"), "install", "-q", f"pywb=={PYWB_VERSION}"],
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"pywb {PYWB_VERSION} could not be installed: {done.stderr.strip()[-300:]}")
        (venv / "ready").write_text(PYWB_VERSION)
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def replaying(warcs: list[Path], root: Path, name: str = "weidang") -> Iterator[str]:
    """pywb serving ``warcs`` as collection ``name``; yields its address (``http://…/name/``)."""
    venv = pywb_venv()
    root.mkdir(parents=True, exist_ok=True)
    manager = str(venv / "bin/wb-manager")
    subprocess.run([manager, "init", name], cwd=root, check=True, capture_output=True, timeout=300)
    subprocess.run([manager, "add", name, *map(str, warcs)], cwd=root, check=True,
                   capture_output=True, timeout=300)
    port = _free_port()
    log = open(root / "pywb.log", "wb")
    server = subprocess.Popen([str(venv / "bin/wayback"), "--port", str(port), "--bind", "127.0.0.1"],
                              cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/{name}/"
        _wait_for(f"http://127.0.0.1:{port}/", server, root / "pywb.log")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"pywb stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"pywb did not answer at {url}: {log.read_text(errors='replace')[-2000:]}")
