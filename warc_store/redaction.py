"""Keep logins out of the archive: redact secrets from records before their digests are computed.

A redacted record carries a ``WARC-Weidang-Redaction`` header naming what was changed, so an
auditor knows exactly which bytes differ from what crossed the wire.
"""

from __future__ import annotations

import functools
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

REDACTED = "REDACTED"
REDACTION_HEADER = "WARC-Weidang-Redaction"
DEFAULT_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie")
DEFAULT_PARAMS = ("access_token", "appsecret", "key", "pass_ticket", "secret", "token", "uin")
# Bodies that may carry secrets in text form; pictures and video are left as they arrived.
_TEXTUAL = re.compile(rb"json|text|javascript|xml|x-www-form-urlencoded|html", re.I)

Headers = list[tuple[str, str]]


@dataclass
class Redaction:
    """What was redacted in one record, for the record's own header."""

    items: set[str] = field(default_factory=set)

    def note(self, item: str) -> None:
        self.items.add(item)

    def header_value(self) -> str | None:
        return "; ".join(sorted(self.items)) or None


@dataclass(frozen=True)
class RedactionPolicy:
    """Which header values, URL parameters and literal secret values never reach a WARC file.

    ``secret_values`` are the actual credentials this process holds (cookies, tokens, AppSecrets):
    they are replaced wherever they occur, in URLs, headers and textual bodies alike.
    """

    headers: frozenset[str] = frozenset(h.lower() for h in DEFAULT_HEADERS)
    params: frozenset[str] = frozenset(DEFAULT_PARAMS)
    secret_values: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        headers: Iterable[str] = DEFAULT_HEADERS,
        params: Iterable[str] = DEFAULT_PARAMS,
        secret_values: Iterable[str] = (),
    ) -> RedactionPolicy:
        # Longest first, so a secret that contains another is replaced whole.
        values = sorted({v for v in secret_values if v and len(v) >= 4}, key=len, reverse=True)
        return cls(
            frozenset(h.lower() for h in headers),
            frozenset(p.lower() for p in params),
            tuple(values),
        )

    def with_secrets(self, values: Iterable[str]) -> RedactionPolicy:
        return RedactionPolicy.build(self.headers, self.params, [*self.secret_values, *values])

    def scrub(self, text: str) -> str:
        """A message with every secret value and secret URL parameter replaced, as records have them."""
        return self._param_text(self._literal(text, Redaction()), Redaction())

    # -- URLs -----------------------------------------------------------------------------
    def url(self, url: str, note: Redaction) -> str:
        url = self._literal(url, note)
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        if not parts.query:
            return url
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k.lower() in self.params for k, _ in pairs):
            return url
        out = []
        for key, value in pairs:
            if key.lower() in self.params and value:
                note.note(f"param:{key}")
                value = REDACTED
            out.append((key, value))
        return urlunsplit(parts._replace(query=urlencode(out, safe=":/,")))

    def _param_text(self, text: str, note: Redaction) -> str:
        """Secret parameters inside free text (a Location header, a URL inside a JSON body)."""
        if not self.params or not _may_name(text, self.params):
            return text
        pattern = _param_pattern(self.params)

        def repl(m: re.Match[str]) -> str:
            if m.group(3).startswith(REDACTED):
                return m.group(0)
            note.note(f"param:{m.group(2).lower()}")
            return f"{m.group(1)}{m.group(2)}={REDACTED}"

        return pattern.sub(repl, text)

    def _literal(self, text: str, note: Redaction) -> str:
        for secret in self.secret_values:
            if secret in text:
                note.note("secret-value")
                text = text.replace(secret, REDACTED)
        return text

    # -- headers --------------------------------------------------------------------------
    def headers_list(self, headers: Sequence[tuple[str, str]], note: Redaction) -> Headers:
        # one look at all the values first: most header lists hold no secret at all
        scan = self._may_hold("\n".join(value for _, value in headers))
        out: Headers = []
        for name, value in headers:
            if name.lower() in self.headers:
                note.note(f"header:{name.title()}")
                value = _redact_cookie_like(name, value)
            if scan:
                value = self._param_text(self._literal(value, note), note)
            out.append((name, value))
        return out

    def _may_hold(self, text: str) -> bool:
        """Whether ``text`` may hold a secret value or a secret parameter (no false negative)."""
        return (any(map(text.__contains__, self.secret_values))
                or bool(self.params) and _may_name(text, self.params))

    # -- bodies ---------------------------------------------------------------------------
    def body(self, body: bytes, headers: Headers, note: Redaction) -> tuple[bytes, Headers]:
        """Redact a textual body; a compressed textual body is decoded first if it hides a secret.

        Returns the body and the headers (Content-Encoding and Content-Length are adjusted when a
        compressed body had to be decoded to remove a secret).
        """
        ctype = first_header(headers, "content-type").encode("latin-1", "replace")
        if ctype and not _TEXTUAL.search(ctype):
            return body, headers
        encoding = first_header(headers, "content-encoding").lower().strip()
        try:
            plain = _decoded(body, encoding, DECODED_LIMIT)
        except TooLarge:
            note.note("body-too-large-to-decode")
            return self._undecodable(body, encoding, headers, note)
        except (LookupError, ValueError):
            return self._undecodable(body, encoding, headers, note)
        new_body = self._scrubbed(plain, note)
        if new_body is None:
            return body, headers
        if encoding:
            note.note(f"content-encoding:{encoding}-decoded")
            headers = [(n, v) for n, v in headers if n.lower() != "content-encoding"]
        return new_body, _with_length(headers, len(new_body))


    def _undecodable(self, body: bytes, encoding: str, headers: Headers,
                     note: Redaction) -> tuple[bytes, Headers]:
        """A body whose coding is unknown or broken (a corrupt br stream): stored as it arrived,
        and said so, since a secret compressed inside cannot be seen; a secret that occurs in its
        raw bytes (a body not really encoded as labelled) is still replaced, byte for byte."""
        note.note(f"body-not-decoded:{encoding}")
        new_body = self._scrubbed(body, note)
        if new_body is None:
            return body, headers
        return new_body, _with_length(headers, len(new_body))

    def _scrubbed(self, data: bytes, note: Redaction) -> bytes | None:
        """``data`` with every secret value and secret parameter replaced; None when it holds none."""
        if not self._bytes_may_hold(data):  # most bodies: no need to decode them at all
            return None
        text = data.decode("utf-8", "surrogateescape")
        changed = self._param_text(self._literal(text, note), note)
        if changed == text:
            return None
        note.note("body")
        return changed.encode("utf-8", "surrogateescape")


    def _bytes_may_hold(self, data: bytes) -> bool:
        """``_may_hold`` of the text ``data`` decodes to, looked for in the bytes themselves."""
        return (any(map(data.__contains__, _encoded(self.secret_values)))
                or bool(self.params) and _names_before_equals(data, self.params))


@functools.lru_cache(maxsize=16)
def _encoded(values: tuple[str, ...]) -> tuple[bytes, ...]:
    # UTF-8 synchronises: a value occurs in the decoded text only where its bytes occur
    return tuple(v.encode("utf-8", "surrogateescape") for v in values)


def _names_before_equals(data: bytes, params: frozenset[str]) -> bool:
    """Whether some ``=`` in ``data`` follows one of ``params`` (ignoring case as the pattern
    does), so the text may hold ``name=``: a page has a few dozen ``=``, and their ASCII
    neighbourhoods are compared as bytes, the others as text (a letter outside ASCII, the
    Kelvin sign for a K, is taken for an ASCII one there)."""
    names, width, at_end = _name_forms(params)
    for piece in data.split(b"=")[:-1]:
        tail = piece[-width:]
        if tail.isascii():
            if tail.lower().endswith(names):
                return True
        elif at_end.search(tail.decode("utf-8", "surrogateescape")):
            return True
    return False


@functools.lru_cache(maxsize=16)
def _name_forms(params: frozenset[str]) -> tuple[tuple[bytes, ...], int, re.Pattern[str]]:
    """The names as lowercase bytes, how many bytes end a piece that may hold one (four a
    letter in UTF-8), and a pattern matching one at the end of a text, as ``_param_pattern``."""
    names = tuple(p.lower().encode("utf-8") for p in sorted(params))
    at_end = re.compile(rf"(?i)(?:{'|'.join(re.escape(p) for p in sorted(params))})$")
    return names, 4 * max(map(len, params)), at_end


def _with_length(headers: Headers, length: int) -> Headers:
    return [(n, str(length) if n.lower() == "content-length" else v) for n, v in headers]


@functools.lru_cache(maxsize=16)
def _param_pattern(params: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(p) for p in sorted(params))
    # A value ends where a URL would: a closing parenthesis ends a link quoted in a sentence.
    return re.compile(rf"(?i)([?&;]|&amp;|\\u0026)({names})=([^&\s\"'<>()\\]+)")


def _may_name(text: str, params: frozenset[str]) -> bool:
    """Whether ``text`` may hold ``name=`` for one of ``params`` as the pattern matches it
    (ignoring case): a plain search first, three times faster than the pattern on a body that
    has none. Casefolding maps every letter the pattern takes for an ASCII one onto it, except
    the dotted and dotless i, so their traces send the text to the pattern too."""
    return any(map(text.casefold().__contains__, _traces(params)))


@functools.lru_cache(maxsize=16)
def _traces(params: frozenset[str]) -> tuple[str, ...]:
    return (*(f"{p}=" for p in sorted(params)), "\u0131", "\u0307")


def first_header(headers: Sequence[tuple[str, str]], name: str) -> str:
    """The value of the first header called ``name`` (lowercase), or an empty string."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


# A textual body is decoded at most this far (Scrapy's DOWNLOAD_MAXSIZE by default: a larger
# answer never reaches the spider either): a small compressed body that inflates without end (a
# "zip bomb") would otherwise take every byte of memory before the harvest could say anything.
DECODED_LIMIT = 1 << 30


class TooLarge(ValueError):
    """A body decodes to more than the limit."""


def decode_body(body: bytes, encoding: str, limit: int | None = None) -> bytes | None:
    """The body without its content codings (applied in the order listed, so undone backwards);
    None when one is unknown, the body does not decode, or it decodes to more than ``limit``
    bytes (``DECODED_LIMIT``): then it is stored as it arrived, its raw bytes scanned for known
    secrets, and its record says it could not be decoded."""
    try:
        return _decoded(body, encoding, DECODED_LIMIT if limit is None else limit)
    except (LookupError, ValueError):
        return None


def _decoded(body: bytes, encoding: str, limit: int) -> bytes:
    """``decode_body``, raising LookupError for an unknown coding, TooLarge past ``limit`` and
    ValueError for a body that does not decode."""
    for coding in reversed([c.strip() for c in encoding.split(",") if c.strip()]):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise LookupError(coding)
        try:
            body = decoder(body, limit)
        except TooLarge:
            raise
        except (OSError, EOFError, ValueError, zlib.error, brotli.error, zstd.ZstdError) as exc:
            raise ValueError(str(exc)) from exc
    return body


def _bounded(out: bytes, limit: int, before: int = 0) -> bytes:
    """``out``, unless with the ``before`` bytes decoded already it passes ``limit``."""
    if before + len(out) > limit:
        raise TooLarge(f"decodes to more than {limit} bytes")
    return out


def _gunzip(body: bytes, limit: int) -> bytes:
    return _each_member(body, limit, lambda: zlib.decompressobj(zlib.MAX_WBITS | 16))


def _unzstd(body: bytes, limit: int) -> bytes:
    return _each_member(body, limit, zstd.ZstdDecompressor)


def _each_member(body: bytes, limit: int, new: Callable[[], Any]) -> bytes:
    """gzip members or zstd frames one after the other, as gzip.decompress and zstd.decompress
    read them (zero bytes between them skipped, as gzip.decompress does), up to ``limit``."""
    out: list[bytes] = []
    size, data = 0, body
    while data:
        member = new()
        out.append(_bounded(member.decompress(data, limit + 1 - size), limit, size))
        size += len(out[-1])
        if not member.eof:
            raise EOFError("the body ends inside a compressed member")
        data = member.unused_data.lstrip(b"\0")
    return b"".join(out)


def _inflate(body: bytes, limit: int) -> bytes:
    try:
        return _inflate_with(body, limit, zlib.MAX_WBITS)
    except zlib.error:  # raw deflate, as some servers send it
        return _inflate_with(body, limit, -zlib.MAX_WBITS)


def _inflate_with(body: bytes, limit: int, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = _bounded(inflater.decompress(body, limit + 1), limit)
    if not inflater.eof:  # as zlib.decompress: a stream cut short is an error
        raise zlib.error("incomplete or truncated stream")
    return out


def _unbrotli(body: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    out = _bounded(decompressor.process(body, output_buffer_limit=limit + 1), limit)
    if not decompressor.is_finished():  # as brotli.decompress: a stream cut short is an error
        raise brotli.error("the stream ends before its end")
    return out


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "identity": lambda body, _limit: body, "gzip": _gunzip, "x-gzip": _gunzip,
    "deflate": _inflate, "br": _unbrotli, "zstd": _unzstd,
}
# Every content coding a harvest may ask for must be one redaction can see through: the crawler
# asks for exactly these (crawler/settings.py), so no secret hides inside an encoded body.
DECODED_ENCODINGS = ("gzip", "deflate", "br", "zstd")


# Session cookies are long random strings; shorter values (a user name, a uid, a flag) are
# public and occur in pages, where replacing them would falsify the evidence (catalog.credentials
# applies the same rule to the cookies of credentials.toml).
SESSION_VALUE_LENGTH = 16


def session_values(headers: Sequence[tuple[str, str]]) -> list[str]:
    """The values of the cookies a response sets that are long enough to be a session."""
    found = []
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie = value.partition(";")[0].partition("=")[2].strip().strip('"')
            if len(cookie) >= SESSION_VALUE_LENGTH:
                found.append(cookie)
    return found


def _redact_cookie_like(name: str, value: str) -> str:
    """Keep the structure an auditor needs (cookie names, attributes), drop the values."""
    lower = name.lower()
    if lower == "cookie":
        parts = [p.strip() for p in value.split(";") if p.strip()]
        return "; ".join(f"{p.split('=', 1)[0]}={REDACTED}" if "=" in p else REDACTED for p in parts)
    if lower == "set-cookie":
        first, sep, attrs = value.partition(";")
        cookie = first.split("=", 1)[0] + "=" + REDACTED if "=" in first else REDACTED
        return cookie + sep + attrs
    if lower in ("authorization", "proxy-authorization"):
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {REDACTED}".strip()
    return REDACTED
