"""Small, valid, deterministic media files: the same URL always yields the same bytes.

No imaging library is needed: the JPEG is a flat grey baseline image written by hand (one DC
code per 8x8 block), the PNG a flat colour image, the GIF a 1x1 image, the video an ISO-BMFF
file (`ftyp`, `free`, `mdat`). Each carries the name it was made for in a comment, so two
pictures never share bytes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib


def _seed(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> shift) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc = 0
                self.n = 0

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with ones
        return bytes(self.out)


def jpeg(name: str, width: int = 64, height: int = 48) -> bytes:
    """A baseline greyscale JPEG of one flat shade chosen by `name`."""
    level = 40 + _seed(name)[0] % 176
    dc = 8 * (level - 128)  # quantiser 1: the DC coefficient is 8 x the mean sample
    category = abs(dc).bit_length()
    symbols = [0] if category == 0 else [0, category]
    counts = [1, len(symbols) - 1] + [0] * 14
    dht_dc = bytes([0x00]) + bytes(counts) + bytes(symbols)
    dht_ac = bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0x00])
    bits = _Bits()
    blocks = -(-width // 8) * -(-height // 8)
    for block in range(blocks):
        if block == 0 and category:
            bits.put(0b10, 2)
            bits.put(dc if dc > 0 else (dc - 1) & ((1 << category) - 1), category)
        else:
            bits.put(0, 1)  # DC difference 0
        bits.put(0, 1)  # end of block: no AC coefficients
    return b"".join([
        b"\xff\xd8",
        _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xFFFE, f"weidang emulator {name}".encode()),
        _segment(0xFFDB, b"\x00" + b"\x01" * 64),
        _segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _segment(0xFFC4, dht_dc),
        _segment(0xFFC4, dht_ac),
        _segment(0xFFDA, b"\x01\x01\x00\x00\x3f\x00"),
        bits.flush(),
        b"\xff\xd9",
    ])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(name: str, width: int = 64, height: int = 48) -> bytes:
    """An RGB PNG of one flat colour chosen by `name`."""
    r, g, b = _seed(name)[:3]
    row = b"\x00" + bytes([r, g, b]) * width
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
        _chunk(b"tEXt", b"Comment\x00weidang emulator " + name.encode()),
        _chunk(b"IDAT", zlib.compress(row * height, 6)),
        _chunk(b"IEND", b""),
    ])


def gif(name: str) -> bytes:
    """A 1x1 GIF89a whose colour and comment come from `name`."""
    r, g, b = _seed(name)[:3]
    comment = f"weidang emulator {name}".encode()[:255]
    return b"".join([
        b"GIF89a", struct.pack("<HHBBB", 1, 1, 0x80, 0, 0),
        bytes([r, g, b, 255, 255, 255]),
        b"\x21\xfe", bytes([len(comment)]), comment, b"\x00",
        b"\x2c", struct.pack("<HHHHB", 0, 0, 1, 1, 0),
        b"\x02\x02\x44\x01\x00", b"\x3b",
    ])


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) + 8) + kind + payload


def mp4(name: str, size: int = 48 * 1024) -> bytes:
    """An ISO-BMFF file of about `size` bytes: a real `ftyp`, then deterministic payload."""
    seed = _seed(name)
    block = hashlib.sha512(seed).digest() * 16
    payload = (block * (size // len(block) + 1))[:max(size - 64, 0)]
    return (_box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
            + _box(b"free", f"weidang emulator {name}".encode()[:200])
            + _box(b"mdat", payload))


def picture(name: str, extension: str, width: int = 64, height: int = 48) -> tuple[bytes, str]:
    """Bytes and Content-Type for a picture named by a platform path or id."""
    extension = extension.lower().lstrip(".")
    if extension == "gif":
        return gif(name), "image/gif"
    if extension == "png":
        return png(name, width, height), "image/png"
    return jpeg(name, width, height), "image/jpeg"
