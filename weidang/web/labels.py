"""Names shown to people for the archive's own words (statuses, platforms, roles, columns).

The words themselves (``deleted``, ``weibo``, ``warc_record_id``) stay as they are in URLs, exports'
JSON and citations; only their labels are translated. ``N_`` marks a message for the catalog
without translating it yet (the language is known only when a page is made).
"""

from __future__ import annotations

from weidang.web.lang import _


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    return message


STATUSES = {
    "live": N_("live"), "edited": N_("edited"), "deleted": N_("deleted"),
    "blocked": N_("blocked"), "expired": N_("expired"), "unavailable": N_("unavailable"),
}
PLATFORMS = {"weibo": N_("Weibo"), "wechat": N_("WeChat")}
ROLES = {"researcher": N_("researcher"), "archivist": N_("archivist"), "auditor": N_("auditor"),
         "admin": N_("administrator")}
HEALTH = {
    "ok": N_("ok"), "partial": N_("partial"), "running": N_("running"),
    "interrupted": N_("interrupted"), "failing": N_("failing"), "login expired": N_("login expired"),
    "rate limited": N_("rate limited"), "paused": N_("paused"), "never run": N_("never run"),
}
# Export columns (``catalog.search.export.COLUMNS`` and the full text), for CSV and XLSX headers.
COLUMNS = {
    "platform": N_("Platform"), "account_id": N_("Account ID"), "account_name": N_("Account name"),
    "post_id": N_("Post ID"), "version": N_("Version"), "url": N_("Address"),
    "published_at": N_("Published"), "captured_at": N_("Captured"), "status": N_("Status"),
    "title": N_("Title"), "snippet": N_("Snippet"), "score": N_("Score"),
    "warc_file": N_("WARC file"), "warc_record_id": N_("WARC record ID"),
    "payload_sha256": N_("Payload SHA-256"), "demo": N_("Demo data"), "doc_id": N_("Document ID"),
    "text": N_("Full text"),
}


def label(table: dict[str, str], word: str) -> str:
    """The translated label of ``word``, or the word itself when it has none."""
    return _(table[word]) if word in table else word


def status(word: str) -> str:
    return label(STATUSES, word)


def platform(word: str) -> str:
    return label(PLATFORMS, word)


def role(word: str) -> str:
    return label(ROLES, word)


def health(word: str) -> str:
    return label(HEALTH, word)


def column_headers() -> dict[str, str]:
    """Export headers in the request's language."""
    return {name: _(message) for name, message in COLUMNS.items()}
