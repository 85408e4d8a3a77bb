"""Chinese-aware tokens: CJK bigrams with positions, shared by indexing, querying and snippets.

Han characters have no spaces between words, so every run of Han characters is cut into
overlapping bigrams (档案管理 -> 档案 案管 管理). A phrase of consecutive bigrams then matches
exactly the posts that contain the characters contiguously, whatever the word boundaries.

Each run of two or more Han characters also ends with its last character as a single token
(档案管理 -> 档案 案管 管理 理). That token does two jobs: it lets a one-character query find
characters at the end of a run (a prefix query on ``理*`` finds 理 and every bigram starting
with it), and it keeps two runs separated by punctuation from joining into a false phrase
(案管。管理 never matches 案管管理, whose bigram 管管 is absent, nor 案管理, since the
boundary token sits between 案管 and 管理). Latin letters and digits form lower-cased words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from operator import add

# CJK Unified Ideographs, extension A, compatibility ideographs, and the supplementary planes.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SEGMENT = re.compile(rf"([{HAN}]+)|([^\W_{HAN}]+)")

# Characters whose NFKC form can differ in a way that matters for tokens: anything but ASCII,
# Han ideographs (compatibility ideographs excepted) and punctuation that NFKC turns into other
# punctuation or space. Chinese posts are full of full-width punctuation, which the NFKC pass
# would turn into ASCII punctuation (still separators): the tokens are the same without it.
UNSAFE = re.compile(
    "[^\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002f7ff\U0002fa20-\U0003134f"
    "\u2000-\u206f\u3000-\u3037\u303b-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40"
    "\uff5b-\uff65]"
)

# Bump when the tokens change: a contentless FTS5 index can only delete rows whose tokens are
# recomputed exactly as they were inserted, so an index built by other rules must be rebuilt.
TOKENIZER_VERSION = 1


@dataclass(frozen=True)
class Segment:
    """A run of Han characters or one Latin/digit word, with its place in the normalised text."""

    text: str
    han: bool
    start: int
    end: int


def normalise(text: str) -> str:
    """Fold full-width letters and digits and case, keeping one character per character.

    NFKC may change the length of a few rare characters (ligatures); those are folded one by one
    so offsets found in the normalised text still point at the same characters of the original.
    """
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text):
        return folded
    out = []
    for ch in text:
        f = unicodedata.normalize("NFKC", ch).lower()
        out.append(f if len(f) == 1 else ch.lower()[:1] or ch)
    return "".join(out)


def folded(text: str) -> str:
    """What ``normalise`` makes of ``text``, as far as tokens and phrase matches can tell,
    without its NFKC pass when nothing in the text needs it (that pass costs more than all
    the rest of tokenising a post). Not for offsets: use ``normalise``."""
    if UNSAFE.search(text) is None:
        return text.lower()
    return normalise(text)


def segments(text: str) -> Iterator[Segment]:
    """Han runs and words of ``text`` in order; everything else separates them."""
    for m in _SEGMENT.finditer(normalise(text)):
        yield Segment(m.group(0), m.group(1) is not None, m.start(), m.end())


def _run_tokens(run: str, *, closing: bool) -> list[str]:
    if len(run) == 1:
        return [run]
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    return grams + [run[-1]] if closing else grams


def index_tokens(text: str, words: list[str] | None = None) -> list[str]:
    """Tokens stored for ``text``, in position order (the same as ``_run_tokens`` with
    ``closing=True`` per run, inlined: this runs for every post indexed). ``words``, if given,
    receives every four-character piece of each Han run (see ``index_text_and_words``)."""
    out: list[str] = []
    extend, append = out.extend, out.append
    for run, word in _SEGMENT.findall(folded(text)):
        if run:
            if words is None or len(run) < WORD_CHARS:
                extend(map(add, run, run[1:]))  # the bigrams, built in C
            else:
                pairs = list(map(add, run, run[1:]))
                extend(pairs)
                words.extend(map(add, pairs, pairs[2:]))
            append(run[-1])
        else:
            append(word)
    return out


def index_text(text: str) -> str:
    """The tokens of ``text`` joined by spaces, as FTS5 stores them."""
    return " ".join(index_tokens(text))


WORD_CHARS = 4  # four Han characters: the commonest length of a Chinese term (疫情防控, 档案管理)


def index_text_and_words(text: str) -> tuple[str, str]:
    """``index_text(text)``, and every four-character piece of its Han runs joined by spaces.

    A four-character phrase is three bigrams at consecutive positions, which exist only inside
    one run: exactly the posts whose runs hold the piece. Looking the piece up as one token
    saves reading three lists of positions (see ``catalog.search.tantivy_index``).
    """
    words: list[str] = []
    return " ".join(index_tokens(text, words)), " ".join(words)


def four_han(term: str) -> str | None:
    """The term's text, normalised, when it is one run of exactly four Han characters."""
    segs = list(segments(term))
    if len(segs) == 1 and segs[0].han and len(segs[0].text) == WORD_CHARS:
        return segs[0].text
    return None


def phrase_tokens(term: str) -> list[str]:
    """Tokens of a query phrase: like the indexed ones, but without the last run's closing token.

    The closing token marks where a run ends in the text; the query's last run may end inside
    a longer run of the text (档案 in 档案管理), so it must not require one.
    """
    segs = list(segments(term))
    out: list[str] = []
    for i, seg in enumerate(segs):
        out.extend(_run_tokens(seg.text, closing=i < len(segs) - 1) if seg.han else [seg.text])
    return out


def has_lone_han(term: str) -> bool:
    """True when a query phrase holds a Han run of one character (it needs a prefix match)."""
    return any(seg.han and len(seg.text) == 1 for seg in segments(term))
