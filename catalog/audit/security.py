"""安全性 security: no secret in any file, the event log's chain intact, files owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from catalog.audit.model import AuditContext, Property, Result, check
from catalog.audit.reads import text_cells
from catalog.audit.secret_scan import file_findings, warc_findings

# The one file made to hold secrets (owner-only, never archived).
NOT_SCANNED = ("credentials.toml",)


def _roots(ctx: AuditContext) -> Path:
    return Path(ctx.home_root) if ctx.home_root is not None else ctx.collection.root


def _other_files(root: Path, warcs: Path, catalog: Path | None) -> Iterator[Path]:
    """Every file but the WARC files and the catalog (scanned by their records and cells)."""
    for folder, _dirs, files in os.walk(root):
        if Path(folder) == warcs:
            continue
        for name in sorted(files):
            path = Path(folder) / name
            if catalog is not None and name.startswith(catalog.name) and path.parent == catalog.parent:
                continue
            if name not in NOT_SCANNED and not name.endswith(".lock") and path.is_file():
                yield path


@check("security.secrets", Property.SECURITY, "文件中无密钥、口令等秘密",
       "No secret (password, token, cookie, key) in any file")
def secrets(ctx: AuditContext) -> Result:
    root, warcs = _roots(ctx), ctx.collection.warcs
    problems: list[str] = []
    scanned = 0
    for path in [*ctx.collection.closed_files(), *ctx.collection.open_files()]:
        problems += warc_findings(path)
        scanned += 1
    catalog = ctx.db.path if ctx.db is not None else None
    for path in _other_files(root, warcs, catalog):
        problems += file_findings(path, str(path.relative_to(root)))
        scanned += 1
    if ctx.db is not None:
        problems += [f"catalog {ctx.db.name} table {table}: {found}"
                     for table, found in text_cells(ctx.db)]
    skipped = ", ".join(NOT_SCANNED)
    return Result.of(problems, f"{scanned} files scanned (WARC headers and text bodies, catalog, "
                               f"logs, index, event log); {skipped} holds the logins by design and "
                               "is not scanned")


@check("security.event_chain", Property.SECURITY, "事件日志哈希链完整",
       "The event log's hash chain is intact")
def event_chain(ctx: AuditContext) -> Result:
    problems = [f"events.jsonl: {p}" for p in ctx.verify.chain_problems]
    return Result.of(problems, f"events.jsonl: the hash chain of its {ctx.collection.events.head().seq} "
                               "events is unbroken")


@check("security.permissions", Property.SECURITY, "文件仅所有者可读写",
       "Files readable and writable by their owner only")
def permissions(ctx: AuditContext) -> Result:
    root = _roots(ctx)
    problems, count = [], 0
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            count += 1
            if mode & 0o077:
                problems.append(f"{path.relative_to(root)}: mode {stat.S_IMODE(mode):04o} "
                                "(others than the owner may read or change it)")
    return Result.of(problems, f"{count} files and folders under {root}: owner only (mode 0600 or 0700)")
