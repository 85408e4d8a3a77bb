"""Each media address asked once per harvest.

Posts of one account often show the same picture (a banner, a logo, a repost and its original):
the first post to show it asks for it, and every later post showing it in the same harvest waits
for that answer, or takes it if it came already, and names the same record in its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from warc_store import ExchangeRecords


@dataclass
class MediaAnswer:
    records: ExchangeRecords | None  # where the answer lies (None: no answer was stored)
    ok: bool
    error: str = ""


@dataclass
class MediaOnce:
    _answers: dict[str, MediaAnswer] = field(default_factory=dict)
    _waiting: dict[str, list[str]] = field(default_factory=dict)  # url -> posts waiting for it

    def first(self, url: str, key: str) -> bool:
        """True when ``url`` is to be asked now for the post ``key``; otherwise the post waits
        for the answer of the request already made (see ``answered``, ``known``)."""
        if url in self._answers:
            return False
        if url in self._waiting:
            self._waiting[url].append(key)
            return False
        self._waiting[url] = []
        return True

    def known(self, url: str) -> MediaAnswer | None:
        """The answer already in, for a post that showed ``url`` after it came."""
        return self._answers.get(url)

    def answered(self, url: str, answer: MediaAnswer) -> list[str]:
        """The answer to ``url`` came (or failed): the other posts that were waiting for it."""
        self._answers[url] = answer
        return self._waiting.pop(url, [])
