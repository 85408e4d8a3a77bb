"""One request and the answer to it, independent of the socket that carried them."""

from __future__ import annotations

import http.cookies
import json
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass
class Request:
    method: str
    scheme: str
    host: str
    path: str
    query_string: str
    headers: Message
    body: bytes = b""
    client: str = ""  # the address the request came from (the harvester's egress)

    @property
    def url(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.scheme}://{self.host}{self.path}{query}"

    @property
    def query(self) -> dict[str, str]:
        """The first value of each query parameter."""
        return {k: v for k, v in reversed(urllib.parse.parse_qsl(self.query_string,
                                                                 keep_blank_values=True))}

    def cookie(self, name: str) -> str | None:
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None

    def json_body(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Effects of faults, carried out by the connection handler.
    delay: float = 0.0
    truncate_to: int | None = None  # send only this many body bytes, then close
    drop: bool = False  # close the connection without answering
    # answer in this content coding (when the client accepts it) whatever the size and type;
    # None: gzip for textual answers over 256 bytes, when accepted
    encoding: str | None = None
    fault: str | None = None

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


def php_json(value: Any) -> bytes:
    """JSON as Weibo's servers write it: ASCII with \\u escapes and escaped slashes."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def plain_json(value: Any) -> bytes:
    """JSON as WeChat's servers write it: UTF-8, compact."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(value: Any, *, weibo: bool = True, status: int = 200) -> Response:
    return Response(status=status, body=php_json(value) if weibo else plain_json(value))
