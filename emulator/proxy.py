"""The connection side: an HTTP proxy that answers itself, with TLS interception for CONNECT.

Clients keep requesting the platforms' real URLs and only point their proxy here. Plain HTTP
arrives in absolute form (`GET http://host/path`); HTTPS arrives as `CONNECT host:443`, after
which the emulator speaks TLS with a certificate for `host` signed by its own CA and reads the
requests inside the tunnel. Requests to any other host get a 502: nothing leaves this machine.
"""

from __future__ import annotations

import gzip
import http.server
import socket
import ssl
import sys
import time
import urllib.parse
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import brotli

from emulator.exchange import Request, Response

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

if TYPE_CHECKING:
    from emulator.server import Emulator

CONTROL_HOST = "emulator.control"
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda body: gzip.compress(body, 5, mtime=0),
    "deflate": zlib.compress,  # zlib-wrapped, as HTTP's "deflate" means
    "br": brotli.compress,
    "zstd": zstd.compress,
}
_COMPRESSIBLE = ("application/json", "text/", "application/rss+xml", "application/atom+xml",
                 "application/javascript")


class _SocketWriter:
    """A write-only file over a socket that always sends everything (TLS may send partially)."""

    closed = False

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        pass


class EmulatorHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing its idle keep-alive connections resets them: no news, no traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "weidang-emulator"
    sys_version = ""
    server: EmulatorHTTPServer
    tunnel_host: str | None = None
    timeout = 120

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # delayed ACKs stall every keep-alive answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        return  # the request log is kept by the emulator, queryable through the control API

    # -- CONNECT --------------------------------------------------------------------------
    def do_CONNECT(self) -> None:
        host, _, _port = self.path.rpartition(":")
        host = host.strip("[]").lower()
        if not self.server.emulator.answers_for(host):
            self._plain_error(502, self.server.emulator.unknown_host_message(host))
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        context = self.server.emulator.ca.server_context(host)
        try:
            tls = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = self.request = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _SocketWriter(tls)  # type: ignore[assignment]
        self.tunnel_host = host
        self.close_connection = False

    # -- requests -------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_GET

    def _target(self) -> tuple[str, str, str, str]:
        """scheme, host, path, query of the request, whatever form it came in."""
        if self.tunnel_host is not None:
            parts = urllib.parse.urlsplit(self.path)
            return "https", self.tunnel_host, parts.path or "/", parts.query
        if "://" in self.path:
            parts = urllib.parse.urlsplit(self.path)
            return parts.scheme, (parts.hostname or "").lower(), parts.path or "/", parts.query
        parts = urllib.parse.urlsplit(self.path)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if host in ("", "127.0.0.1", "localhost", "[::1]") or host == self.server.server_name:
            host = CONTROL_HOST  # asked directly, not as a proxy: the control API
        return "http", host, parts.path or "/", parts.query

    def _serve(self) -> None:
        scheme, host, path, query = self._target()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(method=self.command, scheme=scheme, host=host, path=path,
                          query_string=query, headers=self.headers, body=body,
                          client=str(self.client_address[0]))
        self.server.emulator.plan.throttle(request.client)
        try:
            response = self.server.emulator.answer(request)
        except Exception as exc:  # a bug in the emulator: answer 500 and keep serving
            response = Response(status=500, body=f"weidang emulator error: {exc!r}\n".encode(),
                                content_type="text/plain; charset=utf-8")
        self._send(request, response)

    def _send(self, request: Request, response: Response) -> None:
        if response.delay > 0:
            time.sleep(response.delay)
        if response.drop:
            self.close_connection = True
            self._shutdown()
            return
        body = response.body
        headers = list(response.headers)
        truncate_to = response.truncate_to
        encoding = self._encoding(response)
        if encoding:
            compressed = _ENCODERS[encoding](body)
            if truncate_to is not None and body:
                truncate_to = int(len(compressed) * truncate_to / len(body))
            body = compressed
            headers += [("Content-Encoding", encoding), ("Vary", "Accept-Encoding")]
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        if truncate_to is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if truncate_to is not None:
            self.wfile.write(body[:truncate_to])
            self.close_connection = True
            self._shutdown()
            return
        self.wfile.write(body)

    def _encoding(self, response: Response) -> str:
        """The content coding to answer in ("" for none): the fault's, else gzip as nginx does."""
        accepts = {part.split(";")[0].strip().lower()
                   for part in self.headers.get("Accept-Encoding", "").split(",")}
        if response.status == 206:
            return ""
        if response.encoding is not None:
            wanted = response.encoding.lower()
            return wanted if wanted in accepts and wanted in _ENCODERS else ""
        if ("gzip" in accepts and len(response.body) > 256
                and response.content_type.startswith(_COMPRESSIBLE)):
            return "gzip"
        return ""

    def _plain_error(self, status: int, message: str) -> None:
        body = (message + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _shutdown(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
