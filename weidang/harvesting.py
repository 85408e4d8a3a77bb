"""The face's way to run harvests: its settings and home turned into the crawler's configuration.

The harvest itself (locks, pauses, credentials, repair, run) is the crawler's
(``crawler.harvest_accounts``); the face adds the search index, which follows the catalog after
any harvest that ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import click

from crawler.browser import BrowserSettings
from crawler.harvest_accounts import AccountOutcome, HarvestConfig, Harvested
from crawler.harvest_accounts import harvest_accounts as crawl_accounts
from crawler.settings import Politeness
from weidang.home import Home
from weidang.i18n import _
from weidang.indexing import index_harvest
from weidang.settings import Settings
from weidang.store import catalog_db, credential_store, redaction_policy, store_config


def utc_now() -> datetime:
    return datetime.now(UTC)


def politeness(settings: Settings) -> Politeness:
    return Politeness(delay=settings["CRAWLER_DELAY_SECONDS"],
                      concurrency_per_host=settings["CRAWLER_CONCURRENCY_PER_HOST"],
                      retries=settings["CRAWLER_RETRIES"],
                      backoff_base=settings["CRAWLER_BACKOFF_SECONDS"],
                      timeout=settings["CRAWLER_TIMEOUT_SECONDS"],
                      give_up=settings["CRAWLER_UNREACHABLE_GIVE_UP_SECONDS"],
                      bind_address=settings["CRAWLER_BIND_ADDRESS"],
                      autothrottle=settings["CRAWLER_DELAY_SECONDS"] > 0)


def harvest_config(home: Home, settings: Settings, demo: bool = False) -> HarvestConfig:
    """In a demo home every WARC file is marked as demo data, whoever starts the harvest (the
    demo itself or the daemon's child processes)."""
    return HarvestConfig(
        politeness=politeness(settings), max_pages=settings["CRAWLER_FULL_MAX_PAGES"],
        recheck_days=settings["CRAWLER_RECHECK_DAYS"], proxy=settings["CRAWLER_PROXY"],
        demo=demo or home.is_demo(),
        collection=home.collection_dir(settings["WARC_STORE_COLLECTION"]), locks=home.root / "locks",
        credentials=credential_store(home, settings), store=store_config(settings),
        redaction=redaction_policy(settings), proxy_ca=settings["CRAWLER_PROXY_CA"],
        login_warn_days=settings["CRAWLER_LOGIN_WARN_DAYS"], browser=browser_settings(settings),
        egress=settings["CRAWLER_EGRESS"], comments_max=settings["CRAWLER_COMMENTS_MAX_PER_POST"])


def browser_settings(settings: Settings) -> BrowserSettings:
    """The browser stage's settings; behind an intercepting proxy (the emulator's) the browser's
    recording proxy checks the platform's TLS with that proxy's CA unless told another."""
    values = {name: settings[name] for name in settings if name.startswith("CRAWLER_")}
    values["CRAWLER_BROWSER_CA_CERTS"] = (settings["CRAWLER_BROWSER_CA_CERTS"]
                                          or settings["CRAWLER_PROXY_CA"])
    return BrowserSettings.from_values(values)


def harvest_accounts(home: Home, settings: Settings, keys: Sequence[str], *, full: bool = False,
                     demo: bool = False, force: bool = False, clock: Callable[[], datetime] = utc_now,
                     progress: Callable[[str, int], None] | None = None) -> list[AccountOutcome]:
    """Harvest registered accounts in this process (once per process: Scrapy's reactor); one
    outcome per account, harvested or skipped. What ran is then made searchable."""
    outcomes = crawl_accounts(keys, harvest_config(home, settings, demo),
                              catalog_db(home, settings, wait=True), clock=clock, full=full,
                              force=force, progress=progress, warn=_warn)
    if any(isinstance(o, Harvested) for o in outcomes):
        index_harvest(home, settings)  # searchable at once; a failure only warns
    return outcomes


def _warn(sentence: str) -> None:
    click.echo(_("Warning: %(notice)s", notice=sentence), err=True)
