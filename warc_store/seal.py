"""Seals: a short value fixing the event chain's head and the manifest, to be kept elsewhere.

Anyone able to write to the collection could rebuild a consistent chain, but not one that still
matches a value already written in a register or on paper. The value names the last event (its
sequence number and hash) and the manifest's first N lines (their SHA-256); since both files only
grow, a later collection must still contain exactly those.

Each seal made by `weidang seal` is also kept in the collection's ``seals/`` folder (the value
and a newline, in ``NAME.seal``), with the time-stamp token a TSA signed over those exact bytes
beside it (``NAME.tsr``) when one was obtained. Verification checks every stored seal against
the collection and every token against its seal; a package takes the folder along.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from warc_store.collection import Collection
from warc_store.errors import StoreError
from warc_store.events import ChainHead
from warc_store.lines import replace_whole
from warc_store.timestamp import Stamp, TimestampError, TrustError, TsaConfig, check_token

PREFIX = "weidang-seal-1"
SEALS = "seals"  # the folder of stored seals and their tokens, in the collection
SEAL_SUFFIX, TOKEN_SUFFIX = ".seal", ".tsr"
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


def seal_bytes(seal: Seal) -> bytes:
    """The bytes a token time-stamps: the value and one newline, as in the stored ``.seal`` file
    (and as ``echo VALUE > FILE`` writes it, for an auditor holding only the value)."""
    return (str(seal) + "\n").encode("ascii")


@dataclass(frozen=True)
class StoredSeal:
    seal_file: Path
    token_file: Path | None  # None: no token was obtained for it

    @property
    def name(self) -> str:
        return f"{SEALS}/{self.seal_file.name}"


def store_seal(collection: Collection, seal: Seal, token: bytes | None = None) -> StoredSeal:
    """Keep ``seal`` (and the TSA's answer over it) in the collection's ``seals/`` folder."""
    folder = collection.root / SEALS
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {folder}: {exc.strerror}") from exc
    base = f"seal-{collection.clock():%Y%m%dT%H%M%SZ}-event{seal.event_seq}"
    stem, n = base, 1
    while (folder / (stem + SEAL_SUFFIX)).exists() or (folder / (stem + TOKEN_SUFFIX)).exists():
        n += 1
        stem = f"{base}-{n}"
    # The seal first: a crash in between leaves a seal without a token (as when the TSA could not
    # be reached), never a token whose seal verify would report as deleted.
    replace_whole(folder / (stem + SEAL_SUFFIX), [seal_bytes(seal)])
    token_file = folder / (stem + TOKEN_SUFFIX) if token is not None else None
    if token_file is not None and token is not None:
        replace_whole(token_file, [token])
    return StoredSeal(folder / (stem + SEAL_SUFFIX), token_file)


def stored_seals(collection: Collection) -> list[StoredSeal]:
    folder = collection.root / SEALS
    if not folder.is_dir():
        return []
    return [StoredSeal(p, p.with_suffix(TOKEN_SUFFIX) if p.with_suffix(TOKEN_SUFFIX).exists() else None)
            for p in sorted(folder.glob("*" + SEAL_SUFFIX))]


def verify_stamp(stored: StoredSeal, tsa: TsaConfig) -> Stamp:
    """Check a stored token against its stored seal (for verify, a transfer check, an audit).
    Raises TimestampError naming the token and what is wrong with it."""
    if stored.token_file is None:
        raise TimestampError(f"{stored.name} has no time-stamp token beside it")
    token_name = f"{SEALS}/{stored.token_file.name}"
    try:
        data, token = stored.seal_file.read_bytes(), stored.token_file.read_bytes()
    except OSError as exc:
        raise TimestampError(f"cannot read {token_name} or its seal: {exc.strerror}") from exc
    try:
        return check_token(data, token, tsa.ca_file)
    except TrustError as exc:
        raise TimestampError(f"the time-stamp token {token_name} could not be checked: {exc}") from exc
    except TimestampError as exc:
        raise TimestampError(f"the time-stamp token {token_name} does not prove its seal "
                             f"{stored.name}: {exc}") from exc


@dataclass
class SealChecks:
    problems: list[str]
    notes: list[str]  # what was proven (time-stamps) and what could not be checked


def check_seals(collection: Collection, seal: Seal | None, tsa: TsaConfig) -> SealChecks:
    """The seal given (if any), every stored seal and every stored token."""
    out = SealChecks(check_seal(collection, seal) if seal is not None else [], [])
    stored = _read_stored(stored_seals(collection), out)
    out.problems += _still_extended(collection, stored)
    stamped: dict[str, Stamp] = {}
    for entry, value in stored:
        if entry.token_file is None:
            continue
        try:
            stamp = verify_stamp(entry, tsa)
        except TimestampError as exc:
            out.problems.append(str(exc))
            continue
        stamped[str(value)] = stamp
        out.notes.append(f"{entry.name} time-stamped {_when(stamp)}")
    folder = collection.root / SEALS
    for token in sorted(folder.glob("*" + TOKEN_SUFFIX)) if folder.is_dir() else []:
        if not token.with_suffix(SEAL_SUFFIX).exists():
            out.problems.append(f"the time-stamp token {SEALS}/{token.name} has no seal beside it "
                                f"({SEALS}/{token.with_suffix(SEAL_SUFFIX).name} was deleted?)")
    if seal is not None:
        given = stamped.get(str(seal))
        out.notes.append(f"this seal was time-stamped {_when(given)}" if given else
                         "no time-stamp token for this seal is stored in the collection")
    if any(not s.signer_checked for s in stamped.values()):
        out.notes.append("who signed the time-stamps was not checked: set WARC_STORE_SEAL_TSA_CA_FILE "
                         "to the certificate of the time-stamping authority's CA")
    return out


def _read_stored(entries: list[StoredSeal], out: SealChecks) -> list[tuple[StoredSeal, Seal]]:
    kept = []
    for entry in entries:
        try:
            data = entry.seal_file.read_bytes()
            seal = Seal.parse(data.decode("ascii"))
        except (OSError, UnicodeDecodeError, StoreError) as exc:
            out.problems.append(f"{entry.name} cannot be read as a seal ({exc})")
            continue
        if data != seal_bytes(seal):  # a token signs the exact bytes: say so plainly, not only later
            out.problems.append(f"{entry.name} is not exactly the seal and one newline (edited?)")
        kept.append((entry, seal))
    return kept


def _still_extended(collection: Collection, stored: list[tuple[StoredSeal, Seal]]) -> list[str]:
    """``check_seal`` for every stored seal, reading the event log and the manifest once (a
    collection sealed daily for years holds thousands of seals)."""
    if not stored:
        return []
    hashes: dict[int, str] = {}
    for event in collection.events.entries():
        if isinstance(event.get("seq"), int):
            hashes.setdefault(event["seq"], str(event.get("hash")))
    lines = collection.manifest.read_bytes().splitlines(keepends=True)
    wanted = {s.manifest_lines for _, s in stored if s.manifest_lines <= len(lines)}
    digests, running = {}, hashlib.sha256()
    for count in range(len(lines) + 1):
        if count in wanted:
            digests[count] = running.hexdigest()
        if count < len(lines):
            running.update(lines[count])
    problems = []
    for entry, seal in stored:
        if seal.event_seq and seal.event_seq not in hashes:
            problems.append(f"{entry.name}: the sealed event {seal.event_seq} is missing from the log")
        elif seal.event_seq and hashes[seal.event_seq] != seal.event_hash:
            problems.append(f"{entry.name}: event {seal.event_seq} is not the event that was sealed")
        if seal.manifest_lines > len(lines):
            problems.append(f"{entry.name}: the manifest has {len(lines)} entries, fewer than the "
                            f"{seal.manifest_lines} sealed")
        elif digests[seal.manifest_lines] != seal.manifest_sha256:
            problems.append(f"{entry.name}: the manifest's first {seal.manifest_lines} entries "
                            "changed since the seal")
    return problems


def _when(stamp: Stamp) -> str:
    return f"at {stamp.time.isoformat()} by {stamp.authority} (token serial {stamp.serial})"
