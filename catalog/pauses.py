"""What a pause stops, as one type: a platform, a login, or one account.

An egress is what a platform sees a worker as: its outgoing address, and the logins it uses
(``CRAWLER_EGRESS``). On a harvest with an egress, a rate limit or captcha pauses that platform
on that egress only (``egress:NAME:weibo``): workers with other addresses go on.

Everything that sets, looks for or names a pause goes through ``PauseScope``: the crawler maps
a refusal to a scope with ``for_refusal``, the harvest command and the daemon ask
``scopes_for`` which scopes stop an account, and ``weidang status`` and the daemon's alerts
name a scope by ``health``. The catalog stores a scope as its ``label`` (``platform:weibo``,
``login:NAME``, ``weibo:1669879400``); ``parse`` reads a stored label back.

A login is named by its credentials reference. An account harvested without a named login
(a Weibo account read without a cookie, for instance) is its own login: ``login:weibo:ID``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from catalog.account_fields import PLATFORMS, parse_account
from catalog.errors import CatalogError
from harvesters import CaptchaRequired, HarvestProblem, LoginExpired, RateLimited

ScopeKind = Literal["platform", "egress", "login", "account"]
HEALTH: dict[str, str] = {"platform": "rate limited", "egress": "rate limited on an egress",
                          "login": "login expired", "account": "paused"}
# How long a refusal pauses its scope (Weibo's 418 lasts 2-3 hours); None: until cleared, since
# only the archivist can refresh a login.
PAUSE_LENGTH: dict[type[HarvestProblem], timedelta | None] = {
    RateLimited: timedelta(hours=3), CaptchaRequired: timedelta(hours=3), LoginExpired: None}


class ScopeError(CatalogError):
    """Something that cannot be paused."""


@dataclass(frozen=True)
class PauseScope:
    kind: ScopeKind
    name: str  # the platform, the login's reference (or account), or the account ``platform:id``

    @classmethod
    def platform(cls, platform: str) -> PauseScope:
        return cls("platform", platform)

    @classmethod
    def egress(cls, egress: str, platform: str) -> PauseScope:
        """A platform as seen from one egress (one worker's address and logins)."""
        return cls("egress", f"{egress}:{platform}")

    @classmethod
    def login(cls, account: str, credentials: str | None) -> PauseScope:
        """The login an account uses: its credentials reference, else the account itself."""
        return cls("login", credentials or account)

    @classmethod
    def account(cls, account: str) -> PauseScope:
        platform, account_id = parse_account(account)
        return cls("account", f"{platform}:{account_id}")

    @classmethod
    def parse(cls, text: str) -> PauseScope:
        """A stored or typed label back as a scope (old rows included)."""
        kind, _, rest = text.partition(":")
        if kind == "platform" and rest in PLATFORMS:
            return cls.platform(rest)
        egress, _, platform = rest.rpartition(":")
        if kind == "egress" and egress.strip() and platform in PLATFORMS:
            return cls.egress(egress, platform)
        if kind == "login" and rest.strip():
            return cls("login", rest)
        if kind in PLATFORMS:
            return cls.account(text)  # or InvalidAccount, saying what is wrong with the id
        raise ScopeError(f"{text!r} is not something that can be paused; write platform:weibo, "
                         "egress:NAME:weibo, login:NAME (a credentials reference) or an account "
                         "such as weibo:1669879400")

    def label(self) -> str:
        """How the catalog stores the scope and the archivist types it."""
        return self.name if self.kind == "account" else f"{self.kind}:{self.name}"

    @property
    def health(self) -> str:
        """What the pause means for an account it stops, in `weidang status` and alerts."""
        return HEALTH[self.kind]

    def __str__(self) -> str:
        return self.label()


def for_refusal(refusal: Exception, account: str, credentials: str | None,
                egress: str = "") -> PauseScope:
    """What a platform's refusal pauses: an expired login every account using that login, a rate
    limit or captcha (both per address) the platform on this egress, or everywhere without one."""
    if isinstance(refusal, LoginExpired):
        return PauseScope.login(account, credentials)
    platform = parse_account(account)[0]
    return PauseScope.egress(egress, platform) if egress else PauseScope.platform(platform)


def pause_length(refusal: Exception) -> timedelta | None:
    """How long ``refusal`` pauses its scope (None: until the archivist clears it)."""
    return next((length for kind, length in PAUSE_LENGTH.items() if isinstance(refusal, kind)), None)


def scopes_for(account: str, credentials: str | None, egress: str = "") -> tuple[PauseScope, ...]:
    """Every scope whose pause stops ``account``: its platform's (on ``egress`` too, when the
    harvest has one), its login's, its own."""
    platform, _ = parse_account(account)
    on_egress = (PauseScope.egress(egress, platform),) if egress else ()
    return (PauseScope.platform(platform), *on_egress, PauseScope.login(account, credentials),
            PauseScope.account(account))
