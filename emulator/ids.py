"""Identifiers shaped like the platforms' own: Weibo mid/bid, picture ids, WeChat biz/sn.

Written here from the platform description (PLATFORM-NOTES 2.1, base62), not shared with the
parsers, so that a mistake on one side shows up as a failing test instead of agreeing with itself.
"""

from __future__ import annotations

import base64
import hashlib

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _encode62(number: int) -> str:
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 62)
        out.append(ALPHABET[rest])
    return "".join(reversed(out))


def mid_to_bid(mid: str | int) -> str:
    """Weibo numeric id to base62 `bid`: 7-digit chunks from the right, 4 characters each."""
    digits = str(mid)
    chunks = []
    while digits:
        chunks.append(digits[-7:])
        digits = digits[:-7]
    chunks.reverse()
    parts = [_encode62(int(chunk)) for chunk in chunks]
    return parts[0] + "".join(part.rjust(4, "0") for part in parts[1:])


def bid_to_mid(bid: str) -> str:
    """Inverse of `mid_to_bid`: 4-character chunks from the right, 7 digits each."""
    chunks = []
    while bid:
        chunks.append(bid[-4:])
        bid = bid[:-4]
    chunks.reverse()
    numbers = [0] * len(chunks)
    for i, chunk in enumerate(chunks):
        for char in chunk:
            numbers[i] = numbers[i] * 62 + ALPHABET.index(char)
    return str(numbers[0]) + "".join(str(n).rjust(7, "0") for n in numbers[1:])


def digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def number(*parts: object) -> int:
    """A stable non-negative integer derived from `parts`."""
    return int.from_bytes(digest(*parts)[:8], "big")


def hex_id(length: int, *parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:length]


def weibo_pid(uid: int | str, *parts: object) -> str:
    """A picture id shaped like `006QZngZgy1grebng32cij31hc0u0hdm` (32 lower-case chars)."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    value = int.from_bytes(digest("pid", uid, *parts), "big")
    chars = []
    for _ in range(24):
        value, rest = divmod(value, 36)
        chars.append(alphabet[rest])
    return f"{int(uid) % 0xFFFFFFFF:08x}"[:8] + "".join(chars)


def wechat_biz(number_text: str) -> str:
    """`__biz` is base64 of a decimal account number, e.g. MzAxMzgxNzUxOA== for 3013817518."""
    return base64.b64encode(number_text.encode()).decode()


def mmbiz_path(kind: str, *parts: object) -> str:
    """An image path on mmbiz.qpic.cn such as `mmbiz_jpg/<76 chars>/0`."""
    raw = base64.b64encode(digest("mmbiz", *parts) + digest("mmbiz2", *parts)).decode()
    token = raw.replace("+", "i").replace("/", "b").replace("=", "")[:76]
    return f"mmbiz_{kind}/{token}"
