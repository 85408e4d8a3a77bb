"""Look an account up by its name, for the command line and the web alike: the home's login (when
one is named) and proxy go to ``crawler.account_search``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from weidang.store import credential_store

if TYPE_CHECKING:
    from harvesters.account_search import Candidate
    from weidang.home import Home
    from weidang.settings import Settings


def look_up(home: Home, settings: Settings, platform: str, name: str, login: str = "") -> list[Candidate]:
    """The accounts ``platform`` offers for ``name``, asked with the login stored under ``login``
    (WeChat needs one; Weibo answers more with one)."""
    from crawler.account_search import find_accounts  # noqa: PLC0415 - the crawler loads when used

    fields = credential_store(home, settings).get(login).fields if login else None
    return find_accounts(platform, name, fields, proxy=settings["CRAWLER_PROXY"],
                         proxy_ca=settings["CRAWLER_PROXY_CA"])
