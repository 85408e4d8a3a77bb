"""catalog.spreadsheet: which text gets the quote that keeps a spreadsheet from running it."""

from __future__ import annotations

import pytest

from catalog.spreadsheet import neutralise, restore


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+86 10 6512 3456", "'+86 10 6512 3456"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+2", "'\t=1+2"), ("\rtext", "'\rtext"), ("\nline", "'\nline"),
    ("\tplain", "'\tplain"), ("  =1+2", "'  =1+2"),
    ("＝１＋２", "'＝１＋２"), ("＋86", "'＋86"), ("－1", "'－1"), ("＠某人", "'＠某人"),
    ("'=1+2", "''=1+2"), ("''-1", "'''-1"),
    ("国家档案局", "国家档案局"), ("a=1", "a=1"), ("'quoted'", "'quoted'"), ("", ""), (3, 3), (-1.5, -1.5),
])
def test_neutralise_and_restore_are_exact_inverses(value, written):
    assert neutralise(value) == written
    assert restore(written) == value
