"""What values a setting accepts: each setting in ``default_settings`` names one of these rules.

A rule says whether a value (already of the setting's type) is allowed and describes, for the
archivist, what would be: "a whole number from 0 to 9". ``weidang.settings`` applies it to every
value from ``weidang.toml``, the environment and ``--set`` the moment the value is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class Rule:
    """Base of the rules; ``describe`` completes "it must be ..."."""

    def allows(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self, kind: type) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Between(Rule):
    """A number from ``low`` to ``high``, both included (NaN and infinity never are)."""

    low: float
    high: float
    unit: str = ""

    def allows(self, value: Any) -> bool:
        return bool(self.low <= value <= self.high)

    def describe(self, kind: type) -> str:
        what = "a whole number" if kind is int else "a number"
        unit = f" of {self.unit}" if self.unit else ""
        text = f"{what}{unit} from {_number(self.low)} to {_number(self.high)}"
        readable = _readable(self.high, self.unit)
        return f"{text} ({readable})" if readable else text


@dataclass(frozen=True)
class OneOf(Rule):
    choices: Sequence[str]

    def allows(self, value: Any) -> bool:
        return value in self.choices

    def describe(self, kind: type) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class Matches(Rule):
    """Text matching ``pattern`` whole (``empty`` allows ""), described by ``what``."""

    pattern: str
    what: str
    empty: bool = False

    def allows(self, value: Any) -> bool:
        return (self.empty and value == "") or re.fullmatch(self.pattern, value) is not None

    def describe(self, kind: type) -> str:
        return self.what + (", or empty" if self.empty else "")


@dataclass(frozen=True)
class FilePath(Rule):
    """A file's path: relative to the home, or absolute; ``empty`` allows "" (none)."""

    empty: bool = False

    def allows(self, value: Any) -> bool:
        if value == "":
            return self.empty
        return "\0" not in value and value.strip() == value and not value.endswith(("/", "\\"))

    def describe(self, kind: type) -> str:
        return "a file's path (relative to the home, or absolute)" + (", or empty" if self.empty else "")


@dataclass(frozen=True)
class Url(Rule):
    """An address with one of ``schemes`` and a host; "" when ``empty``."""

    schemes: Sequence[str]
    empty: bool = True

    def allows(self, value: Any) -> bool:
        if value == "":
            return self.empty
        if any(c.isspace() for c in value):
            return False
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises for a port that is not a number
        except ValueError:  # that, or a broken IPv6 address
            return False
        return parts.scheme in self.schemes and bool(parts.hostname)

    def describe(self, kind: type) -> str:
        schemes = " or ".join(f"{s}://" for s in self.schemes)
        return f"an address beginning with {schemes} and a host" + (", or empty" if self.empty else "")


@dataclass(frozen=True)
class DatabaseUrl(Rule):
    """A SQLAlchemy database URL, or "" for the default."""

    def allows(self, value: Any) -> bool:
        if value == "":
            return True
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except (ArgumentError, ValueError):
            return False
        return True

    def describe(self, kind: type) -> str:
        return "a database address such as sqlite:////srv/weidang/schedules.sqlite, or empty"


@dataclass(frozen=True)
class EachItem(Rule):
    """A list whose every item matches ``pattern``, described by ``what``."""

    pattern: str
    what: str

    def allows(self, value: Any) -> bool:
        return all(re.fullmatch(self.pattern, item) for item in value)

    def describe(self, kind: type) -> str:
        return self.what


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _readable(amount: float, unit: str) -> str:
    """A large bound in words an archivist reads at a glance: 366 days, 1 TiB."""
    sizes = {"seconds": (("days", 86400), ("hours", 3600)),
             "bytes": (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2))}.get(unit, ())
    for name, size in sizes:
        if amount >= size and amount % size == 0:
            count = _number(amount / size)
            return f"{count} {name[:-1] if count == '1' and name.endswith('s') else name}"
    return ""


# Shapes used by several settings.
FILE_NAME_PART = Matches(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
                         "letters, digits, '.', '_' or '-' (no '/' and not starting with '.'), "
                         "at most 64 characters")
FILE_NAME = Matches(r"(?!\.\.?$)[^/\\\0]{1,255}", "a file name without '/' or '\\'")
ENV_NAME = Matches(r"[A-Za-z_][A-Za-z0-9_]{0,127}", "the name of an environment variable "
                   "(letters, digits and '_')")
HEADER_NAMES = EachItem(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}",
                        'a list of HTTP header names, e.g. ["Authorization", "Cookie"]')
PARAM_NAMES = EachItem(r"[^\s&=#?]{1,128}", 'a list of URL parameter names, e.g. ["token", "key"]')
ES_INDEX_NAME = Matches(r"[a-z0-9][a-z0-9._-]{0,200}",
                        "lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
