"""Cut a snippet of the ORIGINAL text around the query's matches, with highlight spans.

The index stores bigrams, not text; matches are found again in the original text by the same
rules (a term's Han runs and words in order, separated by nothing but punctuation or space), on
the normalised text, which has one character per original character so offsets carry over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from catalog.search.document import IndexedPost, SearchHit
from catalog.search.query import SearchQuery
from catalog.search.text import HAN, normalise, segments

SNIPPET_CHARS = 80  # characters of context; about two lines of Chinese in a terminal
_BEFORE = 20  # characters shown before the first match
_WORD_CHAR = rf"[^\W_{HAN}]"
_WHITESPACE = re.compile(r"\s")


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str] | None:
    parts = []
    for seg in segments(term):
        lit = re.escape(seg.text)
        parts.append(lit if seg.han else rf"(?<!{_WORD_CHAR}){lit}(?!{_WORD_CHAR})")
    return re.compile(r"[\W_]*".join(parts)) if parts else None


def match_spans(text: str, query: SearchQuery) -> list[tuple[int, int]]:
    """Character spans of ``text`` where a term of the query matches, sorted, merged."""
    folded = normalise(text)
    spans = []
    for term in query.terms:
        pattern = _pattern(term.text)
        if pattern is not None:
            spans += [m.span() for m in pattern.finditer(folded) if m.end() > m.start()]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    fields: Sequence[str], query: SearchQuery, size: int = SNIPPET_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet from the first field with a match (else the first non-empty one) and its spans."""
    chosen, spans = next((f for f in fields if f), ""), []
    for text in fields:
        found = match_spans(text, query) if text else []
        if found:
            chosen, spans = text, found
            break
    start = max(0, spans[0][0] - _BEFORE) if spans else 0
    if spans and len(chosen) - start < size:  # near the end: show more before, fill the window
        start = max(0, len(chosen) - size)
    end = min(len(chosen), start + size)
    body = _WHITESPACE.sub(" ", chosen[start:end])
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(chosen) else ""
    shift = len(lead) - start
    kept = tuple(
        (max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end and e > start
    )
    return lead + body + tail, kept


def snippet_hit(post: IndexedPost, score: float, query: SearchQuery) -> SearchHit:
    """``post`` as a hit, its snippet cut from its own text (the text, the repost, the title,
    the comments: the first with a match)."""
    snippet, spans = make_snippet((post.text, post.repost_text, post.title, post.comments_text),
                                  query)
    return SearchHit.from_post(post, score, snippet, spans)
