"""The language of the request being answered, and its messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request

from weidang import i18n

LANG_COOKIE = "weidang_lang"


def choose_lang(forced: str | None, fallback: str) -> str:
    """``?lang=`` first (a person just chose it), then the cookie that keeps that choice, then
    the server's ``WEIDANG_LANG`` (``forced``), then the browser's Accept-Language, then
    ``fallback`` (from ``LANG``, else Simplified Chinese)."""
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        lang = i18n.normalise_lang(candidate)
        if lang is not None:
            return lang
    if forced is not None:
        return forced
    return i18n.from_accept_language(request.headers.get("Accept-Language")) or fallback


def current() -> str:
    return str(getattr(g, "lang", i18n.DEFAULT_LANG))


def _(message: str, **values: Any) -> str:
    """``message`` in the request's language, with ``%(name)s`` filled from ``values``."""
    text = i18n.gettext(message, current())
    return text % values if values else text


def fixed(lang: str) -> Callable[..., str]:
    """``_`` for work done outside a request (``weidang.web.work``), in the language of the
    person who asked for it."""
    def translate(message: str, **values: Any) -> str:
        text = i18n.gettext(message, lang)
        return text % values if values else text
    return translate


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = i18n.ngettext(singular, plural, n, current())
    return text % {"num": n, **values}


def told(error: BaseException, lang: str | None = None) -> str:
    """An error of a lower layer, in the request's language (or ``lang``) where it has a message
    template or is one of the layers' messages translated for the command line
    (``weidang.errors``)."""
    lang = lang or current()
    if getattr(error, "template", None):
        return i18n.told(error, lang)
    from weidang.errors import translated  # noqa: PLC0415

    return translated(str(error), lang)
