"""可用性 usability: every WARC parses, each post's page replays, formats are open ones."""

from __future__ import annotations

from collections import Counter
from typing import Any

from catalog.audit.model import AuditContext, Property, Result, check
from catalog.audit.reads import current_pages
from warc_store import StoredRecord, StoreError, read_record
from warc_store.replay_index import replay_line

# Open, documented formats (DA/T 70 asks for formats allowed for archiving): the media types a
# capture may hold. Anything else is named in the report for the archivist to judge.
OPEN_FORMATS = frozenset({
    "application/warc-fields", "application/vnd.weidang.post+json",
    "application/json", "text/json", "application/ld+json", "application/javascript",
    "text/javascript", "application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
    "text/html", "application/xhtml+xml", "text/plain", "text/css", "text/csv",
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/svg+xml", "image/bmp", "image/tiff",
    "video/mp4", "video/webm", "audio/mpeg", "audio/mp4", "audio/aac", "audio/ogg", "audio/wav",
    "application/pdf", "application/gzip", "font/woff", "font/woff2",
})
PAGE_ROLES = ("article", "detail", "long_text", "listing")  # what a post's text was read from


@check("usability.warc_parse", Property.USABILITY, "每个 WARC 文件均可解析", "Every WARC file parses")
def warc_parse(ctx: AuditContext) -> Result:
    problems = []
    for f in ctx.verify.files:
        if f.error:
            problems.append(f"{f.name}: {f.error}")
        for bad in f.bad_records:
            broken = [p for p in bad.problems if "digest" not in p]
            if broken:
                problems.append(f"{f.name} offset {bad.offset} record {bad.record_id or '?'}: "
                                + "; ".join(broken))
    records = sum(f.records for f in ctx.verify.files)
    return Result.of(problems, f"{len(ctx.verify.files)} WARC files, {records} records: every record "
                               "read to its end as a whole WARC record")


def _replayed(ctx: AuditContext, record_id: str) -> StoredRecord:
    """The response a replay would show for ``record_id``: itself, or the original a revisit
    refers to (by WARC-Refers-To, else by its payload digest)."""
    record = read_record(ctx.collection, record_id)
    if record.record_type == "revisit":
        original = record.header("WARC-Refers-To")
        if not original:
            entry = ctx.collection.index.by_payload_digest(record.header("WARC-Payload-Digest") or "")
            if entry is None:
                raise StoreError(f"the revisit {record_id} names no original and none has its digest")
            original = entry.record_id
        record = read_record(ctx.collection, original)
    if record.record_type != "response":
        raise StoreError(f"record {record.record_id} is a {record.record_type}, not a response")
    if record.http_status is None or not 200 <= record.http_status < 300:
        raise StoreError(f"record {record.record_id} holds the answer {record.http_status}, not a page")
    return record


def _page_evidence(evidence: list[dict[str, Any]]) -> dict[str, Any] | None:
    for role in PAGE_ROLES:
        for item in evidence:
            if item.get("role") == role:
                return item
    return None


@check("usability.replay", Property.USABILITY, "每篇帖文的页面可回放",
       "Each post's page replays from the WARC")
def replay(ctx: AuditContext) -> Result:
    """Resolved as a replay tool resolves it (through the index, revisits to their original),
    without starting one: the post's page where it was captured, else the platform's answer its
    text was read from (Weibo posts are read from the platform's JSON)."""
    if ctx.db is None:
        return Result.not_applicable("no catalog: which records hold a post's page is in the catalog")
    pages = current_pages(ctx.db, ctx.collection_name)
    problems = []
    for page in pages:
        # the records a replay tool is shown for the address: the replay index's rule, so the
        # check passes only for what pywb or ReplayWeb.page would replay from a package
        entries = [e for e in ctx.collection.index.by_url(page.url)
                   if e.record_type in ("response", "revisit") and replay_line(e) is not None
                   ] if page.url else []
        item = _page_evidence(page.evidence)
        record_id = entries[-1].record_id if entries else (item or {}).get("record_id")
        if not record_id:
            problems.append(f"{page.post} v{page.version}: no record of its page ({page.url}) "
                            "or of the answer it was read from")
            continue
        try:
            _replayed(ctx, str(record_id))
        except StoreError as exc:
            problems.append(f"{page.post} v{page.version} ({page.url}): {exc}")
    return Result.of(problems, f"{len(pages)} posts: the page (or the platform's answer) of each "
                               "current version resolves to a whole response in the WARC files")


@check("usability.formats", Property.USABILITY, "文件格式为开放格式", "Formats are open ones")
def formats(ctx: AuditContext) -> Result:
    seen: Counter[str] = Counter()
    example: dict[str, str] = {}
    for entry in ctx.collection.index:
        if entry.record_type in ("request",) or not entry.mime:
            continue
        mime = entry.mime.split(";")[0].strip().lower()
        seen[mime] += 1
        example.setdefault(mime, f"{entry.filename} record {entry.record_id} ({entry.url})")
    closed = sorted(m for m in seen if m not in OPEN_FORMATS)
    problems = [f"{m}: {seen[m]} records, e.g. {example[m]}" for m in closed]
    names = [p.name for p in ctx.collection.closed_files() if not p.name.endswith(".warc.gz")]
    problems += [f"{n}: not a gzip-compressed WARC file" for n in names]
    listed = ", ".join(f"{m} ({n})" for m, n in sorted(seen.items()))
    return Result.of(problems, f"WARC 1.1 files (gzip); contents: {listed or 'none'}")
