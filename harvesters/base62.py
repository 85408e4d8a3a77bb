"""Weibo's base62 post ids: the numeric ``mid`` and the short ``bid`` seen in weibo.com URLs.

A bid encodes the mid in chunks: 7 decimal digits per 4 base62 characters, from the right.
"""

from __future__ import annotations

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def _encode(number: int) -> str:
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _decode(text: str) -> int:
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"{text!r} is not a Weibo bid (base62 letters and digits only)")
        number = number * 62 + _INDEX[char]
    return number


def mid_to_bid(mid: str | int) -> str:
    """``4645748019299849`` -> ``Kjc77D1jz``."""
    digits = str(mid)
    if not digits.isdigit():
        raise ValueError(f"{mid!r} is not a numeric Weibo post id")
    chunks = []
    end = len(digits)
    while end > 0:
        start = max(0, end - 7)
        encoded = _encode(int(digits[start:end]))
        chunks.append(encoded if start == 0 else encoded.rjust(4, "0"))
        end = start
    return "".join(reversed(chunks))


def bid_to_mid(bid: str) -> str:
    """``Kjc77D1jz`` -> ``4645748019299849``."""
    if not bid:
        raise ValueError("an empty string is not a Weibo bid")
    chunks = []
    end = len(bid)
    while end > 0:
        start = max(0, end - 4)
        decoded = str(_decode(bid[start:end]))
        chunks.append(decoded if start == 0 else decoded.rjust(7, "0"))
        end = start
    return str(int("".join(reversed(chunks))))
