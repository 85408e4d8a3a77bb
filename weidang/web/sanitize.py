"""Archived HTML made safe to show: captured posts are hostile input.

A post's HTML comes from the platform, and through it from whoever wrote the post. Only plain
text structure survives (paragraphs, line breaks, emphasis, lists, links): no script, no style,
no event handler, no picture (the post's pictures are shown from the archive, not fetched from
the platform), and links only to http(s) addresses, opened without a referrer.
"""

from __future__ import annotations

import nh3
from markupsafe import Markup

TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "i", "li",
        "ol", "p", "pre", "section", "span", "strong", "sub", "sup", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}}
SCHEMES = {"http", "https"}
# Removed with their content: what is inside them is code or styling, never the post's text.
DROPPED = {"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math"}


def clean_html(html: str) -> Markup:
    """``html`` with only harmless text structure left, ready to put in a page."""
    cleaned = nh3.clean(html, tags=TAGS, clean_content_tags=DROPPED, attributes=ATTRIBUTES,
                        url_schemes=SCHEMES, link_rel="noopener noreferrer nofollow",
                        strip_comments=True)
    return Markup(cleaned)  # noqa: S704 - nh3's output is the safe form
