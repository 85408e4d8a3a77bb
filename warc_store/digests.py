"""Digests: SHA-256 for records (``sha256:`` + lowercase hex) and SHA-256 + SM3 for whole files.

Record digests use lowercase hex, the convention of the annotated WARC 1.1 specification and of
Browsertrix; ``warcio check`` accepts it because it converts a value longer than base32 from hex.
Whole-file fixity adds SM3 (GB/T 32905), the hash Chinese archival practice asks for.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warc_store import sm3

RECORD_ALGORITHM = "sha256"
FILE_ALGORITHMS = ("sha256", "sm3")
CHUNK = 4 * 1024 * 1024


class HexDigester:
    """Drop-in for warcio's Digester that labels and prints its value as ``sha256:<hex>``."""

    def __init__(self, type_: str = RECORD_ALGORITHM) -> None:
        self.type_ = type_
        self.digester = hashlib.new(type_)

    def update(self, buff: bytes) -> None:
        self.digester.update(buff)

    def __str__(self) -> str:
        return f"{self.type_}:{self.digester.hexdigest()}"


def record_digest(data: bytes) -> str:
    return f"{RECORD_ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class FileFixity:
    size: int
    sha256: str
    sm3: str


def new_sm3() -> sm3.Hasher:
    """An SM3 hash object (libgcrypt's or OpenSSL's, see ``warc_store.sm3``), or StoreError
    naming what is missing."""
    return sm3.new()


def sm3_of_file(path: Path) -> str:
    """The SM3 of a file alone (lowercase hex), for running beside a pass that does the rest."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, new_sm3).hexdigest()


class FileHasher:
    """SHA-256 and SM3 over the same bytes; both hashes release the GIL on large buffers."""

    def __init__(self) -> None:
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._sm3 = new_sm3()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._sha256.update(chunk)
        self._sm3.update(chunk)

    def result(self) -> FileFixity:
        return FileFixity(self.size, self._sha256.hexdigest(), self._sm3.hexdigest())


def hash_stream(fh: BinaryIO) -> FileFixity:
    """One read of the stream; hashing runs in a second thread while the next chunk is read."""
    hasher = FileHasher()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        while chunk := fh.read(CHUNK):
            if pending is not None:
                pending.result()
            pending = pool.submit(hasher.update, chunk)
        if pending is not None:
            pending.result()
    return hasher.result()


def hash_file(path: Path) -> FileFixity:
    with open(path, "rb") as fh:
        return hash_stream(fh)
