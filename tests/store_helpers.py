"""Building collections for the warc_store tests."""

from __future__ import annotations

import gzip
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warc_store import CaptureWriter, Collection, HttpRequest, HttpResponse, RedactionPolicy, StoreConfig


class StepClock:
    """A clock that moves on by ``step`` at every reading, so dates and ages are reproducible."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start or datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def json_exchange(n: int, secret: str = "") -> tuple[HttpRequest, HttpResponse]:
    url = f"https://m.weibo.cn/api/container/getIndex?containerid=1076031669879400&page={n}"
    cookie = [("Cookie", f"SUB={secret}")] if secret else []
    body = ('{"ok":1,"data":{"cards":[{"card_type":9,"mblog":{"id":"' + str(n)
            + '","text":"关于做好档案工作的通知 ' + str(n) + '"}}]}}').encode()
    return (HttpRequest("GET", url, [("Host", "m.weibo.cn"), *cookie]),
            HttpResponse(200, "OK", [("Content-Type", "application/json; charset=utf-8"),
                                     ("Set-Cookie", "XSRF-TOKEN=abc123; path=/"),
                                     ("Set-Cookie", "WEIBOCN_FROM=1110006030; path=/")], body))


def picture_exchange(n: int, size: int = 20000) -> tuple[HttpRequest, HttpResponse]:
    body = os.urandom(size)
    return (HttpRequest("GET", f"https://wx{n % 4 + 1}.sinaimg.cn/large/pic{n}.jpg"),
            HttpResponse(200, "OK", [("Content-Type", "image/jpeg")], body))


def build_collection(root: Path, exchanges: int = 6, config: StoreConfig | None = None,
                     clock: StepClock | None = None, policy: RedactionPolicy | None = None,
                     info: dict[str, str] | None = None) -> Collection:
    collection = Collection.create(root, clock or StepClock())
    with CaptureWriter(collection, config or StoreConfig(), policy or RedactionPolicy(), info or {}) as w:
        for n in range(exchanges):
            req, resp = json_exchange(n) if n % 2 == 0 else picture_exchange(n)
            w.write_exchange(req, resp)
    return collection


def members(path: Path) -> list[tuple[int, bytes]]:
    """Each gzip member of a file as (offset, compressed bytes), found through the index-free way:
    decompressing member by member."""
    import zlib

    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        out.append((pos, data[pos:end]))
        pos = end
    return out


def replace_member(path: Path, offset: int, transform) -> None:
    """Decompress the member at ``offset``, change its bytes, recompress it in place (the file
    stays a valid gzip stream, so only the WARC-level digests can notice)."""
    data = path.read_bytes()
    for start, raw in members(path):
        if start == offset:
            changed = gzip.compress(transform(gzip.decompress(raw)))
            path.write_bytes(data[:start] + changed + data[start + len(raw):])
            return
    raise AssertionError(f"no member at {offset}")


def private_mounts_available() -> bool:
    """Whether this machine lets a process mount in its own namespace (`unshare -rm`)."""
    import shutil

    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_with_private_mounts(shell: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a shell command in its own mount namespace: its mounts (a small tmpfs, a read-only
    bind mount) vanish with it, whatever happens to the test."""
    return subprocess.run(["unshare", "-rm", "sh", "-c", shell], capture_output=True, text=True,
                          timeout=timeout)
