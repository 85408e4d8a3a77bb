"""The one message catalog: every message of the web is translated into Simplified Chinese, and
the committed .mo files are the compiled form of the .po files beside them."""

from __future__ import annotations

import datetime as dt
import gettext
import re
from pathlib import Path

import pytest

from weidang import i18n

babel_extract = pytest.importorskip("babel.messages.extract")
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.mofile import read_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

pytestmark = pytest.mark.default_language  # the web chooses by request; the server default is Chinese

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "weidang" / "locale"


def extracted() -> set[str]:
    """Every msgid in the code and templates (the web's, the command line's and each command's
    one-line help), as `pybabel extract` finds them with weidang/locale/babel.cfg."""
    with open(LOCALE / "babel.cfg", encoding="utf-8") as fh:
        methods, options = parse_mapping_cfg(fh)
    found = set()
    for _, _, message, *_ in babel_extract.extract_from_dir(
            str(ROOT), methods, options, keywords={**babel_extract.DEFAULT_KEYWORDS, "N_": None}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/weidang.po"))


def test_every_message_has_a_simplified_chinese_translation():
    with open(LOCALE / "zh_CN" / "LC_MESSAGES" / "weidang.po", "rb") as fh:
        po = read_po(fh)
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in po if m.id}
    messages = extracted()
    assert len(messages) > 100
    missing = sorted(messages - set(translated))
    assert not missing, f"add these to the zh_CN catalog: {missing}"
    empty = sorted(k for k, m in translated.items() if not all(m.string if isinstance(m.string, tuple)
                                                                 else [m.string]))
    assert not empty and not [k for k, m in translated.items() if m.fuzzy]
    assert po.plural_forms == "nplurals=1; plural=0;"


@pytest.mark.parametrize("po_path", catalogs(), ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_is_the_compiled_po(po_path):
    with open(po_path, "rb") as fh:
        po = read_po(fh)
    with open(po_path.with_suffix(".mo"), "rb") as fh:
        mo = read_mo(fh)

    def pairs(catalog):
        return {(m.id if isinstance(m.id, str) else tuple(m.id)):
                (m.string if isinstance(m.string, str) else tuple(m.string))
                for m in catalog if m.id and not m.fuzzy}

    assert pairs(mo) == pairs(po), "run `pybabel compile -d weidang/locale -D weidang`"


def test_placeholders_survive_translation():
    with open(LOCALE / "zh_CN" / "LC_MESSAGES" / "weidang.po", "rb") as fh:
        po = read_po(fh)
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        names = set(re.findall(r"%\((\w+)\)s", ids[-1]))
        for string in strings:
            assert set(re.findall(r"%\((\w+)\)s", string)) == names, message.id


def test_gettext_helpers_outside_the_web():
    assert i18n.gettext("Search", "zh_CN") == "检索"
    assert i18n.gettext("Search", "en") == "Search"
    assert i18n.ngettext("%(num)s post version matches.", "%(num)s post versions match.", 2,
                         "zh_CN") == "共 %(num)s 个帖文版本符合。"
    assert i18n.ngettext("%(num)s post version matches.", "%(num)s post versions match.", 2,
                         "en") == "%(num)s post versions match."
    assert isinstance(i18n.translations("zh_CN"), gettext.GNUTranslations)


@pytest.mark.parametrize(("environ", "lang"), [
    ({}, "zh_CN"), ({"LANG": "C.UTF-8"}, "zh_CN"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "WEIDANG_LANG": "zh_CN"}, "zh_CN"), ({"WEIDANG_LANG": "en"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"), ({"LANG": "fr_FR.UTF-8"}, "zh_CN"),
])
def test_server_default_language(environ, lang):
    assert i18n.server_default(environ) == lang


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("en-US,en;q=0.9", "en"), ("fr, en;q=0.1", "en"),
    ("en;q=0.5, zh-Hans", "zh_CN"), ("fr", None), ("", None), ("en;q=0", None),
])
def test_accept_language(header, lang):
    assert i18n.from_accept_language(header) == lang


def test_times_are_shown_in_china_time_with_the_offset():
    moment = dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC)
    assert i18n.china_time(moment) == "2024-03-01 08:30 UTC+08:00"
    assert i18n.china_time("2024-02-29T16:30:05.000000Z", seconds=True) == "2024-03-01 00:30:05 UTC+08:00"
    assert i18n.china_time(None) == ""
