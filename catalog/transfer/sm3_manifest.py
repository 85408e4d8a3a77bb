"""The SM3 manifests of a bag: ``manifest-sm3.txt`` (payload) and ``tagmanifest-sm3.txt`` (tag files).

BagIt (RFC 8493) lets a bag carry manifests for any algorithm, but the ``bagit`` library checks
only those Python's hashlib guarantees, and SM3 (GB/T 32905, what Chinese archival practice asks
for) is not one of them: ``bagit`` leaves these files unread. weidang writes them and checks them
itself (``transfer verify``), in the same line format as the other manifests (hex digest, space,
path relative to the bag, UTF-8).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from warc_store.digests import new_sm3

PAYLOAD = "manifest-sm3.txt"
TAGS = "tagmanifest-sm3.txt"


def sm3_hex(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, new_sm3).hexdigest()


def payload_files(bag: Path) -> list[str]:
    """Every file under ``data/``, as a bag-relative path with ``/``, sorted."""
    return sorted(p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file())


def tag_files(bag: Path) -> list[str]:
    """Every file outside ``data/`` but the tag manifests (which no tag manifest lists)."""
    out = []
    for path in bag.rglob("*"):
        rel = path.relative_to(bag).as_posix()
        if path.is_file() and not rel.startswith("data/") and not path.name.startswith("tagmanifest-"):
            out.append(rel)
    return sorted(out)


def write_manifest(bag: Path, name: str, files: Iterable[str]) -> None:
    lines = [f"{sm3_hex(bag / rel)} {rel}\n" for rel in files]
    (bag / name).write_text("".join(lines), encoding="utf-8")


def write_payload_manifest(bag: Path) -> None:
    write_manifest(bag, PAYLOAD, payload_files(bag))


def write_tag_manifest(bag: Path) -> None:
    """Last of all: it covers every other tag file, the SM3 payload manifest included."""
    write_manifest(bag, TAGS, tag_files(bag))


def read_manifest(path: Path) -> dict[str, str]:
    """path -> digest; raises ValueError naming the line that is not ``DIGEST PATH``."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition(" ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise ValueError(f"line {number} of {path.name} is not 'SM3 digest, space, path'")
        out[rel.strip()] = digest.lower()
    return out
