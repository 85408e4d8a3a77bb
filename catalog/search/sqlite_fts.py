"""The embedded search index: SQLite FTS5 over CJK bigrams, in a file of its own.

The FTS5 table is contentless: it keeps only the bigram tokens with their positions (so a
phrase of consecutive bigrams matches a contiguous phrase of text), while the ``posts`` table
keeps the original fields for filters, citations and snippets. Deleting a row from a
contentless table needs its tokens again; they are recomputed from the original text, which is
why the tokenizer version is recorded and checked.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from catalog.search.base import SearchIndex, check_page, parse
from catalog.search.document import TEXT_WEIGHTS, IndexedPost, SearchHit, SearchResults
from catalog.search.errors import IndexUnavailable, SearchError
from catalog.search.query import SearchFilters, SearchQuery, account_pairs
from catalog.search.snippet import snippet_hit
from catalog.search.sqlite_rank import (
    HAN_FOLDS,
    Candidate,
    Scorer,
    count_sql,
    idf,
    varints,
)
from catalog.search.text import TOKENIZER_VERSION, index_text

# 2: the FTS table's tokenizer is 'ascii' (the tokens are split by spaces already); 3: comments
SCHEMA_VERSION = 3
BATCH = 2000  # posts per transaction when upserting
RANK_WINDOW = 1_000  # queries matching more posts rank only this many (see _ranked_page)
# Totals are exact up to this many posts, "at least" beyond (as Elasticsearch's track_total_hits).
TOTAL_CAP = 10_000
WEIGHTS = tuple(TEXT_WEIGHTS.values())  # bm25 weights of the FTS columns, in their order

# Filtered columns come before the long texts: SQLite then reads them without walking the
# texts' overflow pages.
_COLUMNS = (
    "doc_id", "platform", "account_id", "account_name", "status", "published_ts", "post_id",
    "version", "url", "published_at", "captured_at", "media_count", "warc_file",
    "warc_record_id", "payload_sha256", "demo", "appraisal", "title", "text", "repost_text",
    "comments_text",
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts (
    rowid INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL, account_id TEXT NOT NULL, account_name TEXT NOT NULL,
    status TEXT NOT NULL, published_ts REAL NOT NULL,
    post_id TEXT NOT NULL, version INTEGER NOT NULL, url TEXT NOT NULL,
    published_at TEXT NOT NULL, captured_at TEXT NOT NULL, media_count INTEGER NOT NULL,
    warc_file TEXT NOT NULL, warc_record_id TEXT NOT NULL, payload_sha256 TEXT NOT NULL,
    demo INTEGER NOT NULL, appraisal TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, repost_text TEXT NOT NULL,
    comments_text TEXT NOT NULL
);
{{indexes}}
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5 (
    title, text, repost_text, comments_text, content='', tokenize='ascii'
);
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}'), ('tokenizer', '{TOKENIZER_VERSION}');
"""
# Secondary indexes of ``posts``: a rebuild drops them and creates each once at the end (one
# sort instead of a million random inserts).
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS posts_published ON posts (published_ts)",
    "CREATE INDEX IF NOT EXISTS posts_account_id ON posts (account_id)",
    "CREATE INDEX IF NOT EXISTS posts_account_name ON posts (account_name)",
)
_SCHEMA = _SCHEMA.replace("{indexes}", ";\n".join(_INDEXES) + ";")
_INSERT_POST = (f"INSERT INTO posts (rowid, {', '.join(_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(_COLUMNS))})")
_INSERT_FTS = ("INSERT INTO posts_fts (rowid, title, text, repost_text, comments_text) "
               "VALUES (?, ?, ?, ?, ?)")
MMAP_BYTES = 1 << 30
CACHE_KIB = 32 * 1024
REBUILD_CACHE_KIB = 256 * 1024  # page cache while rebuilding: the FTS5 segments stay in memory
# While rebuilding, FTS5 gathers this many bytes of tokens in memory before writing a segment,
# and merges no segments until one ``optimize`` at the end: a third less CPU per post.
REBUILD_HASH_BYTES = 64 * 1024 * 1024


class SqliteSearchIndex(SearchIndex):
    """The default index. ``path`` is its database file, created on first use."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # A page of hits reads a thousand candidate rows scattered over the file: mapped
            # and cached pages halve that.
            self._db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            meta = self._meta()
        except (OSError, sqlite3.Error) as exc:
            raise IndexUnavailable(
                f"the search index {self.path} cannot be opened ({exc})"
            ) from exc
        # An index of another layout or other token rules is kept only to be rebuilt: reading
        # it would misread it, and deleting from it would need the tokens it was built with.
        self._stale = (meta.get("tokenizer") != str(TOKENIZER_VERSION)
                       or meta.get("schema") != str(SCHEMA_VERSION))

    def _meta(self) -> dict[str, str]:
        """The versions the file was built with; a new file gets the current schema first (a
        file of another layout is left as it is, for ``rebuild``)."""
        tables = {name for (name,) in self._db.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table'")}
        if not tables:
            self._db.executescript(_SCHEMA)
        meta = dict(self._db.execute("SELECT key, value FROM meta")) if "meta" in tables or \
            not tables else {}
        if meta.get("schema") == str(SCHEMA_VERSION):
            self._db.executescript(_SCHEMA)  # the indexes a rebuild cut short may be missing
        return meta

    def _check_current(self) -> None:
        if self._stale:
            raise IndexUnavailable(
                f"the search index {self.path} was built by another version of weidang; "
                "rebuild it from the catalog (`weidang index rebuild`)"
            )

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, docs: Iterable[IndexedPost], *, refresh: bool = True) -> int:
        self._check_current()
        written = 0
        it = iter(docs)
        while batch := list(islice(it, BATCH)):
            with self._transaction():
                for doc in batch:
                    self._write(doc)
            written += len(batch)
        return written

    def _write(self, doc: IndexedPost) -> None:
        row = _row(doc)
        old = self._db.execute("SELECT rowid FROM posts WHERE doc_id = ?", (doc.doc_id,)).fetchone()
        if old is not None:
            self._unindex(old[0])
            self._db.execute(
                f"UPDATE posts SET ({', '.join(_COLUMNS)}) = ({', '.join('?' * len(_COLUMNS))}) "
                "WHERE rowid = ?",
                (*row, old[0]),
            )
            rowid = old[0]
        else:
            cur = self._db.execute(
                f"INSERT INTO posts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                row,
            )
            rowid = cur.lastrowid
        self._db.execute(_INSERT_FTS, (rowid, *_fts_texts(doc)))

    def _insert_new(self, batch: list[IndexedPost], first: int) -> int:
        """Insert versions new to the index with rowids from ``first``, all at once; returns
        the next free rowid."""
        self._db.execute("SAVEPOINT bulk")
        try:
            self._db.executemany(_INSERT_POST, [(first + i, *_row(doc))
                                                for i, doc in enumerate(batch)])
        except sqlite3.IntegrityError:
            # The same version twice in the feed: the later replaces the earlier, as upsert does.
            self._db.execute("ROLLBACK TO bulk")
            self._db.execute("RELEASE bulk")
            for doc in batch:
                self._write(doc)
            return int(self._one("SELECT coalesce(max(rowid), 0) FROM posts", [])) + 1
        self._db.executemany(_INSERT_FTS, [(first + i, *_fts_texts(doc))
                                           for i, doc in enumerate(batch)])
        self._db.execute("RELEASE bulk")
        return first + len(batch)

    def _unindex(self, rowid: int) -> None:
        texts = self._db.execute(
            "SELECT title, text, repost_text, comments_text FROM posts WHERE rowid = ?", (rowid,)
        ).fetchone()
        self._db.execute(
            "INSERT INTO posts_fts (posts_fts, rowid, title, text, repost_text, comments_text) "
            "VALUES ('delete', ?, ?, ?, ?, ?)",
            (rowid, *(index_text(t) for t in texts)),
        )

    def delete(self, doc_ids: Iterable[str]) -> int:
        self._check_current()
        removed = 0
        with self._transaction():
            for doc_id in doc_ids:
                old = self._db.execute(
                    "SELECT rowid FROM posts WHERE doc_id = ?", (doc_id,)
                ).fetchone()
                if old is not None:
                    self._unindex(old[0])
                    self._db.execute("DELETE FROM posts WHERE rowid = ?", (old[0],))
                    removed += 1
        return removed

    def rebuild(self, docs: Iterable[IndexedPost]) -> int:
        """Replace the whole index, in one transaction: in WAL mode searches keep reading the
        old index until the commit. (Building a new file and renaming it over this one would
        save writing the pages twice, but a ``-wal`` or ``-journal`` file a live search or
        harvest left beside the old file would then be applied to the new one.)"""
        written, rowid = 0, 1
        self._db.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
        try:
            with self._transaction():
                self._clear_for_rebuild()
                self._fts_config(automerge=0, hashsize=REBUILD_HASH_BYTES)
                it = iter(docs)
                while batch := list(islice(it, BATCH)):
                    rowid = self._insert_new(batch, rowid)
                    written += len(batch)
                for create in _INDEXES:
                    self._db.execute(create)
                self._fts_config(automerge=4, hashsize=1024 * 1024)  # FTS5's defaults
                if self._stale:
                    self._db.execute("INSERT INTO meta VALUES ('schema', ?), ('tokenizer', ?)",
                                     (str(SCHEMA_VERSION), str(TOKENIZER_VERSION)))
            self._stale = False
            self.optimize()
        finally:
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return written

    def _fts_config(self, **values: int) -> None:
        for key, value in values.items():
            self._db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES (?, ?)", (key, value))

    def _clear_for_rebuild(self) -> None:
        if self._stale:  # another layout: start from nothing (its notes are not to be trusted)
            tables = [name for (name,) in self._db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'posts_fts_%'")]
            for name in tables:
                self._db.execute(f'DROP TABLE IF EXISTS "{name}"')
            for statement in _SCHEMA.split(";\n"):
                if statement.strip() and not statement.lstrip().startswith("INSERT"):
                    self._db.execute(statement)
        else:
            self._db.execute("INSERT INTO posts_fts (posts_fts) VALUES ('delete-all')")
            self._db.execute("DELETE FROM posts")
        for name in ("posts_published", "posts_account_id", "posts_account_name"):
            self._db.execute(f"DROP INDEX IF EXISTS {name}")

    def note(self, key: str) -> str | None:
        if self._stale:  # nothing an index of another layout says about itself counts
            return None
        row = self._rows("SELECT value FROM meta WHERE key = ?", [f"note:{key}"])
        return str(row[0][0]) if row else None

    def set_note(self, key: str, value: str) -> None:
        self._check_current()
        with self._transaction():
            self._db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                             "SET value = excluded.value", (f"note:{key}", value))

    def optimize(self) -> None:
        """Merge the FTS5 segments into one: slower once, faster searches after a bulk load."""
        with self._transaction():
            self._db.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    # -- reading ---------------------------------------------------------------------------

    def search(
        self,
        query: str | SearchQuery,
        filters: SearchFilters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        check_page(limit, offset)
        self._check_current()
        parsed = parse(query)
        where, args = _filters_sql(filters or SearchFilters())
        if parsed.empty:
            total = self._one(f"SELECT count(*) FROM posts p WHERE {where}", args)
            sql = (
                f"SELECT {_select()}, 0.0 FROM posts p WHERE {where} "
                "ORDER BY p.published_ts DESC, p.doc_id LIMIT ? OFFSET ?"
            )
            rows = self._rows(sql, [*args, limit, offset])
            return SearchResults(total, [_hit(row, parsed) for row in rows])
        match = fts_expression(parsed)
        total, oldest = self._capped_count(match, where, args)
        if total == 0:
            return SearchResults(0, [])
        hits = self._ranked_page(parsed, match, where, args, limit, offset,
                                 {match: (total, oldest)} if where == "1" else {})
        return SearchResults(min(total, TOTAL_CAP), hits, total_is_exact=total <= TOTAL_CAP)

    def _capped_count(self, match: str, where: str, args: list[Any]) -> tuple[int, int]:
        """How many posts match, counted newest first up to TOTAL_CAP + 1 (so that a count
        above TOTAL_CAP means "more than TOTAL_CAP"), and the rowid of the oldest one counted.

        FTS5 walks the matches in rowid order and stops at the LIMIT: a word found in most of
        a million posts costs as much as one found in 10,000.
        """
        join = "" if where == "1" else "JOIN posts p ON p.rowid = posts_fts.rowid"
        row = self._rows(
            "SELECT count(*), min(rowid) FROM (SELECT posts_fts.rowid AS rowid FROM posts_fts "
            f"{join} WHERE posts_fts MATCH ? AND {where} ORDER BY posts_fts.rowid DESC "
            f"LIMIT {TOTAL_CAP + 1})", [match, *args])[0]
        return int(row[0]), int(row[1] or 0)

    def _ranked_page(
        self, query: SearchQuery, match: str, where: str, args: list[Any], limit: int,
        offset: int, counted: dict[str, tuple[int, int]],
    ) -> list[SearchHit]:
        """Rank the candidates by bm25, then read the full rows of one page only.

        The candidates are the RANK_WINDOW most recently indexed matches (FTS5 walks rowids
        newest first and stops there); a query matching fewer posts ranks them all. They are
        scored by ``sqlite_rank`` (FTS5's bm25 formula without its full pass over every match).
        """
        scored = self._scored(query, match, where, args, self._scorer(query, counted))
        ranked = scored[offset:offset + limit]
        if not ranked:
            return []
        marks = ", ".join("?" * len(ranked))
        full = {row[-1]: row for row in self._rows(
            f"SELECT {_select()}, p.rowid FROM posts p WHERE p.rowid IN ({marks})",
            [rowid for _, rowid in ranked])}
        return [_hit((*full[rowid][:-1], score), query) for score, rowid in ranked]

    def _scored(self, query: SearchQuery, match: str, where: str, args: list[Any],
                scorer: Scorer) -> list[tuple[float, int]]:
        """(score, rowid) of the candidates, best first (the newest first among equals)."""
        join = "" if where == "1" else "JOIN posts p ON p.rowid = posts_fts.rowid"
        window = (f"FROM (SELECT posts_fts.rowid AS rowid FROM posts_fts {join} "
                  f"WHERE posts_fts MATCH ? AND {where} ORDER BY posts_fts.rowid DESC "
                  f"LIMIT {RANK_WINDOW}) c JOIN posts p ON p.rowid = c.rowid "
                  "JOIN posts_fts_docsize d ON d.id = c.rowid")
        columns = ("p.title", "p.text", "p.repost_text", "p.comments_text")
        counting = count_sql(query.terms, columns)
        if counting is None:
            rows = self._rows(f"SELECT c.rowid, d.sz, {', '.join(columns)} {window}",
                              [match, *args])
            scored = [(scorer.score(Candidate(rowid, tuple(texts), sizes)), rowid)
                      for rowid, sizes, *texts in rows]
        else:
            exprs, count_args = counting
            rows = self._rows(f"SELECT c.rowid, d.sz, {', '.join(columns)}, {exprs} {window}",
                              [*count_args, match, *args])
            folds = HAN_FOLDS.search
            width = len(columns)
            scored = [(scorer.score(Candidate(rowid, tuple(row[:width]), sizes))
                       if any(folds(t) for t in row[:width])
                       else scorer.score_counts(sizes, row[width:]), rowid)
                      for rowid, sizes, *row in rows]
        scored.sort(key=lambda pair: (-pair[0], -pair[1]))
        return scored

    def _scorer(self, query: SearchQuery, counted: dict[str, tuple[int, int]]) -> Scorer:
        """bm25 for ``query``: each phrase's IDF from its number of posts, counted up to
        TOTAL_CAP; beyond it, estimated from the span of rowids its newest matches cover."""
        totals = self._rows("SELECT block FROM posts_fts_data WHERE id = 1", [])
        numbers = varints(totals[0][0]) if totals else [0]
        rows, tokens = numbers[0], sum(numbers[1:])
        # Two subqueries: SQLite reads each end of the rowid b-tree, but scans for both at once.
        first, last = self._rows(
            "SELECT (SELECT min(rowid) FROM posts), (SELECT max(rowid) FROM posts)", [])[0]
        idfs = []
        for term in query.terms:
            phrase = fts_expression(SearchQuery((term,)))
            hits, oldest = counted.get(phrase) or self._capped_count(phrase, "1", [])
            if hits > TOTAL_CAP and first is not None:
                hits = min(rows, round(hits * (last - first + 1) / (last - oldest + 1)))
            idfs.append(idf(rows, hits))
        return Scorer(query, WEIGHTS, idfs, tokens / rows if rows else 1.0)

    def scan(
        self, query: str | SearchQuery, filters: SearchFilters | None = None
    ) -> Iterator[SearchHit]:
        """Every hit, best first, for exports: no page limit."""
        self._check_current()
        parsed = parse(query)
        where, args = _filters_sql(filters or SearchFilters())
        if parsed.empty:
            sql = f"SELECT {_select()}, 0.0 FROM posts p WHERE {where} ORDER BY p.published_ts DESC"
        else:
            sql = self._ranked_sql(where).removesuffix(" LIMIT ? OFFSET ?")
            args = [fts_expression(parsed), *args]
        for row in self._rows(sql, args):
            yield _hit(row, parsed)

    def _ranked_sql(self, where: str) -> str:
        weights = ", ".join(str(w) for w in WEIGHTS)
        return (
            f"SELECT {_select()}, -bm25(posts_fts, {weights}) AS score FROM posts_fts "
            f"JOIN posts p ON p.rowid = posts_fts.rowid WHERE posts_fts MATCH ? AND {where} "
            "ORDER BY score DESC, p.published_ts DESC LIMIT ? OFFSET ?"
        )

    def count(self, filters: SearchFilters | None = None) -> int:
        self._check_current()
        where, args = _filters_sql(filters or SearchFilters())
        return self._one(f"SELECT count(*) FROM posts p WHERE {where}", args)

    def count_matches(self, query: str | SearchQuery, filters: SearchFilters | None = None) -> int:
        """The exact number of post versions matching, however many (a full pass over them)."""
        self._check_current()
        parsed = parse(query)
        if parsed.empty:
            return self.count(filters)
        where, args = _filters_sql(filters or SearchFilters())
        join = "" if where == "1" else "JOIN posts p ON p.rowid = posts_fts.rowid"
        return self._one(f"SELECT count(*) FROM posts_fts {join} WHERE posts_fts MATCH ? "
                         f"AND {where}", [fts_expression(parsed), *args])

    def get(self, doc_id: str) -> IndexedPost | None:
        """The post version as indexed, or None."""
        self._check_current()
        row = self._db.execute(
            f"SELECT {_select()}, 0.0 FROM posts p WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return _post(row) if row else None

    def size_bytes(self) -> int:
        """Bytes on disk, the write-ahead log included."""
        return sum(
            p.stat().st_size
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            if p.exists()
        )

    def close(self) -> None:
        self._db.close()

    def _one(self, sql: str, args: list[Any]) -> int:
        return int(self._rows(sql, args)[0][0])

    def _rows(self, sql: str, args: list[Any]) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise SearchError(f"the search index {self.path} could not be searched ({exc})") from exc


class _Transaction:
    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None:
            self.db.execute("COMMIT")
            return
        self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise SearchError(f"the search index {self.path} could not be written ({exc})") from exc


def fts_expression(query: SearchQuery) -> str:
    """FTS5 MATCH text: each term a phrase of its tokens, all terms ANDed.

    A term ending in a lone Han character ends in a prefix token, which finds that character
    as the first half of a bigram or as a run's closing token (see ``catalog.search.text``).
    """
    parts = []
    for term in query.terms:
        phrase = '"' + " ".join(term.tokens) + '"'
        parts.append(phrase + " *" if term.prefix_last else phrase)
    return " AND ".join(parts)


def _filters_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if filters.account:
        clauses.append("(p.account_id = ? OR p.account_name = ?)")
        args += [filters.account, filters.account]
    if filters.accounts is not None:
        pairs = account_pairs(filters)
        clauses.append("(" + (" OR ".join(["(p.platform = ? AND p.account_id = ?)"] * len(pairs))
                              or "0") + ")")
        args += [part for pair in pairs for part in pair]
    if filters.platform:
        clauses.append("p.platform = ?")
        args.append(filters.platform)
    if filters.status:
        clauses.append("p.status = ?")
        args.append(filters.status)
    if filters.since:
        clauses.append("p.published_ts >= ?")
        args.append(filters.since.timestamp())
    if filters.until:
        clauses.append("p.published_ts <= ?")
        args.append(filters.until.timestamp())
    return (" AND ".join(clauses) or "1"), args


def _select() -> str:
    return ", ".join(f"p.{c}" for c in _COLUMNS)


def _row(doc: IndexedPost) -> tuple[Any, ...]:
    """The ``posts`` row of ``doc``, in ``_COLUMNS`` order (attribute by attribute: this runs
    for every post a rebuild writes)."""
    appraisal = json.dumps(doc.appraisal, ensure_ascii=False, sort_keys=True) \
        if doc.appraisal else "{}"
    return (doc.doc_id, doc.platform, doc.account_id, doc.account_name, doc.status,
            doc.published_at.timestamp(), doc.post_id, doc.version, doc.url,
            doc.published_at.isoformat(), doc.captured_at.isoformat(), doc.media_count,
            doc.warc_file, doc.warc_record_id, doc.payload_sha256, int(doc.demo), appraisal,
            doc.title, doc.text, doc.repost_text, doc.comments_text)


def _fts_texts(doc: IndexedPost) -> tuple[str, ...]:
    """The FTS columns' tokens of ``doc``, in the FTS table's order."""
    return tuple(index_text(t) for t in (doc.title, doc.text, doc.repost_text, doc.comments_text))


def _post(row: Any) -> IndexedPost:
    d = dict(zip(_COLUMNS, row, strict=False))
    d["appraisal"] = json.loads(d["appraisal"])
    d["demo"] = bool(d["demo"])
    d["published_at"] = dt.datetime.fromisoformat(d["published_at"])
    d["captured_at"] = dt.datetime.fromisoformat(d["captured_at"])
    return IndexedPost.from_dict(d)


def _hit(row: Any, query: SearchQuery) -> SearchHit:
    return snippet_hit(_post(row), round(float(row[-1]), 6), query)
