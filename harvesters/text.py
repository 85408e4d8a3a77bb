"""Plain text out of the platforms' HTML, and the numbers they write as words ("145.5万")."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

# Elements whose end is a line break when read as plain text.
_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "blockquote",
           "tr", "pre", "figure", "figcaption", "ul", "ol", "table"}
# A block boundary: many in a row (nested divs) still make one line break.
_SOFT = "\x00"
_SKIP = {"script", "style", "template", "noscript"}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000, "w": 10_000, "W": 10_000, "k": 1_000, "K": 1_000}
_COUNT = re.compile(r"^([\d,]+(?:\.\d+)?)\s*(万|亿|w|W|k|K)?\+?$")
# Text with nothing an HTML parser would read as markup or refuse: no '<', no '&', no '\r', and
# only characters XML allows (lxml refuses the others, and the text is then read another way).
_PLAIN = re.compile("[\t\n\x20-\x25\x27-\x3b\x3d-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment: block ends become line breaks, runs of spaces shrink.

    Emoticons drawn as ``<img alt="[笑]">`` keep their alt text, as a reader sees them.
    """
    if not html or not html.strip():
        return ""
    if _PLAIN.fullmatch(html):  # no markup: the parser would hand it back as one text (tested)
        return _tidy([_SOFT, html, _SOFT])
    # Loaded here: normalising text (every post record, every command's settings) needs no HTML
    # parser, and lxml takes longer to load than a command like verify takes to start.
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(html.split())
    parts: list[str] = []
    _walk(root, parts)
    return _tidy(parts)


def _tidy(parts: list[str]) -> str:
    joined = re.sub(r"\x00[\s\x00]*", _soft_break, "".join(parts))
    lines = joined.split("\n")
    cleaned = [" ".join(line.replace("\xa0", " ").split()) for line in lines]
    text = "\n".join(cleaned)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _walk(element: etree._Element, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP:
        if element.tail:
            parts.append(element.tail)
        return
    if tag in _BLOCKS and tag != "br":
        parts.append(_SOFT)
    if tag == "img" and element.get("alt"):
        parts.append(element.get("alt", ""))
    if element.text and tag:
        parts.append(element.text)
    for child in element:
        _walk(child, parts)
    if tag == "br":
        parts.append("\n")
    elif tag in _BLOCKS:
        parts.append(_SOFT)
    if element.tail:
        parts.append(element.tail)


def _soft_break(match: re.Match[str]) -> str:
    return "\n" + match[0].replace("\x00", "").replace(" ", "").replace("\t", "")


def normalize_text(text: str) -> str:
    """Text reduced to what a reader would call "the same": NFC, no zero-width marks, one space."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return " ".join(text.split())


def parse_count(value: object) -> int | None:
    """A count as the platforms show it ("145.5万", "1万+", "1亿", "1,566,726", 42) as an int."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    match = _COUNT.match(text)
    if match is None:
        return None
    number = float(match[1].replace(",", ""))
    return int(round(number * _MULTIPLIERS.get(match[2] or "", 1)))
