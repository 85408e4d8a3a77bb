"""Dates as the platforms write them, turned into timezone-aware datetimes in China time."""

from __future__ import annotations

import datetime as dt
import re

# China's time zone, the one definition every layer uses. China has kept UTC+8 without daylight
# saving since 1991, so a fixed offset is exact and does not depend on the machine's tz database.
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_FULL_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # Tue Jun 08 09:35:04 +0800 2021
_AGO = re.compile(r"^(\d+)\s*(秒|分钟|小时|天)前$")
_TODAY = re.compile(r"^今天\s*(\d{1,2}):(\d{2})$")
_YESTERDAY = re.compile(r"^昨天\s*(?:(\d{1,2}):(\d{2}))?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_FULL_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}
# Weibo opened in 2009: a post dated long before (a year 0001) is a broken answer, not a date.
EARLIEST_YEAR = 2000


class DateError(ValueError):
    """A date string in none of the layouts the platforms use."""


def in_shanghai(moment: dt.datetime) -> dt.datetime:
    """The same instant in China time; a naive datetime is taken to be China time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def from_unix(seconds: int | float | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(float(seconds)), SHANGHAI)


def parse_weibo_date(text: str, captured_at: dt.datetime) -> dt.datetime:
    """Resolve any Weibo date (absolute or relative like 5分钟前 / 昨天 12:00 / 06-14) to a time.

    Relative dates count back from ``captured_at``, the moment the response was received; dates
    without a year take the capture's year, or the year before when that would lie in the future.
    """
    try:
        moment = _resolve(" ".join(text.split()), in_shanghai(captured_at), text)
    except OverflowError:  # a year 0001 with an offset, 99999999天前: beyond what a datetime holds
        raise DateError(f"the date {text!r} lies outside any time Weibo can have meant") from None
    if moment.year < EARLIEST_YEAR:
        raise DateError(f"the date {text!r} lies before Weibo existed")
    return moment


def _resolve(value: str, now: dt.datetime, text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, _FULL_FORMAT).astimezone(SHANGHAI)
    except ValueError:
        pass
    if value == "刚刚":
        return now.replace(microsecond=0)
    if m := _AGO.match(value):
        return (now - dt.timedelta(**{_UNITS[m[2]]: int(m[1])})).replace(microsecond=0)
    if m := _TODAY.match(value):
        return now.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
    if m := _YESTERDAY.match(value):
        day = now - dt.timedelta(days=1)
        hour, minute = (int(m[1]), int(m[2])) if m[1] else (0, 0)
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if m := _MONTH_DAY.match(value):
        hour, minute = (int(m[3]), int(m[4])) if m[3] else (0, 0)
        moment = _make(now.year, int(m[1]), int(m[2]), hour, minute, 0, text)
        return moment if moment <= now else moment.replace(year=now.year - 1)
    if m := _FULL_DAY.match(value):
        hour, minute, second = (int(m[4] or 0), int(m[5] or 0), int(m[6] or 0))
        return _make(int(m[1]), int(m[2]), int(m[3]), hour, minute, second, text)
    raise DateError(f"the date {text!r} is in no layout Weibo is known to use")


def _make(year: int, month: int, day: int, hour: int, minute: int, second: int,
          text: str) -> dt.datetime:
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    except ValueError as exc:
        raise DateError(f"the date {text!r} does not exist ({exc})") from None


def parse_time_option(text: str) -> dt.datetime:
    """An ISO 8601 time from the command line; without an offset it is China time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise DateError(f"{text!r} is not a time like 2021-06-17T16:30:00+08:00") from None
    return in_shanghai(moment)
