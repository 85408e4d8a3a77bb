"""Read a WARC file once, member by member, checking every record's digests as it streams.

warcio's ArchiveIterator is the general reader (see reader.py); this scanner exists because
auditors re-check terabytes: it inflates with large reads, hashes in C, and reports each record
by its gzip member's offset and length, resynchronising after a damaged member so that one bad
byte is reported precisely instead of ending the check. Recovery uses it to find where the last
complete record of an interrupted file ends.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

# zlib-ng inflates the same gzip members as zlib, about 1.7 times faster (bench/warc_verify.py).
from zlib_ng import zlib_ng

INFLATE_ERROR = cast("type[Exception]", zlib_ng.error)  # its stub calls the class an instance

READ_SIZE = 1 << 22
GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass
class ScannedRecord:
    offset: int
    length: int = 0
    record_type: str = ""
    record_id: str = ""
    uri: str = ""
    date: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    http_status: int | None = None
    http_mime: str | None = None
    payload_digest: str | None = None
    block_digest: str | None = None
    complete: bool = False
    problems: list[str] = field(default_factory=list)
    warcinfo: dict[str, str] = field(default_factory=dict)  # the fields of a warcinfo record

    @property
    def ok(self) -> bool:
        return self.complete and not self.problems


class _Digest:
    """Checks a ``sha256:<hex>`` (or base32, as warcio writes SHA-1) digest value."""

    def __init__(self, value: str) -> None:
        self.value = value
        algo, _, self.expected = value.partition(":")
        try:
            self.hasher: hashlib._Hash | None = hashlib.new(algo.lower())
        except (ValueError, TypeError):
            self.hasher = None

    def matches(self) -> bool | None:
        if self.hasher is None:
            return None
        raw = self.hasher.digest()
        expected = self.expected.lower()
        if len(expected) == 2 * len(raw):  # hex, as weidang writes
            return expected == raw.hex()
        b32 = base64.b32encode(raw).decode().lower()  # base32, as warcio and Heritrix write
        return expected in (b32, b32.rstrip("="))


class _RecordParser:
    """Consumes one member's inflated bytes; knows where the WARC block and HTTP payload lie."""

    def __init__(self, record: ScannedRecord, check: bool) -> None:
        self.r = record
        self.check = check
        self.head = bytearray()
        self.block_left: int | None = None
        self.block: _Digest | None = None
        self.payload: _Digest | None = None
        self.http_head: bytearray | None = None
        self.trailer = bytearray()
        self.trailer_size = 0
        self.info: bytearray | None = None

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        if self.block_left is None:
            if self.head:  # a header longer than the first inflated piece: rare
                self.head += data
                end = self.head.find(b"\r\n\r\n")
                view = memoryview(bytes(self.head[end + 4:])) if end >= 0 else view
            else:
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    self.head += data
            if end < 0:
                if len(self.head) > 1 << 20:
                    self.r.problems.append("WARC header longer than 1 MiB: not a WARC record")
                    self.block_left = -1
                return
            if self.head:
                self._parse_warc_head(bytes(self.head[:end]))
            else:
                self._parse_warc_head(data[:end])
                view = view[end + 4:]
        if self.block_left is None or self.block_left < 0:
            return
        if self.block_left > 0 and view:
            take = view[: self.block_left]
            view = view[self.block_left:]
            self.block_left -= len(take)
            self._block(take)
        if view:
            self.trailer_size += len(view)
            if len(self.trailer) < 8:  # enough to tell the two CRLF from anything else
                self.trailer += view[:8]

    def _parse_warc_head(self, raw: bytes) -> None:
        lines = raw.decode("utf-8", "replace").split("\r\n")
        if not lines[0].startswith("WARC/"):
            self.r.problems.append(f"not a WARC record (starts with {lines[0][:20]!r})")
            self.block_left = -1
            return
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.r.headers[name.strip().lower()] = value.strip()
        h = self.r.headers
        self.r.record_type = h.get("warc-type", "")
        self.r.record_id = h.get("warc-record-id", "")
        self.r.uri = h.get("warc-target-uri", "")
        self.r.date = h.get("warc-date", "")
        self.r.block_digest = h.get("warc-block-digest")
        self.r.payload_digest = h.get("warc-payload-digest")
        try:
            self.block_left = int(h.get("content-length", ""))
        except ValueError:
            self.r.problems.append("WARC header has no valid Content-Length")
            self.block_left = -1
            return
        if self.check and self.r.block_digest:
            self.block = _Digest(self.r.block_digest)
        if h.get("content-type", "").startswith("application/http"):
            self.http_head = bytearray()
        if self.r.record_type == "warcinfo":
            self.info = bytearray()

    def _block(self, data: memoryview) -> None:
        if self.block is not None and self.block.hasher is not None:
            self.block.hasher.update(data)
        if self.info is not None and len(self.info) < 65536:
            self.info += data
        if self.http_head is not None:
            self.http_head += data[: 65536]
            end = self.http_head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.http_head) >= 65536:
                    self.http_head = None
                return
            consumed_before = len(self.http_head) - min(len(data), 65536)
            payload_start = end + 4 - consumed_before
            self._parse_http_head(bytes(self.http_head[:end]))
            self.http_head = None
            if self.check and self.r.payload_digest and self.r.record_type != "revisit":
                self.payload = _Digest(self.r.payload_digest)
            data = data[payload_start:]
        if self.payload is not None and self.payload.hasher is not None and data:
            self.payload.hasher.update(data)

    def _parse_http_head(self, raw: bytes) -> None:
        lines = raw.decode("latin-1").split("\r\n")
        first = lines[0].split(" ", 2)
        if first[0].startswith("HTTP/") and len(first) > 1 and first[1].isdigit():
            self.r.http_status = int(first[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                self.r.http_mime = value.split(";")[0].strip()

    def finish(self) -> None:
        r = self.r
        if self.block_left is None:
            r.problems.append("record ends inside its WARC header")
            return
        if self.block_left < 0:
            return
        if self.block_left > 0:
            r.problems.append(f"record block is {self.block_left} bytes shorter than its Content-Length")
            return
        if self.trailer_size != 4 or bytes(self.trailer) != b"\r\n\r\n":
            r.problems.append("record does not end with the two CRLF the WARC format requires")
        if self.block is not None:
            match = self.block.matches()
            if match is False:
                r.problems.append(f"block digest does not match ({self.r.block_digest})")
            elif match is None:
                r.problems.append(f"unknown block digest algorithm ({self.r.block_digest})")
        if self.payload is not None and self.payload.matches() is False:
            r.problems.append(f"payload digest does not match ({self.r.payload_digest})")
        if self.r.record_type and not self.r.block_digest and self.check:
            r.problems.append("record has no WARC-Block-Digest")
        if self.info is not None:
            for line in self.info.decode("utf-8", "replace").splitlines():
                name, sep, value = line.partition(":")
                if sep:
                    r.warcinfo[name.strip()] = value.strip()
        r.complete = True


def scan(fh: BinaryIO, on_raw: Callable[[bytes], None] | None = None,
         check: bool = True) -> Iterator[ScannedRecord]:
    """Yield one ScannedRecord per gzip member (or damaged stretch) of a ``.warc.gz`` stream.

    ``on_raw`` receives every byte of the file exactly once, in order (for whole-file fixity).
    Only bytes not yet inflated are kept in memory, so a 1 GB video record costs no more than
    a small one.
    """
    reader = _Reader(fh, on_raw)
    while reader.more():
        start = reader.pos
        if not reader.at_magic():
            skipped = reader.skip_to_magic()
            yield ScannedRecord(offset=start, length=skipped, problems=[
                f"{skipped} bytes that are not a gzip member (damaged or foreign data)"])
            continue
        record = ScannedRecord(offset=start)
        reader.mark()
        parser = _RecordParser(record, check)
        inflater = zlib_ng.decompressobj(zlib_ng.MAX_WBITS | 16)
        # zlib copies the input left over after a member ends (unused_data): small pieces
        # first, so that the many small members do not each copy megabytes; larger ones later
        # for the few large members (pictures, video).
        piece = FIRST_PIECE
        try:
            while not inflater.eof:
                data = reader.take(piece)
                if not data:
                    break
                piece = min(piece * 2, MAX_PIECE)
                out = inflater.decompress(data, INFLATE_LIMIT)
                parser.feed(out)
                while inflater.unconsumed_tail:
                    out = inflater.decompress(inflater.unconsumed_tail, INFLATE_LIMIT)
                    parser.feed(out)
                reader.give_back(len(inflater.unused_data))
        except INFLATE_ERROR as exc:
            record.problems.append(f"gzip member is damaged ({exc})")
            reader.back_to_mark()
            reader.skip_to_magic()
            record.length = reader.pos - start
            yield record
            continue
        record.length = reader.pos - start
        if not inflater.eof:
            record.problems.append("file ends inside this record (truncated)")
        else:
            parser.finish()
        yield record


FIRST_PIECE = 16 << 10
MAX_PIECE = 1 << 20
INFLATE_LIMIT = 4 << 20  # inflated bytes per step: bounds memory for highly compressible data


class _Reader:
    """Bytes of the file not yet consumed, and the file offset of the first of them.

    The unconsumed bytes are ``buf[off:]``; pieces are handed out as views of ``buf``, so that
    no byte is copied on its way to zlib.
    """

    def __init__(self, fh: BinaryIO, on_raw: Callable[[bytes], None] | None) -> None:
        self.fh = fh
        self.on_raw = on_raw
        self.buf = b""
        self.off = 0
        self.pos = 0
        self.eof = False
        # Bytes taken since mark(), so a damaged member can be searched again for the next
        # header; kept only for members up to HISTORY_LIMIT (larger ones resync where they stop).
        self.history: list[memoryview] | None = None
        self.history_size = 0
        self.mark_pos = 0

    HISTORY_LIMIT = 64 << 20

    def mark(self) -> None:
        self.history, self.history_size, self.mark_pos = [], 0, self.pos

    def back_to_mark(self) -> None:
        if self.history is None:
            return
        self.buf = b"".join(self.history) + self.buf[self.off:]
        self.off = 0
        self.pos = self.mark_pos
        self.history = None

    def _left(self) -> int:
        return len(self.buf) - self.off

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        if self.on_raw is not None:
            self.on_raw(chunk)
        # what is left is at most a few bytes (a gzip magic being looked for) or nothing
        self.buf = self.buf[self.off:] + chunk if self._left() else chunk
        self.off = 0
        return True

    def more(self) -> bool:
        return self._left() > 0 or self._fill()

    def at_magic(self) -> bool:
        while self._left() < 3 and self._fill():
            pass
        return self.buf.startswith(GZIP_MAGIC, self.off)

    def take(self, size: int) -> memoryview:
        """Hand over up to ``size`` pending bytes (reading more if none); they count as consumed."""
        if not self._left() and not self._fill():
            return memoryview(b"")
        data = memoryview(self.buf)[self.off:self.off + size]
        self.off += len(data)
        self.pos += len(data)
        if self.history is not None:
            self.history_size += len(data)
            if self.history_size > self.HISTORY_LIMIT:
                self.history = None
            else:
                self.history.append(data)
        return data

    def give_back(self, unused: int) -> None:
        """The last ``unused`` bytes of the piece just taken were not consumed after all."""
        if unused:
            self.off -= unused
            self.pos -= unused
            if self.history is not None:
                self.history_size -= unused
                last = self.history[-1]
                self.history[-1] = last[: len(last) - unused]

    def skip_to_magic(self) -> int:
        """Drop bytes up to the next gzip header (not the one at the current position)."""
        skipped = 0
        search_from = 1
        while True:
            found = self.buf.find(GZIP_MAGIC, self.off + search_from)
            if found >= 0:
                skipped += found - self.off
                self.pos += found - self.off
                self.off = found
                return skipped
            drop = max(self._left() - 2, 0)  # the last two bytes may begin a magic
            skipped += drop
            self.pos += drop
            self.off += drop
            search_from = 0 if drop else search_from
            if not self._fill():
                skipped += self._left()
                self.pos += self._left()
                self.off = len(self.buf)
                return skipped
