"""pywb replaying WARC files: an independent reader, in its own cached virtual environment
(``reader_venvs.reader_venv``, shared with the other reader tests)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reader_venvs import PYWB, reader_venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def replaying(warcs: list[Path], root: Path, name: str = "weidang") -> Iterator[str]:
    """pywb serving ``warcs`` (WARC files, or WACZ files, which pywb takes with their own sorted
    index: ``wb-manager add --unpack-wacz``) as collection ``name``; yields its address
    (``http://…/name/``)."""
    bin_dir = reader_venv(PYWB)
    root.mkdir(parents=True, exist_ok=True)
    manager = str(bin_dir / "wb-manager")
    subprocess.run([manager, "init", name], cwd=root, check=True, capture_output=True, timeout=300)
    waczs = [w for w in warcs if w.suffix == ".wacz"]
    for wacz in waczs:
        subprocess.run([manager, "add", "--unpack-wacz", name, str(wacz)], cwd=root, check=True,
                       capture_output=True, timeout=300)
    if len(waczs) < len(warcs):
        subprocess.run([manager, "add", name, *(str(w) for w in warcs if w not in waczs)], cwd=root,
                       check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = open(root / "pywb.log", "wb")
    server = subprocess.Popen([str(bin_dir / "wayback"), "--port", str(port), "--bind", "127.0.0.1"],
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
