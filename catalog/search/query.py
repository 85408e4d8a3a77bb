"""What the researcher typed, parsed once so that every backend gives it the same meaning.

Rules: terms are separated by whitespace and all must match (AND). Each term matches as a
phrase: its characters must appear contiguously (疫情防控 does not match 疫情…防控). Double quotes
make one phrase of several words (``"疫情 防控"``, where the space stands for any punctuation or
space between the two). Latin letters and digits match whole words, ignoring case and
full-width forms. A single Han character (档) matches every post containing it. An empty query
matches every post that the filters allow, newest first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from catalog.search.document import STATUSES
from catalog.search.errors import QueryError
from catalog.search.text import has_lone_han, phrase_tokens, segments

_TERM = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """One phrase of the query; ``tokens`` are its index tokens (CJK bigrams and words)."""

    text: str
    tokens: tuple[str, ...]

    @property
    def prefix_last(self) -> bool:
        """The last token is a lone Han character: it must match as a prefix of a bigram."""
        segs = list(segments(self.text))
        return bool(segs) and segs[-1].han and len(segs[-1].text) == 1

    @property
    def has_lone_han(self) -> bool:
        return has_lone_han(self.text)

    @property
    def needles(self) -> tuple[str, ...]:
        """The Han runs and words of the term, for finding it again in the original text."""
        return tuple(seg.text for seg in segments(self.text))


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        terms = []
        for m in _TERM.finditer(text or ""):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            tokens = tuple(phrase_tokens(raw))
            if tokens:  # a term of punctuation alone constrains nothing
                terms.append(Term(raw.strip(), tokens))
        return cls(tuple(terms))

    @property
    def empty(self) -> bool:
        return not self.terms


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. ``account`` matches the account id or its name exactly; ``accounts``
    matches any of these ``platform:id`` keys (what ``catalog.identity.account_keys`` makes of
    an id or name, linked ids included).

    ``since`` and ``until`` bound the publication time, both inclusive, and must carry a time zone.
    """

    account: str | None = None
    accounts: frozenset[str] | None = None
    platform: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.accounts is not None:
            object.__setattr__(self, "accounts", frozenset(self.accounts))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise QueryError(f"the {name} date must include a time zone, got {value!r}")
        if self.status is not None and self.status not in STATUSES:
            raise QueryError(
                f"status {self.status!r} is unknown; use one of {', '.join(STATUSES)}"
            )
        if self.accounts is not None and not all(":" in key for key in self.accounts):
            raise QueryError("accounts must be given as platform:id")
        if self.since and self.until and self.since > self.until:
            raise QueryError("the since date comes after the until date")


def account_pairs(filters: SearchFilters) -> list[tuple[str, str]]:
    """``(platform, account_id)`` of each key of ``filters.accounts``, in a stable order."""
    pairs = []
    for key in sorted(filters.accounts or ()):
        platform, _, account_id = key.partition(":")
        pairs.append((platform, account_id))
    return pairs
