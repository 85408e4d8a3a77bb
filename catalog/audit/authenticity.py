"""真实性 authenticity: every digest recomputed and matched, times in order, the seal, 档号."""

from __future__ import annotations

import datetime as dt
import re

from catalog import appraisal
from catalog.audit.model import AuditContext, Property, Result, check
from catalog.audit.reads import table_names, version_times
from warc_store.seal import stored_seals

ARCHIVAL_CODE_TABLE = "archival_codes"  # where appraisal keeps 档号
# 全宗号-门类代码·年度-保管期限-机构代码-件号 (DA/T 22-2015), e.g. 0194-XM·2026-Y-BGS-0001
ARCHIVAL_CODE_FORM = _CODE = re.compile(r"^[^-·\s]+-[^-·\s]+·\d{4}-(Y|D30|D10)-[^-·\s]+-\d{4,}$")


@check("authenticity.digests", Property.AUTHENTICITY, "摘要值重新计算并一致",
       "Every digest recomputed and matched")
def digests(ctx: AuditContext) -> Result:
    report = ctx.verify
    problems = [f"{m} (manifest.jsonl)" for m in report.mismatched if ": size is" not in m]
    for f in report.files:
        for bad in f.bad_records:
            wrong = [p for p in bad.problems if "digest" in p]
            if wrong:
                problems.append(f"{f.name} offset {bad.offset} record {bad.record_id or '?'}: "
                                + "; ".join(wrong))
    problems += [f"manifest.jsonl: {p}" for p in report.manifest_problems]
    problems += [f"manifest.jsonl / events.jsonl: {p}" for p in report.cross_problems]
    records = sum(f.records for f in report.files)
    return Result.of(problems, f"{len(report.files)} WARC files ({report.bytes_checked:,} bytes, "
                               f"{records} records): the SHA-256 and SM3 of every file and the block "
                               "and payload digests of every record were recomputed and match")


def _time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@check("authenticity.times", Property.AUTHENTICITY, "发布时间 ≤ 采集时间 ≤ 归档时间",
       "Publish time <= capture time <= archive time")
def times(ctx: AuditContext) -> Result:
    """The archive time of a version is its metadata record's WARC-Date: when the WARC took it."""
    if ctx.db is None:
        return Result.not_applicable("no catalog: the times are read from the catalog's versions")
    rows = version_times(ctx.db, ctx.collection_name)
    problems = []
    for row in rows:
        captured = _time(row.captured_at)
        where = f"{row.post} v{row.version}"
        if row.published_at and _time(row.published_at) > captured:
            problems.append(f"{where}: published {row.published_at}, after its capture at {row.captured_at}")
        entry = ctx.collection.index.by_record_id(row.metadata_record_id)
        if entry is not None and entry.date and _time(entry.date) < captured:
            problems.append(f"{where}: captured {row.captured_at}, after its metadata record "
                            f"{row.metadata_record_id} was written ({entry.date}, {entry.filename})")
        if captured > ctx.now:
            problems.append(f"{where}: captured {row.captured_at}, later than now ({ctx.now.isoformat()})")
    return Result.of(problems, f"{len(rows)} post versions: each was published before it was "
                               "captured and captured before its metadata record was written")


@check("authenticity.seal", Property.AUTHENTICITY, "封印（seal）相符", "The seal matches")
def seal(ctx: AuditContext) -> Result:
    """The seal given on the command line and every seal kept in the collection's ``seals/``
    folder (with its RFC 3161 time-stamp token): the log and manifest must still extend each."""
    report = ctx.verify
    if ctx.seal is None and not stored_seals(ctx.collection):
        return Result.not_applicable("the collection holds no seal (`weidang seal` keeps one in its "
                                     "seals/ folder) and none was given with --seal VALUE")
    given = [f"the seal given, {ctx.seal}"] if ctx.seal is not None else []
    kept = [f"{len(stored_seals(ctx.collection))} seals in seals/"]
    result = Result.of(list(report.seal_problems),
                       "the event log and manifest still extend " + " and ".join(given + kept))
    return Result(result.outcome, result.evidence + report.seal_notes)


@check("authenticity.archival_codes", Property.AUTHENTICITY, "档号唯一且格式正确",
       "档号 (archival codes) unique and well-formed")
def archival_codes(ctx: AuditContext) -> Result:
    if ctx.db is None or ARCHIVAL_CODE_TABLE not in table_names(ctx.db):
        return Result.not_applicable("no 档号 have been assigned: this catalog has no appraisal "
                                     "tables yet (档号 are given when posts are appraised)")
    with ctx.db.read() as conn:
        codes = appraisal.archival_codes(conn)
        unmatched = appraisal.unmatched_events(conn, ctx.collection_name,
                                               ctx.collection.events.entries())
    if not codes and not unmatched:
        return Result.not_applicable("no post has been kept yet, so no 档号 has been given")
    problems = [f"{c.code} ({c.platform}:{c.post_id}): not of the form "
                "全宗号-门类代码·年度-保管期限-机构代码-件号 (DA/T 22)"
                for c in codes if not _CODE.match(c.code) or c.code != f"{c.grouping}-{c.item:04d}"]
    seen: dict[str, str] = {}
    for c in codes:
        post = f"{c.platform}:{c.post_id}"
        if seen.setdefault(c.code, post) != post:
            problems.append(f"{c.code} is given to both {seen[c.code]} and {post}")
    problems += [f"events.jsonl: {p}" for p in unmatched]
    return Result.of(problems, f"{len(codes)} 档号 are unique and of the DA/T 22 form, and every "
                               "appraisal decision matches its event in the hash-chained log")
