"""Before a harvest uses a login weidang made (`weidang login`), one cheap request asks the
platform whether it still works. An expired login pauses every account that uses it, with a
plain reason, instead of letting each harvest fail on it; a login close to its recorded expiry
yields a notice (once per expiry) that the daemon sends as an alert.

Only logins listed in ``HOME/logins.json`` are checked: that record says which platform the
login is for and when it expires. A login copied into credentials.toml by hand is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from catalog.credentials import CredentialStore
from catalog.login_status import LoginStatus, read_statuses, status_path, write_status
from catalog.pauses import PauseScope
from catalog.runs import Pause, RunLog
from crawler.login import check_login
from harvesters.logins import Verdict

ADVICE = ("Log in again with `weidang login {name} {platform}` and scan the QR code; then clear the "
          "pause with `weidang harvest --force` or wait for the next scheduled harvest.")


@dataclass
class LoginGate:
    """One harvest's checks: each login asked once, however many accounts use it."""

    credentials: CredentialStore
    proxy: str = ""
    proxy_ca: str = ""
    warn_days: float = 7.0
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)  # login name -> "expires soon" sentence

    def stop(self, name: str | None, platform: str, account: str, runs: RunLog,
             clock: Callable[[], datetime]) -> Pause | None:
        """The pause of ``name`` if the platform says the login ended; None: go ahead."""
        if not name:
            return None
        path = status_path(self.credentials.path)
        status = read_statuses(path).get(name)
        if status is None or status.platform != platform:
            return None
        now = clock()
        if name not in self.verdicts:
            fields = self.credentials.get(name).fields
            self.verdicts[name] = check_login(platform, fields, self.proxy, self.proxy_ca)
            status = replace(status, checked_at=_iso(now), state=self.verdicts[name])
            status = self._expiry_notice(name, status, now)
            write_status(path, name, status)
        if self.verdicts[name] != "expired":
            return None
        reason = (f"the {platform} login {name} no longer works: the platform answered that it is "
                  "logged out (checked before the harvest)")
        return runs.pause(PauseScope.login(account, name), reason,
                          ADVICE.format(name=name, platform=platform))

    def _expiry_notice(self, name: str, status: LoginStatus, now: datetime) -> LoginStatus:
        if not status.expires or status.state == "expired" or status.warned_for == status.expires:
            return status
        expires = datetime.fromisoformat(status.expires)
        if expires - now > timedelta(days=self.warn_days):
            return status
        self.notices[name] = (f"the {status.platform} login {name} expires on "
                              f"{expires.strftime('%Y-%m-%d %H:%M')} UTC; log in again before then with "
                              f"`weidang login {name} {status.platform}`")
        return replace(status, warned_for=status.expires)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
