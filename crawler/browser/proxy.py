"""The recording proxy: Chromium's only way out, recording every exchange as it crossed the wire.

Chromium is started with this proxy; HTTPS arrives as ``CONNECT host:443`` and is answered with
TLS under the proxy's own key (see ``keys``), so the proxy reads each request, sends it on to the
upstream (the platform, or another proxy such as the emulator), and hands each request and
response, bytes as they came (a gzip body stays gzip, header names keep their case and order),
to ``record``: the capture writes them with the crawler's own ``CaptureWriter.write_exchange``,
the one path every record of weidang goes through (redaction, digests, revisits). What differs
from the wire is what differs for the crawler too: chunked bodies are stored de-chunked.
"""

from __future__ import annotations

import http.client
import http.server
import math
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.browser.keys import ProxyIdentity
from warc_store import HttpRequest, HttpResponse

# Headers that belong to one hop (Chromium to proxy), never sent on nor relayed back.
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"}
DOCUMENT_DESTS = {"document", "iframe", "frame"}
Recorder = Callable[[HttpRequest, HttpResponse, bool], None]
# How often the proxy's loop looks whether it was closed: ``close`` (once a page) waits for it,
# on average half of this (the standard library's 0.5 s cost a page 0.25 s).
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Upstream:
    """Where the proxy sends requests on: directly, or through another HTTP proxy."""

    proxy: str = ""  # "http://host:port"; "" = straight to the platform
    ca_file: str = ""  # CA bundle for the upstream's TLS; "" = the system's CAs
    timeout: float = 30.0

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)


class RecordingProxy:
    """One listening proxy on 127.0.0.1 (a free port); ``close`` ends it and stops recording."""

    def __init__(self, identity: ProxyIdentity, upstream: Upstream, record: Recorder,
                 deadline: float = math.inf) -> None:
        self.identity = identity
        self.deadline = deadline  # time.monotonic() past which the page is abandoned
        self.upstream = upstream
        self._record = record
        self._tls = upstream.tls_context()
        self.failures: list[str] = []
        self.closed = False
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_SECONDS,),
                                        daemon=True,
                                        name="weidang-recording-proxy")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, request: HttpRequest, response: HttpResponse, document: bool) -> None:
        # A page abandoned over its budget may still get answers: they are not its records.
        if self._open():
            self._record(request, response, document)

    def fail(self, message: str) -> None:
        # An upstream that times out after the deadline belongs to a page already said abandoned;
        # on a busy machine its timeout can be noticed before the browser's.
        if self._open():
            self.failures.append(message)

    def _open(self) -> bool:
        return not self.closed and time.monotonic() < self.deadline

    def connect(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        """A new connection to ``host`` (through the upstream proxy, if there is one)."""
        timeout = self.upstream.timeout
        if self.upstream.proxy:
            parts = urllib.parse.urlsplit(self.upstream.proxy)
            via_host, via_port = parts.hostname or "127.0.0.1", parts.port or 8080
            if scheme == "https":
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    via_host, via_port, timeout=timeout, context=self._tls)
                conn.set_tunnel(host, port)
                return conn
            return http.client.HTTPConnection(via_host, via_port, timeout=timeout)
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self) -> None:
        self.closed = True
        self._server.shutdown()
        self._server.server_close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: RecordingProxy) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _SendAll:
    """A write-only file over a TLS socket that always sends everything."""

    closed = False

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    protocol: str
    will_close: bool


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    tunnel: tuple[str, int] | None = None
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._upstream: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def finish(self) -> None:
        for conn in self._upstream.values():
            conn.close()
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        return  # the WARC is the log

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        host = host.strip("[]").lower()
        self.send_response_only(200, "Connection established")
        self.end_headers()
        try:
            tls = self.server.owner.identity.server_context(host).wrap_socket(
                self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = self.request = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _SendAll(tls)  # type: ignore[assignment]
        self.tunnel = (host, int(port or 443))
        self.close_connection = False

    def do_GET(self) -> None:
        self._forward()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_GET

    def _target(self) -> tuple[str, str, int, str]:
        """scheme, host, port and origin-form target of the request."""
        if self.tunnel is not None:
            return "https", self.tunnel[0], self.tunnel[1], self.path
        parts = urllib.parse.urlsplit(self.path)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return parts.scheme or "http", (parts.hostname or "").lower(), parts.port or 80, target

    def _forward(self) -> None:
        scheme, host, port, target = self._target()
        default = 443 if scheme == "https" else 80
        url = f"{scheme}://{host}{'' if port == default else f':{port}'}{target}"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_HEADERS]
        try:
            answer = self._fetch(scheme, host, port, url, target, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            self.server.owner.fail(f"{url} could not be fetched: {exc or type(exc).__name__}")
            self._bad_gateway(url)
            return
        dest = self.headers.get("Sec-Fetch-Dest", "").lower()
        # Chromium sends Sec-Fetch-* only to secure origins; on plain HTTP a page asks for HTML
        document = dest in DOCUMENT_DESTS or (
            not dest and self.headers.get("Accept", "").startswith("text/html"))
        self.server.owner.record(
            HttpRequest(self.command, url, headers, body),
            HttpResponse(answer.status, answer.reason, answer.headers, answer.body,
                         protocol=answer.protocol), document)
        self._relay(answer)

    def _fetch(self, scheme: str, host: str, port: int, url: str, target: str,
               headers: list[tuple[str, str]], body: bytes) -> _Answer:
        key = (scheme, host, port)
        reused = self._upstream.pop(key, None)
        if reused is not None:
            try:
                return self._exchange(reused, key, url, target, headers, body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                reused.close()  # the upstream closed an idle connection: once more on a new one
        conn = self.server.owner.connect(scheme, host, port)
        return self._exchange(conn, key, url, target, headers, body)

    def _exchange(self, conn: http.client.HTTPConnection, key: tuple[str, str, int], url: str,
                  target: str, headers: list[tuple[str, str]], body: bytes) -> _Answer:
        plain_via_proxy = bool(self.server.owner.upstream.proxy) and key[0] == "http"
        conn.putrequest(self.command, url if plain_via_proxy else target,
                        skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body and not any(k.lower() == "content-length" for k, _ in headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        try:
            data = response.read()
        except http.client.IncompleteRead as exc:  # what the wire gave is what is recorded
            data = exc.partial
            response.will_close = True
        answer = _Answer(response.status, response.reason or "", list(response.getheaders()),
                         data, "HTTP/1.0" if response.version == 10 else "HTTP/1.1",
                         response.will_close)
        if answer.will_close:
            conn.close()
        else:
            self._upstream[key] = conn
        return answer

    def _relay(self, answer: _Answer) -> None:
        self.send_response_only(answer.status, answer.reason or None)
        bodiless = self.command == "HEAD" or answer.status in (204, 304) or answer.status < 200
        for name, value in answer.headers:
            if name.lower() not in HOP_HEADERS and (bodiless or name.lower() != "content-length"):
                self.send_header(name, value)
        if not bodiless:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not bodiless:
            self.wfile.write(answer.body)

    def _bad_gateway(self, url: str) -> None:
        body = f"weidang recording proxy: {url} could not be fetched\n".encode()
        self.send_response_only(502, "Bad Gateway")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
