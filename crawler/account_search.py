"""Look an account up by its name on its platform (``harvesters.account_search`` says where and
how to read the answer). A lookup archives nothing: it only finds the id an archivist then
registers, so it is one plain request, not a harvest.

No value of a cookie or token is printed, logged or put in an exception here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crawler import plain_request
from crawler.errors import CrawlError
from harvesters.account_search import Candidate, parse_candidates, search_url
from harvesters.errors import HarvestError

THROTTLED = (418, 432)  # Weibo's answers to too many requests from one address


class AccountLookupError(CrawlError):
    """The platform could not be asked, or refused to answer."""


def find_accounts(platform: str, name: str, login: Mapping[str, Any] | None, proxy: str = "",
                  proxy_ca: str = "", timeout: float = 20.0) -> list[Candidate]:
    """The accounts ``platform`` offers for ``name``. WeChat needs a backend login (its cookie and
    token); Weibo answers without one, and with one when given."""
    name = " ".join(name.split())
    if not name:
        raise AccountLookupError("give the name of the account to look up")
    cookie, token = str((login or {}).get("cookie", "")), str((login or {}).get("token", ""))
    if platform == "wechat" and not (cookie and token):
        raise AccountLookupError("looking up a WeChat account needs a backend login (cookie and "
                                 "token): log in with `weidang login NAME wechat` and give "
                                 "--credentials NAME")
    url = search_url(platform, name, token)
    try:
        answer = plain_request.get(url, {"Cookie": cookie} if cookie else {}, proxy, proxy_ca, timeout)
    except (OSError, ValueError) as exc:
        raise AccountLookupError(f"{platform} could not be reached to look up {name} "
                                 f"({type(exc).__name__})") from None
    if answer.status in THROTTLED:
        raise AccountLookupError(f"{platform} refuses requests from this machine for now (HTTP "
                                 f"{answer.status}); try again in a few hours")
    if answer.status != 200:
        raise AccountLookupError(f"{platform} answered the account search with HTTP {answer.status}")
    try:
        return parse_candidates(platform, answer.body, url.split("?", 1)[0])
    except HarvestError as exc:
        raise AccountLookupError(str(exc)) from None
