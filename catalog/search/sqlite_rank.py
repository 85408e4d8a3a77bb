"""BM25 for the embedded index, computed in Python over a capped set of candidates.

FTS5's own ``bm25()`` first counts, for each phrase of the query, every post of the whole index
that holds it (its IDF): a full pass over 80,000 to 750,000 matches for a common word, which
is most of a broad query's time. Here the same formula is computed for the candidates only:

- the phrase frequency of each column is counted in the post's text by a pattern that matches
  exactly where the phrase of index tokens matches (see ``phrase_pattern``), weighted by column;
- the document length comes from FTS5's own column sizes (its ``docsize`` table), the average
  length and the number of posts from its totals record;
- the number of posts holding a phrase is counted exactly up to a cap; beyond it, it is
  estimated from how densely the phrase occurs among the newest posts.

With every phrase under the cap, the scores equal FTS5's ``bm25()`` (a test checks this).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from catalog.search.query import SearchQuery, Term
from catalog.search.text import HAN, folded, segments

K1, B = 1.2, 0.75  # FTS5's bm25 constants

_H = f"[{HAN}]"
_L = rf"[^\W_{HAN}]"  # a letter or digit of a Latin word (as text._SEGMENT reads them)
_SEP = rf"(?:[^\w{HAN}]|_)*"  # what lies between two segments


@lru_cache(maxsize=256)
def phrase_pattern(term_text: str) -> re.Pattern[str] | None:
    """A pattern with one match (a zero-width lookahead) per place the term's phrase matches.

    The index stores each Han run as bigrams plus its last character as a closing token, and
    each Latin word as one token; a query term's last Han run drops the closing token, and a
    lone last Han character matches any token it begins. So, in the normalised text:
    a one-segment Han term matches wherever its characters occur (a lone character: each
    occurrence begins exactly one token); in a term of several segments, the first Han segment
    must end its run, the middle ones must be whole runs, the last must begin its run; Latin
    words are whole words; between segments lies only punctuation or space.
    """
    segs = list(segments(term_text))
    if not segs:
        return None
    if len(segs) == 1 and segs[0].han:
        return re.compile(f"(?={re.escape(segs[0].text)})")
    parts = []
    for i, seg in enumerate(segs):
        lit = re.escape(seg.text)
        if not seg.han:
            parts.append(rf"(?<!{_L}){lit}(?!{_L})" if i == 0 else rf"{lit}(?!{_L})")
        elif i == len(segs) - 1:
            parts.append(lit)
        else:
            parts.append(rf"{lit}(?!{_H})")
    return re.compile("(?=" + _SEP.join(parts) + ")")


def phrase_count(text: str, term: Term) -> int:
    """How many times the term's phrase matches the normalised ``text`` (as FTS5 counts
    instances: overlapping ones too)."""
    plain = plain_needle(term.text)
    if plain is not None:
        return text.count(plain)
    pattern = phrase_pattern(term.text)
    return 0 if pattern is None else sum(1 for _ in pattern.finditer(text))


@lru_cache(maxsize=256)
def plain_needle(term_text: str) -> str | None:
    """The term's one Han run when ``str.count`` counts its matches exactly: a run that cannot
    overlap itself (in 哈哈, two matches of 哈哈哈 overlap, which ``count`` would miss)."""
    segs = list(segments(term_text))
    if len(segs) != 1 or not segs[0].han:
        return None
    run = segs[0].text
    if any(run[:k] == run[-k:] for k in range(1, len(run))):
        return None
    return run


def varints(blob: bytes) -> list[int]:
    """SQLite varints, as FTS5 writes its column sizes and totals."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for n in range(9):
            byte = blob[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


def idf(rows: int, hits: int) -> float:
    value = math.log((rows - hits + 0.5) / (hits + 0.5))
    return value if value > 0 else 1e-6  # as FTS5 does for words in most posts


@dataclass(frozen=True)
class Candidate:
    """A matching post with what its score needs: the texts of the FTS columns and their sizes."""

    rowid: int
    columns: tuple[str, ...]  # title, text, repost_text, comments_text, as stored
    sizes: bytes  # FTS5 docsize blob


class Scorer:
    """bm25 of one query, for any number of candidates."""

    def __init__(self, query: SearchQuery, weights: Sequence[float], idfs: Sequence[float],
                 average_length: float) -> None:
        self.terms = query.terms
        self.weights = weights
        self.idfs = idfs
        self.average_length = average_length or 1.0

    def length_norm(self, sizes: bytes) -> float:
        # One byte per column size below 128: then their sum is the length.
        length = sum(sizes) if max(sizes, default=0) < 0x80 else sum(varints(sizes))
        return K1 * (1 - B + B * length / self.average_length)

    def score_counts(self, sizes: bytes, counts: Sequence[int]) -> float:
        """bm25 from each term's number of matches in each column (term by term, column by
        column), as counted by ``count_sql``."""
        norm = self.length_norm(sizes)
        score, columns = 0.0, len(self.weights)
        for i, term_idf in enumerate(self.idfs):
            freq = sum(w * n for w, n in zip(self.weights, counts[i * columns:], strict=False))
            score += term_idf * (freq * (K1 + 1)) / (freq + norm)
        return score

    def score(self, candidate: Candidate) -> float:
        norm = self.length_norm(candidate.sizes)
        texts = [folded(text) if text else "" for text in candidate.columns]
        score = 0.0
        for term, term_idf in zip(self.terms, self.idfs, strict=True):
            freq = sum(weight * phrase_count(text, term)
                       for weight, text in zip(self.weights, texts, strict=True) if text)
            score += term_idf * (freq * (K1 + 1)) / (freq + norm)
        return score


# Characters whose NFKC form holds a Han ideograph (compatibility and enclosed ideographs,
# radicals): a text holding one may match a Han run where its raw form does not, so it is
# scored from its folded form in Python, not by ``count_sql``.
HAN_FOLDS = re.compile("[\u2e80-\u2fdf\u3038-\u303a\u3190-\u33ff\uf900-\ufaff"
                       "\U0001f200-\U0001f2ff\U0002f800-\U0002fa1f]")


def count_sql(terms: Sequence[Term], columns: Sequence[str]) -> tuple[str, list[object]] | None:
    """SQL counting each term's matches in each column, or None when a term is not one
    plain Han run (see ``plain_needle``): then the texts are scored in Python.

    SQLite counts them in the raw text (bytes before and after removing the run), without
    Python folding a thousand texts; a row whose texts hold a character of ``HAN_FOLDS`` must
    be scored from its folded texts instead.
    """
    needles = [plain_needle(term.text) for term in terms]
    exprs: list[str] = []
    args: list[object] = []
    for needle in needles:
        if needle is None:
            return None
        for col in columns:
            # Bytes, not characters: SQLite knows a value's size without reading it.
            exprs.append(f"(length(CAST({col} AS BLOB)) - "
                         f"length(CAST(replace({col}, ?, '') AS BLOB))) / ?")
            args += [needle, len(needle.encode())]
    return ", ".join(exprs), args
