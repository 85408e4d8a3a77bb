"""The Elasticsearch index template for archived posts: settings, analyzers and mapping.

Text fields are cut into CJK bigrams by ``weidang_cjk``, built from the same pieces as the
built-in ``cjk`` analyzer (standard tokenizer, ``cjk_width``, ``lowercase``, ``cjk_bigram``),
minus its English stop words, plus one char filter: punctuation or space between two Han
characters becomes a ``wdbrk`` token. The embedded index does the same with a run's closing
character (see ``catalog.search.text``): without it, the bigrams of 案管。管理 would sit next to
each other and the phrase 案管理 would match text that does not contain it. Each text field
has a ``chars`` sub-field of single characters, for queries holding a lone Han character.

When the cluster has the smartcn or IK plugin and it is chosen, a ``words`` sub-field is
analysed by it; it only adds to the score (word matches rank higher), it never decides what
matches, so both backends keep the same query semantics.
"""

from __future__ import annotations

from typing import Any

from catalog.search.document import TEXT_WEIGHTS

ANALYZERS = ("cjk", "smartcn", "ik_max_word", "auto")
# Analyzer name -> the plugin (as listed by _cat/plugins) that provides it.
PLUGIN_OF = {"smartcn": "analysis-smartcn", "ik_max_word": "analysis-ik"}
TEXT_FIELDS = TEXT_WEIGHTS  # boosted as the embedded indexes weigh them
BREAK_TOKEN = "wdbrk"

_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "char_filter": {
            "weidang_run_break": {
                "type": "pattern_replace",
                "pattern": r"(?<=\p{IsHan})[^\p{L}\p{N}]+(?=\p{IsHan})",
                "replacement": f" {BREAK_TOKEN} ",
            }
        },
        "analyzer": {
            "weidang_cjk": {
                "type": "custom",
                "char_filter": ["weidang_run_break"],
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "cjk_bigram"],
            },
            "weidang_chars": {
                "type": "custom",
                "char_filter": ["weidang_run_break"],
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase"],
            },
        },
    },
}


def _text_field(words_analyzer: str | None) -> dict[str, Any]:
    sub: dict[str, Any] = {"chars": {"type": "text", "analyzer": "weidang_chars"}}
    if words_analyzer:
        sub["words"] = {"type": "text", "analyzer": words_analyzer}
    return {"type": "text", "analyzer": "weidang_cjk", "fields": sub}


def mappings(words_analyzer: str | None = None) -> dict[str, Any]:
    keyword = {"type": "keyword"}
    props: dict[str, Any] = {
        "doc_id": keyword,
        "platform": keyword,
        "account_id": keyword,
        "account_name": keyword,
        "post_id": keyword,
        "version": {"type": "integer"},
        "url": {"type": "keyword", "index": False},
        "published_at": {"type": "date"},
        "captured_at": {"type": "date"},
        "media_count": {"type": "integer"},
        "status": keyword,
        # Appraisal keys grow with archival practice (retention, 档号 ...); flattened takes any
        # key without one mapping per key.
        "appraisal": {"type": "flattened"},
        "warc_file": keyword,
        "warc_record_id": keyword,
        "payload_sha256": keyword,
        "demo": {"type": "boolean"},
    }
    for name in TEXT_FIELDS:
        props[name] = _text_field(words_analyzer)
    # strict: a document that does not follow the contract is refused, not silently mapped.
    return {"dynamic": "strict", "properties": dict(sorted(props.items()))}


def index_template(alias: str, words_analyzer: str | None = None) -> dict[str, Any]:
    """Body of ``PUT _index_template/<alias>``, applied to every physical ``<alias>-NNNNNN``."""
    return {
        "index_patterns": [f"{alias}-*"],
        "priority": 200,
        "template": {"settings": _SETTINGS, "mappings": mappings(words_analyzer)},
        "_meta": {"managed_by": "weidang", "words_analyzer": words_analyzer or ""},
    }


def choose_words_analyzer(setting: str, plugins: set[str]) -> str | None:
    """The plugin analyzer for the ``words`` sub-field, or None for bigrams alone.

    ``plugins`` are the component names from ``_cat/plugins``. ``auto`` picks IK, then smartcn,
    when installed; naming a plugin analyzer the cluster lacks is an error.
    """
    if setting == "cjk":
        return None
    if setting == "auto":
        return next((a for a in ("ik_max_word", "smartcn") if PLUGIN_OF[a] in plugins), None)
    if setting not in PLUGIN_OF:
        raise ValueError(f"unknown analyzer {setting!r}; use one of {', '.join(ANALYZERS)}")
    if PLUGIN_OF[setting] not in plugins:
        raise LookupError(PLUGIN_OF[setting])
    return setting
