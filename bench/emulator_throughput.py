"""Requests per second the emulator sustains for timeline pages through the proxy.

    .venv/bin/python bench/emulator_throughput.py [--seconds 5] [--clients 4]

The emulator runs as its own process (`python -m emulator`, 20 accounts x 200 posts), as in
tests and demos, so the clients here do not share its interpreter. Each client keeps one
connection (keep-alive) and walks generated timelines page by page (10 posts a page), over
plain HTTP and over HTTPS through CONNECT with the CA verified.
Prints requests/s and posts/s for each; no assertion, just numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def walker(proxy: tuple[str, int], https: bool, uids: list[int], ca: Path,
           deadline: float, counts: list[int], index: int) -> None:
    host, port = proxy
    if https:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, context=ssl.create_default_context(cafile=str(ca)), timeout=10)
        connection.set_tunnel("m.weibo.cn", 443)
        prefix = ""
    else:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        prefix = "http://m.weibo.cn"
    requests = posts = 0
    n = index
    while time.monotonic() < deadline:
        uid, since_id = uids[n % len(uids)], None
        n += 1
        while time.monotonic() < deadline:
            path = f"{prefix}/api/container/getIndex?containerid=107603{uid}"
            if since_id:
                path += f"&since_id={since_id}"
            connection.request("GET", path)
            body = json.loads(connection.getresponse().read())
            requests += 1
            if body["ok"] != 1:
                break
            posts += len(body["data"]["cards"])
            since_id = body["data"]["cardlistInfo"].get("since_id")
            if not since_id:
                break
    counts[2 * index] = requests
    counts[2 * index + 1] = posts
    connection.close()


def run(port: int, ca: Path, uids: list[int], https: bool, seconds: float,
        clients: int) -> tuple[float, float]:
    counts = [0] * (2 * clients)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=walker, args=(
        ("127.0.0.1", port), https, uids, ca, deadline, counts, i)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return sum(counts[0::2]) / elapsed, sum(counts[1::2]) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--accounts", "20", "--posts", "200",
             "--state-dir", state], stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert process.stdout is not None
        port = int(process.stdout.readline().rsplit(":", 1)[1])
        ca = Path(process.stdout.readline().split(" ", 1)[1].strip())
        try:
            control = http.client.HTTPConnection("127.0.0.1", port)
            control.request("GET", "http://emulator.control/world")
            uids = [a["uid"] for a in json.loads(control.getresponse().read())["weibo"]
                    if not a["recorded"]]
            for label, https in (("HTTP ", False), ("HTTPS", True)):
                rps, pps = run(port, ca, uids, https, args.seconds, args.clients)
                print(f"{label} timeline pages via proxy, {args.clients} keep-alive clients: "
                      f"{rps:7.1f} requests/s, {pps:8.1f} posts/s")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
