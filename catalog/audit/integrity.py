"""完整性 integrity: counts and bytes, pictures, required metadata, item numbers."""

from __future__ import annotations

from catalog import appraisal
from catalog.audit.model import AuditContext, Property, Result, check
from catalog.audit.reads import media_rows, table_names, version_times
from catalog.metadata import URI_PREFIX, MetadataError, MetadataRecord, read_metadata
from warc_store import StoreError, metadata_entries, read_record, read_record_at

ITEM_NUMBER_TABLE = "archival_codes"  # 件号 belong to 档号: appraisal


@check("integrity.counts", Property.INTEGRITY, "文件数、记录数和字节数与登记相符",
       "File, record and byte counts match the register (manifest)")
def counts(ctx: AuditContext) -> Result:
    report = ctx.verify
    problems = [f"{name}: in manifest.jsonl, missing from warcs/" for name in report.missing]
    problems += [f"{name}: in warcs/, not in manifest.jsonl" for name in report.unexpected]
    problems += [f"{m} (manifest.jsonl)" for m in report.mismatched if ": size is" in m]
    problems += [f"index.cdxj: {p}" for p in report.index_problems]
    problems += [f"{name}: still open (being written, or left by a writer that died)"
                 for name in report.open_files]
    records = sum(f.records for f in report.files)
    return Result.of(problems, f"{len(report.files)} files, {records} records, "
                               f"{report.bytes_checked:,} bytes, as manifest.jsonl and index.cdxj list them")


@check("integrity.media", Property.INTEGRITY, "帖文引用的图片均在 WARC 中",
       "Every picture a post references is in the WARC")
def media(ctx: AuditContext) -> Result:
    if ctx.db is None:
        return Result.not_applicable("no catalog: a post's pictures are listed in the catalog")
    rows = media_rows(ctx.db, ctx.collection_name)
    problems = []
    for row in rows:
        where = f"{row.post} v{row.version} {row.kind} {row.position + 1} ({row.url})"
        if row.record_id:
            try:
                read_record(ctx.collection, row.record_id)
            except StoreError as exc:
                problems.append(f"{where}: record {row.record_id}: {exc}")
        elif not _captured_url(ctx, row.url):
            problems.append(f"{where}: not captured (no record in the WARC files)")
    return Result.of(problems, f"{len(rows)} pictures and other media of the posts: each has its "
                               "record in the WARC files, and it reads")


def _captured_url(ctx: AuditContext, url: str) -> bool:
    """A picture the catalog links to no record may still be in the WARC (captured for another
    post that shows the same picture)."""
    return any(e.record_type in ("response", "revisit") and (e.status or 0) < 400
               for e in ctx.collection.index.by_url(url))


def _missing_fields(record: MetadataRecord) -> list[str]:
    """The DA/T 46 elements a post record must carry: title or text (题名), author (责任者),
    dates, source address, and the evidence it was read from."""
    missing = [name for name, value in (("account", record.account), ("harvest_id", record.harvest_id),
                                        ("evidence", record.evidence)) if not value]
    post = record.post
    if post is not None:
        missing += [name for name, value in (("post.url", post.url), ("post.published_at", post.published_at),
                                             ("post.account_id", post.account_id),
                                             ("post.title or post.text", post.title or post.text))
                    if not value]
    return missing


@check("integrity.metadata", Property.INTEGRITY, "必要元数据齐全",
       "Required metadata present in every post metadata record")
def metadata(ctx: AuditContext) -> Result:
    problems, seen = [], set()
    for entry in metadata_entries(ctx.collection, URI_PREFIX):
        seen.add(entry.record_id)
        where = f"{entry.filename} record {entry.record_id} ({entry.url})"
        try:
            record = read_metadata(read_record_at(ctx.collection, entry.filename, entry.offset).payload)
        except (StoreError, MetadataError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        missing = _missing_fields(record)
        if missing:
            problems.append(f"{where}: lacks {', '.join(missing)}")
    if ctx.db is not None:
        for row in version_times(ctx.db, ctx.collection_name):
            if row.metadata_record_id not in seen:
                problems.append(f"{row.post} v{row.version}: its metadata record {row.metadata_record_id} "
                                "is not in the collection's index")
    return Result.of(problems, f"{len(seen)} post metadata records: each reads and carries its title "
                               "or text, author, publish and capture times, address and evidence")


@check("integrity.item_numbers", Property.INTEGRITY, "件号连续无缺号", "Item numbers (件号) continuous")
def item_numbers(ctx: AuditContext) -> Result:
    if ctx.db is None or ITEM_NUMBER_TABLE not in table_names(ctx.db):
        return Result.not_applicable("no item numbers (件号) have been assigned: this catalog has no "
                                     "appraisal tables yet (件号 come with 档号 at appraisal)")
    with ctx.db.read() as conn:
        codes = appraisal.archival_codes(conn)
    if not codes:
        return Result.not_applicable("no post has been kept yet, so no 件号 has been given")
    groups: dict[str, list[int]] = {}
    for c in codes:
        groups.setdefault(c.grouping, []).append(c.item)
    problems = []
    for grouping, items in sorted(groups.items()):
        missing = sorted(set(range(1, max(items) + 1)) - set(items))
        if missing:
            problems.append(f"{grouping}: 件号 {', '.join(f'{i:04d}' for i in missing[:20])} "
                            f"missing (of 0001–{max(items):04d})")
    return Result.of(problems, f"{len(groups)} groups of 档号: item numbers run from 0001 with "
                               f"no gap ({len(codes)} in all, reserved ones included)")
