"""A small client for the platform emulator, used by the `emulator` fixture and its tests.

Requests go to the platforms' real URLs with only the proxy pointed at the emulator; HTTPS is
verified against the emulator's CA, as a careful client would.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class EmulatorClient:
    proxy_url: str
    ca_path: Path
    process: subprocess.Popen[str] | None = None
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": self.proxy_url, "https": self.proxy_url}),
            urllib.request.HTTPSHandler(context=context))

    def fetch(self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
              method: str | None = None, timeout: float = 10) -> Reply:
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())

    def control(self, method: str, path: str, body: bytes | None = None) -> Any:
        reply = self.fetch(f"http://emulator.control{path}", data=body, method=method)
        return reply.json()

    def world(self) -> Any:
        return self.control("GET", "/world")

    def load_plan(self, toml_text: str) -> Any:
        return self.control("POST", "/plan", toml_text.encode("utf-8"))

    def clear_plan(self) -> None:
        self.control("DELETE", "/plan")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


def start_subprocess(state_dir: Path, *extra: str) -> tuple[EmulatorClient, list[str]]:
    """Run `python -m emulator` and read its first lines: PROXY, CA, CONTROL."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--state-dir", str(state_dir), *extra],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(3)]
    if not lines[0].startswith("PROXY "):
        process.kill()
        raise RuntimeError(f"the emulator did not start: {lines!r}")
    client = EmulatorClient(lines[0].split(" ", 1)[1], Path(lines[1].split(" ", 1)[1]), process)
    return client, lines
