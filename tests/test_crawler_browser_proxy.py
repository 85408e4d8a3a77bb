"""The recording proxy without a browser: what it says about an upstream that never answers,
before the page's deadline and after it."""

from __future__ import annotations

import math
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from crawler.browser.keys import ProxyIdentity
from crawler.browser.proxy import RecordingProxy, Upstream


@pytest.fixture
def silent_host() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    server.close()


def ask_through(proxy: RecordingProxy, url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
    try:
        with opener.open(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("deadline_in, said", [(math.inf, True), (0.2, False)])
def test_an_upstream_timeout_is_said_only_before_the_pages_deadline(silent_host, deadline_in, said):
    recorded: list[str] = []
    proxy = RecordingProxy(ProxyIdentity(), Upstream(timeout=1.0),
                           lambda request, response, document: recorded.append(request.url),
                           deadline=time.monotonic() + deadline_in)
    url = f"http://127.0.0.1:{silent_host}/detail/1"
    try:
        assert ask_through(proxy, url) == 502  # the browser is told, either way
    finally:
        proxy.close()
    assert recorded == []
    expected = [f"{url} could not be fetched: timed out"]
    assert (proxy.failures == expected) if said else (proxy.failures == [])
