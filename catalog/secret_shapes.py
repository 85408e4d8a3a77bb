"""What a secret looks like inside text the catalog keeps: refused in notes, scrubbed from messages.

The crawler replaces the secrets it knows by value (credentials, tokens obtained during a run);
this module is the second line: it recognises secrets by their shape, so that an append-only
table (account events, runs, pauses, catalog events) never receives one, whoever wrote the text.
Shapes are chosen so that what archivists write (addresses, article links, post ids, digests)
does not match: a run of characters preceded by ``/``, ``=`` or ``.`` is part of a link.
"""

from __future__ import annotations

import re

REDACTED = "REDACTED"

# Labels whose value is a secret: login fields, cookie names of the platforms' sessions.
_WORD_LABELS = ("access_token", "appsecret", "app_secret", "secret", "secret_key", "api_key",
                "apikey", "token", "pass_ticket", "password", "passwd", "cookie", "slave_sid",
                "data_ticket", "rand_info", "sessionid", "session_id", "authorization")
_COOKIE_LABELS = ("SUB", "SUBP", "SCF", "SSOLoginState", "ALC")  # Weibo's, as they are spelled
_SEP = r"[\"']?\s*[=:\uff1a]\s*[\"']?"  # = or : (also the full-width ：) and optional quotes
_VALUE = r"([^\s;&,\"'<>()\[\]{}\uff0c\u3002]{6,})"
_LABELLED = (
    re.compile(rf"(?i)(?<![A-Za-z0-9])({'|'.join(_WORD_LABELS)}){_SEP}{_VALUE}"),
    re.compile(rf"(?<![A-Za-z0-9])({'|'.join(_COOKIE_LABELS)}){_SEP}{_VALUE}"),
    re.compile(rf"(?i)(?<![A-Za-z0-9])(bearer)\s+{_VALUE}"),
)
_LINK_CHARS = r"0-9A-Za-z/=.%_+\-:?&#"
# Secrets by shape, whatever label (or none) they come with.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a JSON web token", re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"
                                    r"(?:\.[A-Za-z0-9_-]*)?")),
    ("a WeChat API access token", re.compile(r"(?<![A-Za-z0-9_-])\d{2,3}_[A-Za-z0-9_-]{40,}")),
    ("a Weibo SUB cookie value", re.compile(r"(?<![A-Za-z0-9_-])_2A[A-Za-z0-9_-]{20,}")),
    ("a 32-character hexadecimal key (an AppSecret)",
     re.compile(r"(?<![0-9A-Za-z=/_.%-])(?=[0-9]*[a-fA-F])(?=[a-fA-F]*[0-9])[0-9a-fA-F]{32}"
                r"(?![0-9A-Za-z_-])")),
    ("a long random token", re.compile(rf"(?<![{_LINK_CHARS}])[A-Za-z0-9_+/-]{{32,}}={{0,2}}")),
)


def _random_enough(run: str) -> bool:
    """Mixed upper case, lower case and digits: a key or session id, not a word or a number."""
    return (sum(c.isupper() for c in run) >= 3 and sum(c.islower() for c in run) >= 3
            and sum(c.isdigit() for c in run) >= 3)


def find_secret(text: str) -> str | None:
    """What secret ``text`` seems to hold, in words for the archivist; None when it holds none."""
    for pattern in _LABELLED:
        for match in pattern.finditer(text):
            if match.group(2) != REDACTED:
                return f"a {match.group(1)} value"
    for what, pattern in _SHAPES:
        for match in pattern.finditer(text):
            if what != "a long random token" or _random_enough(match.group(0)):
                return what
    return None


def scrub_secrets(text: str) -> str:
    """``text`` with every secret-shaped value replaced by REDACTED (labels kept, for the reader)."""
    if not text:
        return text
    for pattern in _LABELLED:
        text = pattern.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)] + REDACTED, text)
    for what, pattern in _SHAPES:
        if what == "a long random token":
            text = pattern.sub(lambda m: REDACTED if _random_enough(m.group(0)) else m.group(0), text)
        else:
            text = pattern.sub(REDACTED, text)
    return text
