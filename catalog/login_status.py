"""What weidang knows about the logins it made (`weidang login`), beside credentials.toml.

``HOME/logins.json`` holds, per credentials NAME, the platform, when the login was made, when
it expires (as the platform's cookie says), and the last validity check: no secret, only dates
and states, so it can be shown and logged. A login not listed here (cookies copied into
credentials.toml by hand) is not checked before a harvest; its expiry shows when a harvest is
refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

STATUS_FILE = "logins.json"


@dataclass
class LoginStatus:
    platform: str
    logged_in_at: str  # ISO 8601, UTC
    expires: str | None = None  # ISO 8601, UTC; None: the platform did not say
    checked_at: str | None = None
    state: str = "valid"  # "valid", "expired" or "unknown" (the check could not tell)
    warned_for: str | None = None  # the expiry an alert "expires soon" was sent for


def status_path(credentials_path: Path) -> Path:
    return Path(credentials_path).with_name(STATUS_FILE)


def read_statuses(path: Path) -> dict[str, LoginStatus]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a damaged record only costs the checks; credentials.toml is untouched
    known = {f.name for f in fields(LoginStatus)}
    found: dict[str, LoginStatus] = {}
    for name, entry in data.items() if isinstance(data, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("platform"), str):
            found[name] = LoginStatus(**{k: v for k, v in entry.items() if k in known})
    return found


def write_status(path: Path, name: str, status: LoginStatus) -> None:
    """Record ``name``'s status, keeping the others (replaced in one rename)."""
    path = Path(path)
    statuses = read_statuses(path)
    statuses[name] = status
    text = json.dumps({k: asdict(v) for k, v in sorted(statuses.items())}, ensure_ascii=False, indent=2)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, path)
