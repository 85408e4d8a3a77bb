"""Cells for spreadsheets (CSV and XLSX) that a spreadsheet never runs as a formula.

Captured posts and account names come from outside: a title like ``=HYPERLINK("http://…")`` would
become a live formula when an auditor opens an export in Excel, WPS or LibreOffice. Following
OWASP's advice on CSV injection, a text cell that begins with ``=``, ``+``, ``-``, ``@`` (spaces
before them included), a tab, a carriage return or a line feed gets a single quote ``'`` in front;
spreadsheets read the quote as "this is text". The full-width forms ``＝＋－＠`` are treated the same way: a
Chinese input method types them, and WPS, common in Chinese offices, is not known to leave them
alone. In XLSX every text cell is also stored with the string type and the text number format,
so it stays text even when someone edits it.

``restore`` undoes ``neutralise`` exactly: a value that already begins with quotes before one of
those characters gets one more quote, so removing one quote on reading always gives the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Quotes already there, then a tab or CR, or (after any spaces) a character that starts a formula.
_FORMULA_START = re.compile(r"'*(?:[\t\r\n]|\s*[=+\-@＝＋－＠])")


def needs_quote(value: Any) -> bool:
    return isinstance(value, str) and _FORMULA_START.match(value) is not None


def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet cell: text that could start a formula gets a leading ``'``."""
    return "'" + value if needs_quote(value) else value


def restore(value: Any) -> Any:
    """The value ``neutralise`` was given, from a cell read back from a CSV or XLSX file."""
    if isinstance(value, str) and value.startswith("'") and needs_quote(value[1:]):
        return value[1:]
    return value


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """Cells for ``sheet.append`` of an openpyxl write-only sheet: text neutralised and typed as text.

    openpyxl types a string that begins with ``=`` as a formula by itself; the type is set here
    so that no text ever becomes one.
    """
    from openpyxl.cell import WriteOnlyCell  # only spreadsheet exports need it

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        if isinstance(value, str):
            cell.data_type = "s"
            cell.number_format = "@"  # text, so Excel never turns an id into a number either
        cells.append(cell)
    return cells
