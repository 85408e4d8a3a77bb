"""What makes an account's fields acceptable: names, credentials references, sources, schedules.

Each message names the field, the value and what would be accepted, in one sentence.
"""

from __future__ import annotations

import base64
import binascii
import re

from catalog.errors import InvalidAccount
from catalog.secret_shapes import find_secret
from harvesters.dates import SHANGHAI

# Per platform: what an account id looks like, described for the archivist, and the listing
# sources its harvester knows (harvesters/weibo.py interfaces, harvesters/wechat.py SOURCES).
PLATFORMS: dict[str, dict[str, object]] = {
    "weibo": {
        "id_form": "a Weibo uid is digits only, e.g. weibo:1669879400",
        "sources": ("mobile", "desktop"),
    },
    "wechat": {
        "id_form": "a WeChat account is its __biz (e.g. wechat:MzAxMzgxNzUxOA==) or its gh_ user name "
                   "(e.g. wechat:gh_6bab8b88e75e)",
        "sources": ("api", "backend", "feed", "urls"),
    },
}

_WEIBO_UID = re.compile(r"[1-9][0-9]{4,15}")
_GH_NAME = re.compile(r"gh_[0-9A-Za-z]{6,32}")
_BIZ = re.compile(r"[A-Za-z0-9+/]{4,64}={0,2}")
_REFERENCE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,\-?]+")
_DURATION = re.compile(r"\s*(\d+)\s*([smhd]?)\s*", re.IGNORECASE)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# What the daemon runs: a longer interval is a typo (and beyond what its timers can hold); the
# demo harvests every 5 s, so the shortest is one second. Jitter spreads starts over minutes.
MIN_INTERVAL_SECONDS = 1
MAX_INTERVAL_SECONDS = 366 * 86400
MAX_JITTER_SECONDS = 7 * 86400


def parse_account(text: str) -> tuple[str, str]:
    """``platform:id`` -> (platform, id), or InvalidAccount saying what is wrong."""
    raw = (text or "").strip()
    platform, sep, account_id = raw.partition(":")
    platform = platform.strip().lower()
    account_id = account_id.strip()
    if not sep or not account_id:
        raise InvalidAccount(f"{raw!r} is not an account name; write platform:id, e.g. weibo:1669879400 "
                             "or wechat:MzAxMzgxNzUxOA==")
    if platform not in PLATFORMS:
        raise InvalidAccount(f"{platform!r} in {raw!r} is not a platform weidang harvests; use "
                             + " or ".join(PLATFORMS))
    if not _valid_id(platform, account_id):
        raise InvalidAccount(f"{account_id!r} is not a valid {platform} account id: "
                             f"{PLATFORMS[platform]['id_form']}")
    return platform, account_id


def _valid_id(platform: str, account_id: str) -> bool:
    if platform == "weibo":
        return bool(_WEIBO_UID.fullmatch(account_id))
    if _GH_NAME.fullmatch(account_id):
        return True
    # __biz is base64 of the account's decimal number; anything else is a typo or another id.
    if not _BIZ.fullmatch(account_id) or len(account_id) % 4:
        return False
    try:
        decoded = base64.b64decode(account_id, validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded.isdigit()


def check_source(platform: str, source: str | None) -> str | None:
    if source is None or not str(source).strip():
        return None
    value = str(source).strip().lower()
    sources = PLATFORMS[platform]["sources"]
    assert isinstance(sources, tuple)
    if value not in sources:
        raise InvalidAccount(f"{source!r} is not a {platform} listing source; use one of "
                             + ", ".join(sources))
    return value


def check_credentials_reference(reference: str | None) -> str | None:
    """A credentials reference is a short NAME; refuse anything that looks like the secret itself."""
    if reference is None or not str(reference).strip():
        return None
    value = str(reference).strip()
    if looks_like_secret(value) or len(value) > 64:
        raise InvalidAccount(
            "the credentials value looks like a secret (a cookie, token or key), which must never be "
            "stored in the catalog; put it in HOME/credentials.toml under a [NAME] table and give "
            "--credentials NAME")
    if not _REFERENCE.fullmatch(value):
        raise InvalidAccount(f"{value!r} is not a credentials name; use letters, digits, _ or -, "
                             "starting with a letter, e.g. gov_weibo_login")
    return value


def looks_like_secret(text: str) -> bool:
    """Cookies (name=value pairs), keys and tokens, read strictly: ``text`` should be a short name."""
    return find_secret(text, name=True) is not None


def check_free_text(field: str, text: str | None) -> str:
    """Names and notes are free text (addresses included), so only unmistakable secrets are refused:
    labelled values, cookie pairs, and keys and tokens by their shape (catalog.secret_shapes)."""
    value = "" if text is None else str(text).strip()
    found = find_secret(value)
    if found:
        raise InvalidAccount(
            f"the {field} text looks like it holds a secret ({found}); secrets belong in "
            "HOME/credentials.toml, never in the catalog")
    return value


_ON = {"on", "true", "yes", "1", "开", "是"}
_OFF = {"off", "false", "no", "0", "关", "否"}


def check_switch(field: str, value: object) -> bool:
    """A switch such as ``browser``: on/off (true/false, yes/no, 1/0, 开/关); empty is on, the
    default (an account list's empty cell)."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower() or "on"
    if text in _ON or text in _OFF:
        return text in _ON
    raise InvalidAccount(f"{field} {value!r} is neither on nor off; write on or off")


def parse_duration(field: str, value: object) -> int | None:
    """Seconds from 3600, "3600", "90s", "30m", "6h" or "1d"; empty means not set."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidAccount(f"{field} {value!r} is not a duration; write seconds or e.g. 30m, 6h, 1d")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    else:
        match = _DURATION.fullmatch(str(value))
        if not match:
            raise InvalidAccount(f"{field} {value!r} is not a duration; write seconds or e.g. 30m, 6h, 1d")
        digits = match.group(1).lstrip("0") or "0"
        # Past 15 digits it is too long anyway; int() of thousands of digits would refuse to work.
        seconds = int(digits[:16]) * _UNIT[match.group(2).lower()]
    return check_seconds(field, seconds, value)


def check_seconds(field: str, seconds: int, given: object = None) -> int:
    """An ``interval`` (1 s to 366 days) or ``jitter`` (0 to 7 days) the daemon can run."""
    low, high = ((MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS) if field == "interval"
                 else (0, MAX_JITTER_SECONDS))
    if not low <= seconds <= high:
        shown = repr(given) if given is not None else format_duration(seconds)
        shown = shown if len(shown) <= 40 else shown[:36] + "...'"
        raise InvalidAccount(f"{field} {shown} is too {'long' if seconds > high else 'short'}; give "
                             f"from {format_duration(low) or '0s'} to {format_duration(high)}")
    return seconds


def check_schedule(interval_seconds: int | None, cron: str | None, jitter_seconds: int | None) -> None:
    """Raise InvalidAccount if a schedule read back from the catalog cannot be run (it may have
    been stored by a weidang that did not check it)."""
    if cron:
        check_cron(cron)
    elif interval_seconds is not None:
        check_seconds("interval", interval_seconds)
    if jitter_seconds is not None:
        check_seconds("jitter", jitter_seconds)


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_cron(value: str | None) -> str | None:
    """A five-field crontab expression (minute hour day month weekday), as APScheduler reads it."""
    if value is None or not str(value).strip():
        return None
    fields = str(value).split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise InvalidAccount(f"cron {value!r} is not a crontab expression; write five fields "
                             "(minute hour day month weekday), e.g. '30 6 * * *' for 06:30 every day")
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(" ".join(fields), timezone=SHANGHAI)
    except ValueError as exc:
        raise InvalidAccount(f"cron {value!r} cannot be used: {exc}") from exc
    return " ".join(fields)
