"""What makes an account's fields acceptable: names, credentials references, sources, schedules.

Each message names the field, the value and what would be accepted, in one sentence.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from catalog.errors import N_, InvalidAccount
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
    """``platform:id``, or an address archivists copy from a browser (``account_address``), ->
    (platform, id); or InvalidAccount saying what is wrong."""
    raw = (text or "").strip()
    if raw.lower().startswith(("http://", "https://")) or raw.lower().startswith(_ADDRESS_HOSTS):
        return account_address(raw)
    platform, sep, account_id = raw.partition(":")
    platform = platform.strip().lower()
    account_id = account_id.strip()
    if not sep or not account_id:
        raise InvalidAccount.told(N_("%(raw)s is not an account name; write platform:id, e.g. "
                                     "weibo:1669879400 or wechat:MzAxMzgxNzUxOA==, or paste the "
                                     "profile address"), raw=repr(raw))
    if platform not in PLATFORMS:
        raise InvalidAccount.told(N_("%(platform)s in %(raw)s is not a platform weidang harvests; "
                                     "use weibo or wechat"), platform=repr(platform), raw=repr(raw))
    if not _valid_id(platform, account_id):
        template = (N_("%(id)s is not a valid weibo account id: a Weibo uid is digits only, e.g. "
                       "weibo:1669879400") if platform == "weibo" else
                    N_("%(id)s is not a valid wechat account id: a WeChat account is its __biz "
                       "(e.g. wechat:MzAxMzgxNzUxOA==) or its gh_ user name (e.g. wechat:gh_6bab8b88e75e)"))
        raise InvalidAccount.told(template, id=repr(account_id))
    return platform, account_id


_ADDRESS_HOSTS = ("weibo.com/", "www.weibo.com/", "m.weibo.cn/", "mp.weixin.qq.com/")
_WEIBO_HOSTS = {"weibo.com", "www.weibo.com", "m.weibo.cn"}
# /u/UID (both sites), /profile/UID (m.weibo.cn), and a bare /UID (weibo.com's short form).
_WEIBO_PATH = re.compile(r"/(?:u/|profile/)?([1-9][0-9]{4,15})/?")


def account_address(address: str) -> tuple[str, str]:
    """The account an address names: a Weibo profile (``https://weibo.com/u/UID``,
    ``https://m.weibo.cn/u/UID``, ``…/profile/UID``) or a WeChat article whose address carries
    its account's ``__biz`` (``https://mp.weixin.qq.com/s?__biz=…``). Short article addresses
    (``/s/AbCd…``) do not say whose they are, so they are refused with what to give instead."""
    raw = address.strip()
    parts = urlsplit(raw if "://" in raw else "https://" + raw)
    host = (parts.hostname or "").lower()
    if host in _WEIBO_HOSTS:
        match = _WEIBO_PATH.fullmatch(parts.path)
        uid = match.group(1) if match else parse_qs(parts.query).get("uid", [""])[0]
        if uid and _WEIBO_UID.fullmatch(uid):
            return "weibo", uid
        raise InvalidAccount.told(N_("%(address)s is not a Weibo profile address; copy it from the "
                                     "account's home page, e.g. https://weibo.com/u/1669879400"),
                                  address=raw)
    if host == "mp.weixin.qq.com":
        biz = parse_qs(parts.query).get("__biz", [""])[0]
        if biz and _valid_id("wechat", biz):
            return "wechat", biz
        raise InvalidAccount.told(N_("%(address)s does not say which account wrote the article; "
                                     "open the article, copy its long address (with __biz=) from "
                                     "the browser, or give wechat:__biz"), address=raw)
    raise InvalidAccount.told(N_("%(address)s is not a Weibo or WeChat address weidang knows; give "
                                 "a profile address (https://weibo.com/u/…, https://m.weibo.cn/u/…), "
                                 "a WeChat article address or platform:id"), address=raw)


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
        raise InvalidAccount.told(N_("%(source)s is not a %(platform)s listing source; use one of "
                                     "%(sources)s"), source=repr(source), platform=platform,
                                  sources=", ".join(sources))
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
        raise InvalidAccount.told(N_("%(value)s is not a credentials name; use letters, digits, _ "
                                     "or -, starting with a letter, e.g. gov_weibo_login"),
                                  value=repr(value))
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


def check_switch(field: str, value: object, default: bool = True) -> bool:
    """A switch such as ``browser``: on/off (true/false, yes/no, 1/0, 开/关); empty is
    ``default`` (an account list's empty cell: browser on, comments off)."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower() or ("on" if default else "off")
    if text in _ON or text in _OFF:
        return text in _ON
    raise InvalidAccount(f"{field} {value!r} is neither on nor off; write on or off")


def parse_duration(field: str, value: object) -> int | None:
    """Seconds from 3600, "3600", "90s", "30m", "6h" or "1d"; empty means not set."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _not_a_duration(field, value)
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    else:
        match = _DURATION.fullmatch(str(value))
        if not match:
            raise _not_a_duration(field, value)
        digits = match.group(1).lstrip("0") or "0"
        # Past 15 digits it is too long anyway; int() of thousands of digits would refuse to work.
        seconds = int(digits[:16]) * _UNIT[match.group(2).lower()]
    return check_seconds(field, seconds, value)


def _not_a_duration(field: str, value: object) -> InvalidAccount:
    return InvalidAccount.told(N_("%(field)s %(value)s is not a duration; write seconds or e.g. 30m, "
                                  "6h, 1d"), field=field, value=repr(value))


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
        raise InvalidAccount.told(N_("cron %(value)s is not a crontab expression; write five fields "
                                     "(minute hour day month weekday), e.g. '30 6 * * *' for 06:30 "
                                     "every day"), value=repr(value))
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(" ".join(fields), timezone=SHANGHAI)
    except ValueError as exc:
        raise InvalidAccount(f"cron {value!r} cannot be used: {exc}") from exc
    return " ".join(fields)


# Schedules as archivists say them: 每天, 每6小时, 每30分钟, 每2天, 每天 06:30, 每周一 06:30, 工作日 08:00.
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10, "十二": 12}
_CN_UNITS = {"分钟": 60, "分": 60, "小时": 3600, "个小时": 3600, "时": 3600, "天": 86400, "日": 86400}
_WEEKDAYS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "日": "0", "天": "0"}
_EVERY = re.compile(r"每\s*(\d+|十二|[一二两三四五六七八九十])?\s*(分钟|分|个小时|小时|时|天|日)")
_AT = re.compile(r"(?:每天|每日|每周([一二三四五六日天])|工作日)\s*(\d{1,2})[:：](\d{2})")


def schedule_words(text: str) -> dict[str, Any]:
    """A schedule said in Chinese as the ``interval`` (seconds) or ``cron`` field it means;
    InvalidAccount naming the forms understood when it is none of them."""
    value = re.sub(r"\s+", " ", (text or "").strip())
    every = _EVERY.fullmatch(value)
    if every:
        count, unit = every.group(1), every.group(2)
        number = 1 if count is None else int(count) if count.isdigit() else _CN_DIGITS[count]
        return {"interval": check_seconds("interval", number * _CN_UNITS[unit], value)}
    at = _AT.fullmatch(value)
    if at:
        hour, minute = int(at.group(2)), int(at.group(3))
        if hour < 24 and minute < 60:
            day = "1-5" if value.startswith("工作日") else _WEEKDAYS[at.group(1)] if at.group(1) else "*"
            return {"cron": f"{minute} {hour} * * {day}"}
    if value.startswith("每周") and value[2:] in _WEEKDAYS:  # 每周一: at midnight that day
        return {"cron": f"0 0 * * {_WEEKDAYS[value[2:]]}"}
    raise InvalidAccount.told(N_("%(value)s is not a schedule weidang understands; write e.g. 每天, "
                                 "每6小时, 每30分钟, 每天 06:30, 每周一 06:30 or 工作日 08:00"),
                              value=repr(value))
