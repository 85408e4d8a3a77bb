"""One plain GET outside a harvest (a login's check, an account lookup): nothing of it is archived,
so it needs no Scrapy engine, only the same proxy and CA a harvest would use. Redirects are not
followed: a redirect to a login page is itself the answer."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

USER_AGENT = "Mozilla/5.0 (weidang)"
MAX_BODY = 1 << 20  # a check or a search page is small; more is not what was asked


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: bytes


def get(url: str, headers: Mapping[str, str], proxy: str = "", proxy_ca: str = "",
        timeout: float = 20.0) -> Answer:
    """The platform's answer to a GET of ``url``; ``OSError`` when the network gave none."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    context = ssl.create_default_context(cafile=proxy_ca or None)
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect(), urllib.request.HTTPSHandler(context=context)]
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, "", response.read(MAX_BODY))
    except urllib.error.HTTPError as answer:
        return Answer(answer.code, answer.headers.get("Location", ""), answer.read(MAX_BODY))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
