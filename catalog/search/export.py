"""Write search results for researchers: CSV (opens in Excel), JSON lines, or XLSX.

Every row carries the citation: platform, account, post URL, published and captured times,
WARC file and record id, payload SHA-256, and whether it comes from demo data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalog.search.document import SearchHit
from catalog.search.errors import SearchError
from catalog.spreadsheet import neutralise, xlsx_row

COLUMNS = (
    "platform", "account_id", "account_name", "post_id", "version", "url", "published_at",
    "captured_at", "status", "title", "snippet", "score", "warc_file", "warc_record_id",
    "payload_sha256", "demo", "doc_id",
)
FORMATS = ("csv", "jsonl", "xlsx")
FULL_TEXT = "text"  # the column added when the caller gives each hit's full text


def row_of(hit: SearchHit, full_text: Callable[[SearchHit], str] | None = None) -> dict[str, Any]:
    d = hit.to_dict()
    d["snippet"] = hit.marked()
    row = {c: d[c] for c in COLUMNS}
    if full_text is not None:
        row[FULL_TEXT] = full_text(hit)
    return row


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"json": "jsonl", "ndjson": "jsonl"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise SearchError(f"cannot export to {path.name}: use a .csv, .json, .jsonl or .xlsx file")
    return fmt


def export(hits: Iterable[SearchHit], path: str | Path, fmt: str | None = None, *,
           headers: Mapping[str, str] | None = None,
           full_text: Callable[[SearchHit], str] | None = None) -> int:
    """Write ``hits`` to ``path`` in ``fmt`` (else guessed from the suffix); return the count.

    ``headers`` names the CSV and XLSX columns for people (e.g. in Chinese; JSON keys stay the
    field names); ``full_text`` adds a ``text`` column with each hit's whole text.
    """
    path = Path(path)
    fmt = fmt or format_of(path)
    writer = {"csv": _csv, "jsonl": _jsonl, "xlsx": _xlsx}.get(fmt)
    if writer is None:
        raise SearchError(f"the export format {fmt!r} is unknown; use csv, jsonl or xlsx")
    columns = COLUMNS + ((FULL_TEXT,) if full_text is not None else ())
    names = [(headers or {}).get(c, c) for c in columns]
    try:
        return writer((row_of(h, full_text) for h in hits), path, columns, names)
    except OSError as exc:
        raise SearchError(f"the results could not be written to {path} ({exc.strerror})") from exc


def _csv(rows: Iterable[dict[str, Any]], path: Path, columns: Sequence[str],
         names: Sequence[str]) -> int:
    # utf-8-sig writes a byte-order mark: without it Excel reads the Chinese as mojibake.
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([neutralise(n) for n in names])
        for row in rows:
            cells = {**row, "demo": "yes" if row["demo"] else "no"}
            out.writerow([neutralise(cells[c]) for c in columns])
            count += 1
    return count


def _jsonl(rows: Iterable[dict[str, Any]], path: Path, columns: Sequence[str],
           names: Sequence[str]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _xlsx(rows: Iterable[dict[str, Any]], path: Path, columns: Sequence[str],
          names: Sequence[str]) -> int:
    from openpyxl import Workbook  # only exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    sheet.append(xlsx_row(sheet, names))
    count = 0
    for row in rows:
        # Times stay ISO text with their offset: Excel dates cannot hold a time zone.
        sheet.append(xlsx_row(sheet, [("yes" if row[c] else "no") if c == "demo" else row[c]
                                      for c in columns]))
        count += 1
    book.save(path)
    return count
