"""Rules that live in one place: WARC files are read through warc_store only, the search engine
knows nothing of them, and China's time zone and the post statuses are each defined once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE_STORE = ("weidang", "schedules", "crawler", "catalog", "harvesters")


def _sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_only_warc_store_uses_warcio():
    users = [str(p.relative_to(ROOT)) for p in _sources(*ABOVE_STORE)
             if any(m.split(".")[0] == "warcio" for m in _imports(p))]
    assert users == []


def test_the_search_engine_knows_nothing_of_warc_files():
    for path in _sources("catalog/search"):
        assert not {m for m in _imports(path) if m.split(".")[0] in ("warc_store", "warcio")
                    or m in ("catalog.schema", "catalog.db", "catalog.posts")}, path.name
        assert not re.search(r"\.cdxj\b|\.warc\.gz|ArchiveIterator",
                             path.read_text(encoding="utf-8")), path.name


def test_china_time_zone_is_defined_once():
    pattern = re.compile(r"Asia/Shanghai|hours\s*=\s*8|ZoneInfo\(")
    where = [f"{p.relative_to(ROOT)}:{n}" for p in _sources(*ABOVE_STORE, "warc_store")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line) and not line.lstrip().startswith("#")]
    assert where == ["harvesters/dates.py:10"]


def test_post_statuses_are_spelled_out_once():
    # A tuple literal naming two or more statuses is a definition of (part of) the list.
    statuses = {"live", "edited", "deleted", "blocked", "expired", "unavailable"}
    where = []
    for path in _sources(*ABOVE_STORE):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                named = {e.value for e in node.elts if isinstance(e, ast.Constant)} & statuses
                if len(named) >= 2:
                    where.append((str(path.relative_to(ROOT)), sorted(named)))
    # the two tuples WITHDRAWN and NOT_SHOWN, and nowhere else (an import above them moves lines)
    assert sorted(where) == [("harvesters/records.py", ["blocked", "deleted"]),
                             ("harvesters/records.py", ["expired", "unavailable"])]


def test_request_purposes_are_named_once_and_their_roles_are_the_catalog_s():
    from catalog.metadata import ROLES
    from harvesters import Purpose

    # What a purpose means (a page, a follow-up, a revisit, its role) is said on the Enum, not
    # in tuples of purpose names in each component.
    names = {p.value for p in Purpose}
    where = []
    for path in _sources("crawler", "harvesters"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
                elts = node.keys if isinstance(node, ast.Dict) else node.elts
                if len({e.value for e in elts if isinstance(e, ast.Constant)} & names) >= 2:
                    where.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert where == []
    assert {p.role for p in Purpose} <= set(ROLES)
