"""One message catalog for every face of weidang: the gettext domain ``weidang``.

Messages are written in English in the code (the msgid) and translated in
``weidang/locale/<lang>/LC_MESSAGES/weidang.po``; the compiled ``.mo`` files are committed next
to them (a test checks they match the ``.po``), so an installed or editable weidang needs no build
step. Simplified Chinese is the default; English is the source text itself.

    from weidang.i18n import gettext as _
    _("Search", lang="zh_CN")  # "检索"

The web sets the language per request. The command line chooses one for its whole process
(``--lang``, else ``server_default()``) with ``choose()``; then ``_()`` and ``ngettext()`` speak it.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from harvesters.dates import SHANGHAI

DOMAIN = "weidang"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANG = "zh_CN"
LANGS = ("zh_CN", "en")  # what a person can choose; English is the msgid itself
LANG_NAMES = {"zh_CN": "简体中文", "en": "English"}
_chosen: str | None = None  # the process's language once the command line chose it


def normalise_lang(value: str | None) -> str | None:
    """``zh_CN``, ``en`` from the ways people and browsers write them (``zh-CN``, ``zh_CN.UTF-8``,
    ``zh-Hans``, ``en-US``), or None for a language weidang does not speak."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if code == "zh" or code.startswith(("zh_cn", "zh_hans", "zh_sg")):
        return "zh_CN"
    if code == "en" or code.startswith("en_"):
        return "en"
    return None


def server_default(environ: Mapping[str, str] | None = None) -> str:
    """The language when a person has not chosen: ``WEIDANG_LANG``, else ``LANG``, else Chinese."""
    env = os.environ if environ is None else environ
    for name in ("WEIDANG_LANG", "LANG"):
        lang = normalise_lang(env.get(name))
        if lang is not None:
            return lang
    return DEFAULT_LANG


def from_accept_language(header: str | None) -> str | None:
    """The first language of an ``Accept-Language`` header weidang speaks, by the browser's
    preference (``q``), or None."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = normalise_lang(tag)
        if lang is not None and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def choose(lang: str | None) -> None:
    """Make ``lang`` the language of this process (the command line's ``--lang``); None goes back
    to ``server_default()``, read from the environment at each message."""
    global _chosen
    _chosen = lang


def current() -> str:
    """The process's language: the one chosen, else ``server_default()``."""
    return _chosen or server_default()


@lru_cache(maxsize=len(LANGS))
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English, or a language without one: the msgids)."""
    if lang == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: the process's, ``current()``)."""
    return translations(lang or current()).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``lang``."""
    return translations(lang or current()).ngettext(singular, plural, n)


def _(message: str, **values: Any) -> str:
    """``message`` in the process's language, with ``%(name)s`` filled from ``values``."""
    text = gettext(message)
    return text % values if values else text


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks ``message`` for the catalog; it is translated where it is shown."""
    return message


def told(error: BaseException, lang: str | None = None) -> str:
    """An error in ``lang``: one a layer made with ``CatalogError.told`` from its message
    template and values, any other as its English sentence."""
    template, values = getattr(error, "template", None), getattr(error, "values", None)
    if not template:
        return str(error)
    text = gettext(template, lang)
    return text % values if values else text


def china_time(moment: dt.datetime | str | None, *, seconds: bool = False) -> str:
    """A moment as China time with its offset (``2024-03-01 08:00 UTC+08:00``), whatever zone it
    was recorded in; an ISO text is read first (catalog times are UTC text); None: empty."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # catalog times without a zone are UTC
    local = moment.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC+08:00"
