"""The fixity manifest: every closed WARC file with its size, SHA-256, SM3 and closing time.

JSON lines, one per file, append-only in content: a new line is added by writing a complete new
copy and renaming it over the old one, so a reader never sees half a line and a crash leaves
either the old manifest or the new one. Because lines are only ever added, a seal can fix the
first N lines by their digest and later verification can prove they are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from warc_store.errors import StoreError
from warc_store.lines import replace_whole


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    size: int
    sha256: str
    sm3: str
    closed_at: str  # ISO 8601, UTC
    records: int

    def to_line(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


class Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read_bytes(self) -> bytes:
        return self.path.read_bytes() if self.path.exists() else b""

    def entries(self) -> list[ManifestEntry]:
        """All entries, in the order they were added; raises StoreError on a damaged line."""
        out = []
        for number, line in enumerate(self.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(ManifestEntry(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise StoreError(f"line {number} of the fixity manifest {self.path} is damaged") from exc
        return out

    def add(self, entry: ManifestEntry) -> None:
        """Append one entry in one atomic write; call under the collection lock."""
        replace_whole(self.path, [self.read_bytes(), entry.to_line()])

    def prefix_digest(self, lines: int) -> str:
        """SHA-256 of the first ``lines`` lines, as they are stored."""
        kept = self.read_bytes().splitlines(keepends=True)[:lines]
        return hashlib.sha256(b"".join(kept)).hexdigest()

    def line_count(self) -> int:
        return len(self.read_bytes().splitlines())
