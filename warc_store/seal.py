"""Seals: a short value fixing the event chain's head and the manifest, to be kept elsewhere.

Anyone able to write to the collection could rebuild a consistent chain, but not one that still
matches a value already written in a register or on paper. The value names the last event (its
sequence number and hash) and the manifest's first N lines (their SHA-256); since both files only
grow, a later collection must still contain exactly those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from warc_store.collection import Collection
from warc_store.errors import StoreError
from warc_store.events import ChainHead

PREFIX = "weidang-seal-1"
_FORM = re.compile(rf"^{PREFIX}:(\d+):([0-9a-f]{{64}}):(\d+):([0-9a-f]{{64}})$")


@dataclass(frozen=True)
class Seal:
    event_seq: int
    event_hash: str
    manifest_lines: int
    manifest_sha256: str

    def __str__(self) -> str:
        return (f"{PREFIX}:{self.event_seq}:{self.event_hash}:"
                f"{self.manifest_lines}:{self.manifest_sha256}")

    @classmethod
    def parse(cls, value: str) -> Seal:
        m = _FORM.match(value.strip())
        if not m:
            raise StoreError(
                f"{value.strip()[:40]!r} is not a weidang seal; a seal looks like "
                f"'{PREFIX}:<event number>:<64 hex>:<manifest lines>:<64 hex>' as printed by `weidang seal`")
        return cls(int(m.group(1)), m.group(2), int(m.group(3)), m.group(4))

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.event_seq, self.event_hash)


def make_seal(collection: Collection) -> Seal:
    if not collection.writable():  # a read-only copy: nobody can append meanwhile, and no lock file
        return _current(collection)
    with collection.locked():
        return _current(collection)


def _current(collection: Collection) -> Seal:
    head = collection.events.head()
    lines = collection.manifest.line_count()
    return Seal(head.seq, head.hash, lines, collection.manifest.prefix_digest(lines))


def check_seal(collection: Collection, seal: Seal) -> list[str]:
    """Problems showing the collection no longer extends the sealed state (empty if it does)."""
    problems = []
    for p in collection.events.check(seal.head):
        if "sealed" in p.message:
            problems.append(p.message)
    lines = collection.manifest.line_count()
    if lines < seal.manifest_lines:
        problems.append(f"the manifest has {lines} entries, fewer than the {seal.manifest_lines} sealed")
    elif collection.manifest.prefix_digest(seal.manifest_lines) != seal.manifest_sha256:
        problems.append(f"the manifest's first {seal.manifest_lines} entries changed since the seal")
    return problems
