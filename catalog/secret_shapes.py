"""What a secret looks like inside text the catalog keeps: refused in notes, scrubbed from messages.

The crawler replaces the secrets it knows by value (credentials, tokens obtained during a run);
this module is the second line: it recognises secrets by their shape, so that an append-only
table (account events, runs, pauses, catalog events) never receives one, whoever wrote the text.
Shapes are chosen so that what archivists write (addresses, article links, post ids, digests)
does not match: a run of characters preceded by ``/``, ``=`` or ``.`` is part of a link.
"""

from __future__ import annotations

import functools
import re

REDACTED = "REDACTED"

# Labels whose value is a secret: login fields, cookie names of the platforms' sessions, and the
# secret parameters of the platforms' addresses (``key``, ``uin``).
_WORD_LABELS = ("access_token", "appsecret", "app_secret", "secret", "secret_key", "api_key",
                "apikey", "token", "pass_ticket", "password", "passwd", "cookie", "slave_sid",
                "data_ticket", "rand_info", "sessionid", "session_id", "authorization", "key", "uin")
_COOKIE_LABELS = ("SUB", "SUBP", "SCF", "SSOLoginState", "ALC")  # Weibo's, as they are spelled
_SEP = r"[\"']?\s*[=:\uff1a]\s*[\"']?"  # = or : (also the full-width ：) and optional quotes
_VALUE = r"([^\s;&,\"'<>()\[\]{}\uff0c\u3002]{6,})"
# A label followed by a space only (``slave_sid V4lue…``): words follow labels in sentences too
# ("token 由办公室保管", "password changed"), so the value must look like one: 8 or more ASCII
# token characters with letters and digits.
_SPACED_VALUE = r"(?=[^\s]*[0-9])(?=[^\s]*[A-Za-z])([A-Za-z0-9_+/=%.\-]{8,})(?![A-Za-z0-9_+/=%.\-])"
_LABELLED = (
    re.compile(rf"(?i)(?<![A-Za-z0-9])({'|'.join(_WORD_LABELS)}){_SEP}{_VALUE}"),
    re.compile(rf"(?<![A-Za-z0-9])({'|'.join(_COOKIE_LABELS)}){_SEP}{_VALUE}"),
    re.compile(rf"(?i)(?<![A-Za-z0-9])({'|'.join(_WORD_LABELS)}|bearer)\s+{_SPACED_VALUE}"),
    re.compile(rf"(?<![A-Za-z0-9])({'|'.join(_COOKIE_LABELS)})\s+{_SPACED_VALUE}"),
)
_LINK_CHARS = r"0-9A-Za-z/=.%_+\-:?&#"
_HEX32 = "a 32-character hexadecimal key (an AppSecret)"
_RANDOM = "a long random token"
_COOKIE = "a cookie"
# Secrets by shape, whatever label (or none) they come with.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a JSON web token", re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"
                                    r"(?:\.[A-Za-z0-9_-]*)?")),
    ("a WeChat API access token", re.compile(r"(?<![A-Za-z0-9_-])\d{2,3}_[A-Za-z0-9_-]{40,}")),
    ("a Weibo SUB cookie value", re.compile(r"(?<![A-Za-z0-9_-])_2A[A-Za-z0-9_-]{20,}")),
    (_HEX32, re.compile(r"(?<![0-9A-Za-z=/_.%-])(?=[0-9]*[a-fA-F])(?=[a-fA-F]*[0-9])[0-9a-fA-F]{32}"
                        r"(?![0-9A-Za-z_-])")),
    (_RANDOM, re.compile(rf"(?<![{_LINK_CHARS}])[A-Za-z0-9_+/-]{{32,}}={{0,2}}")),
    # Two name=value pairs joined by ``;``: a Cookie header pasted whole.
    (_COOKIE, re.compile(r"\b\w+=[^;\s()<>\"',]{4,};\s*\w+=[^;\s()<>\"',]{4,}")),
)
_UNMISTAKABLE = 3  # the first shapes above: no code or markup has them by chance
# A 32-hex value labelled as a digest is a checksum (an MD5 an archivist notes), not a key.
_CHECKSUM_LABEL = re.compile(r"(?i)(?:md5|sha-?\d*|hash|checksum|digest|校验值?)\s*[=:\uff1a]?\s*$")
# Only for what should be a short name (a credentials reference): any assignment, any long run
# mixing letters and digits (an appid, a key), which in free text may be an ordinary identifier.
_ASSIGNMENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*=[^\s;,]{8,}")
_TOKENISH = re.compile(r"[A-Za-z0-9+/_\-%.]{24,}")


def _random_enough(run: str) -> bool:
    """Mixed upper case, lower case and digits: a key or session id, not a word or a number."""
    return (sum(c.isupper() for c in run) >= 3 and sum(c.islower() for c in run) >= 3
            and sum(c.isdigit() for c in run) >= 3)


def _is_secret(what: str, match: re.Match[str]) -> bool:
    if what == _RANDOM:
        return _random_enough(match.group(0))
    if what == _COOKIE:
        return any(v != REDACTED for v in re.findall(r"=([^;\s]+)", match.group(0)))
    if what == _HEX32:
        return not _CHECKSUM_LABEL.search(match.string[max(0, match.start() - 16):match.start()])
    return True


def _mixed_key(part: str) -> bool:
    """16+ characters mixing digits and letters with no word shape, like an AppSecret or appid."""
    digits, letters = sum(c.isdigit() for c in part), sum(c.isalpha() for c in part)
    return len(part) >= 16 and digits >= 4 and digits * 8 >= len(part) and letters >= 4


def _name_holds_secret(text: str) -> bool:
    if "=" in text and (";" in text or _ASSIGNMENT.search(text)):
        return True
    if any(sum(c.isdigit() for c in run) >= 4 and sum(c.isalpha() for c in run) >= 4
           for run in _TOKENISH.findall(text)):
        return True
    return any(_mixed_key(part) for part in re.split(r"[_\-\s]+", text))


def find_secret(text: str, *, name: bool = False, markup: bool = False) -> str | None:
    """What secret ``text`` seems to hold, in words for the archivist; None when it holds none.

    ``name=True`` for text that should be a short name (a credentials reference), where any
    assignment or long run of letters and digits is taken for a key. ``markup=True`` for a
    page's HTML, scripts and styles, where ``token = this.token`` is code, ``data:`` pictures
    look random and ``&amp;``-joined links look like cookies: only the unmistakable shapes
    (web tokens, WeChat access tokens, Weibo's SUB value) count there."""
    for pattern in () if markup else _LABELLED:
        for match in pattern.finditer(text):
            if match.group(2) != REDACTED:
                return f"a {match.group(1)} value"
    for what, pattern in _SHAPES[:_UNMISTAKABLE] if markup else _SHAPES:
        if any(_is_secret(what, m) for m in pattern.finditer(text)):
            return what
    if name and _name_holds_secret(text):
        return "a key or login value"
    return None


def scrub_secrets(text: str) -> str:
    """``text`` with every secret-shaped value replaced by REDACTED (labels kept, for the reader)."""
    if not text:
        return text
    for pattern in _LABELLED:
        text = pattern.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)] + REDACTED, text)
    for what, pattern in _SHAPES:
        text = pattern.sub(functools.partial(_scrubbed, what), text)
    return text


def _scrubbed(what: str, match: re.Match[str]) -> str:
    if not _is_secret(what, match):
        return match.group(0)
    if what == _COOKIE:  # keep the cookie names
        return re.sub(r"=[^;\s]+", "=" + REDACTED, match.group(0))  # the shape's values
    return REDACTED
