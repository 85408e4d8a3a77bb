"""The emulator as one object: world + fault plan + proxy server, startable in-process.

    with Emulator(World(accounts=3, posts=30, seed=1), FaultPlan.from_file(p)) as emu:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler(
            {"http": emu.proxy_url, "https": emu.proxy_url}), urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=emu.ca_cert_path)))
"""

from __future__ import annotations

import collections
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from emulator import (
    control,
    faults,
    login_routes,
    media_routes,
    page_assets,
    wechat_routes,
    weibo_routes,
)
from emulator.certs import CertificateAuthority
from emulator.exchange import Request, Response
from emulator.faults import FaultPlan
from emulator.proxy import CONTROL_HOST, EmulatorHTTPServer
from emulator.world import World

PLATFORM_HOSTS = {"m.weibo.cn", "weibo.com", "www.weibo.com", "api.weixin.qq.com",
                  "mp.weixin.qq.com", wechat_routes.FEED_HOST, login_routes.PASSPORT_HOST,
                  CONTROL_HOST}
REQUEST_LOG_LIMIT = 200_000


def default_state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "weidang-emulator"


class Emulator:
    """Answers for the platform hosts as an HTTP(S) proxy on 127.0.0.1."""

    def __init__(self, world: World | None = None, plan: FaultPlan | None = None, *,
                 host: str = "127.0.0.1", port: int = 0,
                 state_dir: str | Path | None = None) -> None:
        self.world = world if world is not None else World()
        self.plan = plan if plan is not None else FaultPlan()
        self.host, self.requested_port = host, port
        if state_dir is None:
            state_dir = tempfile.mkdtemp(prefix="weidang-emulator-")
        self.ca = CertificateAuthority(Path(state_dir))
        self.logins = login_routes.LoginService()
        self.wechat = wechat_routes.WechatService(self.world, self.logins)
        self._log: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=REQUEST_LOG_LIMIT)
        self._log_lock = threading.Lock()
        self._seq = 0
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._apply_due_mutations(None)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Emulator:
        self._server = EmulatorHTTPServer((self.host, self.requested_port), self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="weidang-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Run in the calling thread until `stop()` (from a signal handler) is called."""
        if self._server is None:
            self._server = EmulatorHTTPServer((self.host, self.requested_port), self)
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator has not been started")
        return int(self._server.server_address[1])

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca_cert_path(self) -> Path:
        return self.ca.cert_path

    # -- control --------------------------------------------------------------------------
    def load_plan(self, plan: FaultPlan | str | Path) -> None:
        self.plan = plan if isinstance(plan, FaultPlan) else FaultPlan.from_file(plan)
        self._apply_due_mutations(None)

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.world.mutate(spec)

    def trigger(self, name: str) -> list[dict[str, Any]]:
        return [self.world.mutate(m.table) for m in self.plan.triggered(name)]

    def _apply_due_mutations(self, request: Request | None) -> None:
        for mutation in self.plan.due_mutations(request):
            self.world.mutate(mutation.table)

    def requests(self, host: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        with self._log_lock:
            return [r for r in self._log if (host is None or r["host"] == host)
                    and (path is None or r["path"] == path)]

    def counters(self) -> dict[str, Any]:
        by_host: collections.Counter[str] = collections.Counter()
        by_endpoint: collections.Counter[str] = collections.Counter()
        by_fault: collections.Counter[str] = collections.Counter()
        with self._log_lock:
            for record in self._log:
                by_host[record["host"]] += 1
                by_endpoint[f"{record['host']}{record['path']}"] += 1
                if record["fault"]:
                    by_fault[record["fault"]] += 1
            total = self._seq
        return {"total": total, "by_host": dict(by_host), "by_endpoint": dict(by_endpoint),
                "by_fault": dict(by_fault)}

    def reset_counters(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._seq = 0

    # -- answering ------------------------------------------------------------------------
    def answers_for(self, host: str) -> bool:
        return (host in PLATFORM_HOSTS or media_routes.is_media_host(host)
                or host in page_assets.SCRIPT_HOSTS)

    @staticmethod
    def unknown_host_message(host: str) -> str:
        return (f"weidang emulator: no emulated service answers for {host!r}. The emulator "
                "never reaches the internet; it answers only for Weibo, WeChat and their "
                "picture and video hosts.")

    def answer(self, request: Request) -> Response:
        if request.host == CONTROL_HOST:
            return control.handle(self, request)
        self._apply_due_mutations(request)
        rule = self.plan.fault_for(request)
        response = faults.replacement(rule) if rule is not None else None
        if response is None:
            response = self._route(request)
            if rule is not None:
                response = faults.wrap(rule, response)
        with self._log_lock:
            self._seq += 1
            self._log.append({
                "seq": self._seq, "time": time.time(), "method": request.method,
                "url": request.url, "host": request.host, "path": request.path,
                "status": response.status, "fault": response.fault})
        return response

    def _route(self, request: Request) -> Response:
        host = request.host
        if not self.answers_for(host):
            return Response(status=502, body=(self.unknown_host_message(host) + "\n").encode(),
                            content_type="text/plain; charset=utf-8")
        found: Response | None = None
        if host == "m.weibo.cn" and request.path == "/api/config":
            found = self.logins.weibo_config(request)
        elif host == "m.weibo.cn":
            found = weibo_routes.mobile(self.world, request)
        elif host == login_routes.PASSPORT_HOST:
            found = self.logins.passport(request)
        elif host in ("weibo.com", "www.weibo.com"):
            found = weibo_routes.desktop(self.world, request)
        elif media_routes.is_media_host(host) or host in page_assets.SCRIPT_HOSTS:
            found = media_routes.serve(request) if media_routes.is_media_host(host) else None
            found = found or page_assets.serve(request)
        else:
            found = wechat_routes.dispatch(self.wechat, request)
        if found is None:
            return Response(status=404, body=b"<html><body><h1>404 Not Found</h1></body></html>",
                            content_type="text/html")
        return found


def parse_proxy_line(line: str) -> str | None:
    """The proxy URL from the first line `python -m emulator` prints."""
    match = re.match(r"PROXY (http://\S+)", line.strip())
    return match.group(1) if match else None
