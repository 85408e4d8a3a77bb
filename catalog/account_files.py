"""Account lists as archivists keep them: TOML, CSV (Excel's, Chinese included) and XLSX.

Columns: account, name, credentials, source, interval, cron, jitter, notes, browser, comments
(Chinese headings 账号, 名称, 凭据, 来源, 间隔, 定时, 抖动, 备注, 浏览器采集, 评论采集 are read too).
Only ``account`` is required; a column that is absent leaves that field as it is, an empty cell
clears it (browser: on, comments: off, their defaults).

Import is all or nothing: every row is checked first and all bad rows are reported together by
their row number; only then are the rows written, in one transaction. Importing the same file
again changes nothing and adds no duplicate. CSV is written as UTF-8 with a byte-order mark so
that Excel shows Chinese names; CSV is read as UTF-8 (with or without the mark) or, failing that,
as GBK/GB18030, what Excel saves on a Chinese Windows. In CSV and XLSX, text a spreadsheet would
run as a formula is written with a leading ``'`` and read back without it (``catalog.spreadsheet``).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.account_fields import format_duration, parse_account
from catalog.accounts import Account, AccountRegistry, clean_fields
from catalog.errors import AccountFileError, CatalogError
from catalog.spreadsheet import neutralise, restore, xlsx_row

COLUMNS = ("account", "name", "credentials", "source", "interval", "cron", "jitter", "notes",
           "browser", "comments")
# Read, never written: a schedule in Chinese (每6小时, 每周一 06:30) in place of interval or cron.
READ_ONLY_COLUMNS = ("schedule",)
HEADING_ALIASES = {"账号": "account", "帐号": "account", "名称": "name", "凭据": "credentials",
                   "来源": "source", "间隔": "interval", "定时": "cron", "抖动": "jitter", "备注": "notes",
                   "计划": "schedule", "采集计划": "schedule", "频率": "schedule", "浏览器采集": "browser",
                   "评论采集": "comments",
                   "interval_seconds": "interval", "jitter_seconds": "jitter"}
FORMATS = (".toml", ".csv", ".xlsx")


@dataclass(frozen=True)
class AccountRow:
    """One row of a file: ``where`` names it for messages (``row 3``), ``fields`` as read."""

    where: str
    account: str
    fields: dict[str, Any]
    number: int = 0  # the spreadsheet's row number (or the TOML entry's), for a face to name


@dataclass(frozen=True)
class RowProblem:
    """Why one row cannot be imported: ``error`` as the catalog raised it (a face may tell it in
    its reader's language from ``error.template``); ``repeat_of`` names the row listing the
    same account first."""

    row: AccountRow
    error: CatalogError | None
    repeat_of: AccountRow | None = None
    account: str = ""

    def __str__(self) -> str:
        if self.repeat_of is not None:
            return f"{self.row.where}: {self.account} is listed again (first in {self.repeat_of.where})"
        return f"{self.row.where}: {str(self.error).rstrip('.')}"


class BadRows(AccountFileError):
    """Rows of an account list that are wrong, every one of them: nothing was imported."""

    def __init__(self, message: str, problems: list[RowProblem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.restored)} restored, "
                f"{len(self.unchanged)} unchanged")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise AccountFileError(f"{path.name} is not an account list weidang reads; use a file ending in "
                               + ", ".join(FORMATS))
    return suffix


def read_account_file(path: Path) -> list[AccountRow]:
    """The rows of a TOML, CSV or XLSX account list, unchecked."""
    path = Path(path)
    suffix = _format(path)
    if not path.is_file():
        raise AccountFileError(f"{path} does not exist")
    if suffix == ".toml":
        return _read_toml(path)
    if suffix == ".csv":
        return _rows_from_table(_decode_csv(path.read_bytes(), path))
    return _rows_from_table(_read_xlsx(path))


def check_rows(rows: list[AccountRow], source_name: str) -> None:
    """Raise one AccountFileError listing every bad row, or return if all rows are good."""
    problems: list[RowProblem] = []
    seen: dict[str, AccountRow] = {}
    for row in rows:
        try:
            platform, account_id = parse_account(row.account)
            clean_fields(platform, row.fields)
        except CatalogError as exc:
            problems.append(RowProblem(row, exc))
            continue
        key = f"{platform}:{account_id}"
        if key in seen:
            problems.append(RowProblem(row, None, seen[key], key))
        seen.setdefault(key, row)
    if problems:
        raise BadRows(f"{source_name} was not imported and nothing was changed, because "
                      f"{len(problems)} row(s) are wrong: " + "; ".join(map(str, problems)), problems)


def import_accounts(registry: AccountRegistry, path: Path) -> ImportResult:
    path = Path(path)
    rows = read_account_file(path)
    check_rows(rows, path.name)
    result = ImportResult()
    previous_via = registry.via
    registry.via = f"import {path.name}"
    try:
        with registry.batch():
            for row in rows:
                outcome = registry.upsert(row.account, **row.fields)
                getattr(result, outcome).append(registry.get(row.account).key)
    finally:
        registry.via = previous_via
    return result


def export_accounts(accounts: Iterable[Account], path: Path) -> int:
    """Write the accounts in the format the file name says; returns how many were written."""
    path = Path(path)
    suffix = _format(path)
    rows = [_export_row(a) for a in accounts]
    if suffix == ".toml":
        import tomli_w

        entries = [{k: v for k, v in row.items() if v != ""} for row in rows]
        header = "# weidang account list: `weidang accounts import` reads it back.\n"
        path.write_text(header + tomli_w.dumps({"accounts": entries}), encoding="utf-8")
    elif suffix == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({c: neutralise(v) for c, v in row.items()} for row in rows)
        path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("accounts")
        sheet.append(xlsx_row(sheet, COLUMNS))
        for row in rows:
            sheet.append(xlsx_row(sheet, [row[c] for c in COLUMNS]))
        book.save(path)
    return len(rows)


def _export_row(account: Account) -> dict[str, str]:
    return {"account": account.key, "name": account.name, "credentials": account.credentials or "",
            "source": account.source or "", "interval": format_duration(account.interval_seconds),
            "cron": account.cron or "", "jitter": format_duration(account.jitter_seconds),
            "notes": account.notes, "browser": "on" if account.browser else "off",
            "comments": "on" if account.comments else "off"}


def _read_toml(path: Path) -> list[AccountRow]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountFileError(f"{path.name} is not valid UTF-8 TOML ({exc})") from exc
    entries = data.get("accounts")
    if not isinstance(entries, list):
        raise AccountFileError(f"{path.name} has no [[accounts]] entries; see "
                               "schedules/accounts.example.toml for the format")
    rows = []
    for number, entry in enumerate(entries, start=1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            rows.append(AccountRow(where, "", {}, number))
            continue
        values = {_heading(str(k)): v for k, v in entry.items()}
        account = str(values.pop("account", "") or "")
        if "account" not in {_heading(str(k)) for k in entry}:
            where += " (no account)"
        rows.append(AccountRow(where, account, values, number))
    return rows


def _decode_csv(raw: bytes, path: Path) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise AccountFileError(f"{path.name} is neither UTF-8 nor GBK text; save it from Excel as "
                               "\"CSV UTF-8\"")
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key errors) for a bad file
        raise AccountFileError(f"{path.name} cannot be read as an Excel workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _heading(text: str) -> str:
    name = text.strip().lower().replace(" ", "_")
    return HEADING_ALIASES.get(text.strip(), HEADING_ALIASES.get(name, name))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # The quote an export put before text like "=..." (see catalog.spreadsheet) is not part of it.
    return restore(value.strip()) if isinstance(value, str) else value


def _rows_from_table(table: list[list[Any]]) -> list[AccountRow]:
    """First row: headings; row numbers are the spreadsheet's own (heading = row 1)."""
    if not table:
        raise AccountFileError("the account list is empty; its first row should name the columns "
                               + ", ".join(COLUMNS))
    headings = [_heading(str(h or "")) for h in table[0]]
    unknown = [h for h in headings if h and h not in COLUMNS + READ_ONLY_COLUMNS]
    if unknown or "account" not in headings:
        raise AccountFileError("the first row should name the columns " + ", ".join(COLUMNS)
                               + (f" (unknown: {', '.join(unknown)})" if unknown else
                                  " and must include account"))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {h: _cell(v) for h, v in zip(headings, cells, strict=False) if h}
        if all(v == "" for v in values.values()):
            continue
        for h in headings:  # a short row: its missing cells are empty, like Excel shows them
            if h:
                values.setdefault(h, "")
        account = str(values.pop("account"))
        rows.append(AccountRow(f"row {number}", account, values, number))
    return rows
