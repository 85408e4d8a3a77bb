"""The large embedded search index: tantivy (a Rust library of Lucene's design) over the same
CJK bigram tokens as the SQLite index, in a directory of its own.

Why a second embedded index: at a million posts the SQLite file is 3.6x the text it indexes
and a page of hits reads a thousand scattered rows; tantivy's compressed postings and document
store hold the same tokens, positions and original text in 1.5x the text, and rank and count
every match in a few milliseconds (``bench/search_bench.py``).

Layout of the directory::

    current        a symbolic link naming the generation searches read
    g-<hex>/       one generation: tantivy's files, weidang.json (versions), notes.json
    write.lock     held by the one process writing (upserts, notes, a rebuild)

A rebuild fills a new generation and then points ``current`` at it in one rename, so searches
answer from the old content until the new one is complete; readers follow the link before
each call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import tantivy

from catalog.search.base import SearchIndex, check_page, parse
from catalog.search.document import TEXT_WEIGHTS, IndexedPost, SearchHit, SearchResults
from catalog.search.errors import IndexBusy, IndexUnavailable, SearchError
from catalog.search.query import SearchFilters, SearchQuery, Term
from catalog.search.snippet import snippet_hit
from catalog.search.text import TOKENIZER_VERSION, four_han, index_text_and_words

SCHEMA_VERSION = 2  # 2: the four-character words of each text field
_VERSIONS = {"schema": SCHEMA_VERSION, "tokenizer": TOKENIZER_VERSION}  # what a generation is
WORDS = "_words"  # suffix of the field holding a text field's four-character pieces
CURRENT = "current"
WRITE_LOCK = "write.lock"
VERSIONS_FILE = "weidang.json"
NOTES_FILE = "notes.json"
LOCK_SECONDS = 300.0  # how long a writer waits for another (a harvest's catch-up, a rebuild)
WRITER_HEAP = 50_000_000  # bytes tantivy gathers before writing a segment, for upserts
REBUILD_HEAP = 400_000_000  # and for a rebuild: fewer, larger segments to merge
# What a process killed while creating the index or rebuilding it may leave; the next rebuild
# removes it.
_OURS = re.compile(rf"g-[0-9a-f]{{12}}|\.{CURRENT}-[0-9a-f]{{8}}|{re.escape(WRITE_LOCK)}")


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("doc_id", "platform", "status", "account_id", "account_name", "account_key"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published_us", indexed=True, fast=True)
    for name in TEXT_WEIGHTS:  # tokens joined by spaces (catalog.search.text), with positions
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
        # Its four-character pieces, without positions: a four-character term (the commonest
        # Chinese query) is one token to look up instead of a phrase of three bigrams.
        builder.add_text_field(name + WORDS, tokenizer_name="whitespace", index_option="freq")
    builder.add_bytes_field("post", stored=True)  # the version as JSON: hits and snippets
    return builder.build()


SCHEMA = _schema()


class TantivySearchIndex(SearchIndex):
    """An embedded index for large archives. ``path`` is its directory, created on first use."""

    backend = "tantivy"

    def __init__(self, path: str | Path, *, lock_seconds: float = LOCK_SECONDS) -> None:
        self.path = Path(path)
        self.lock_seconds = lock_seconds
        self._generation = ""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if not (self.path / CURRENT).is_symlink():
                with self._locked():
                    if not (self.path / CURRENT).is_symlink():
                        if any(not _OURS.fullmatch(p.name) for p in self.path.iterdir()):
                            raise IndexUnavailable(
                                f"{self.path} is not a weidang search index (it holds other "
                                "files); choose an empty directory")
                        self._switch(self._new_generation())
            self._follow()
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"the search index {self.path} cannot be opened ({exc})") \
                from exc

    # -- generations -----------------------------------------------------------------------

    def _new_generation(self) -> str:
        name = f"g-{uuid.uuid4().hex[:12]}"
        (self.path / name).mkdir()
        tantivy.Index(SCHEMA, str(self.path / name))
        _write_json(self.path / name / VERSIONS_FILE, _VERSIONS)
        return name

    def _switch(self, name: str) -> None:
        """Point ``current`` at generation ``name`` in one rename."""
        link = self.path / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
        link.symlink_to(name)
        os.replace(link, self.path / CURRENT)

    def _follow(self) -> None:
        """Open the generation ``current`` names, if it is not the one open (a rebuild, here or
        in another process, switched it)."""
        name = os.readlink(self.path / CURRENT)
        if name == self._generation:
            return
        where = self.path / name
        versions = _read_json(where / VERSIONS_FILE)
        self._stale = versions != _VERSIONS
        self._damaged = ""
        if not self._stale:
            try:
                self._index = tantivy.Index(SCHEMA, str(where), reuse=True)
            except ValueError as exc:  # a file cut short or changed: tantivy checks each one
                self._damaged = str(exc)
        self._generation = name

    def _prune(self, keep: set[str]) -> None:
        """Remove generations but ``keep``: the previous one stays, for a search in another
        process that has not followed the switch yet."""
        for p in self.path.glob("g-*"):
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, across processes; waits ``lock_seconds`` for another."""
        with (self.path / WRITE_LOCK).open("a") as handle:
            deadline = time.monotonic() + self.lock_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusy(
                            f"the search index {self.path} was being written by another "
                            f"process (a harvest or a rebuild) for more than "
                            f"{self.lock_seconds:.0f} s; try again when it is done") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _current(self) -> None:
        try:
            self._follow()
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"the search index {self.path} cannot be opened ({exc})") \
                from exc
        if self._stale:
            raise IndexUnavailable(
                f"the search index {self.path} was built by another version of weidang; "
                "rebuild it from the catalog (`weidang index rebuild`)")
        if self._damaged:
            raise IndexUnavailable(
                f"the search index {self.path} is damaged ({self._damaged}); rebuild it from "
                "the catalog (`weidang index rebuild`)")

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self) -> Iterator[Any]:
        with self._locked():
            self._current()
            try:
                writer = self._index.writer(WRITER_HEAP, 1)
                try:
                    yield writer
                except BaseException:
                    _abandon(writer)
                    raise
                writer.commit()
                # Merges the commit started finish before the lock is given up (and the writer
                # with it: a writer alive holds tantivy's own lock on the directory).
                writer.wait_merging_threads()
            except ValueError as exc:
                raise SearchError(f"the search index {self.path} could not be written "
                                  f"({exc})") from exc

    def upsert(self, docs: Iterable[IndexedPost], *, refresh: bool = True) -> int:
        written = 0
        with self._writer() as writer:
            for doc in docs:
                writer.delete_documents_by_term("doc_id", doc.doc_id)
                writer.add_document(_document(doc))
                written += 1
        return written

    def delete(self, doc_ids: Iterable[str]) -> int:
        removed = 0
        with self._writer() as writer:
            searcher = self._searcher()
            for doc_id in doc_ids:
                if _count(searcher, _keyword("doc_id", doc_id)):
                    writer.delete_documents_by_term("doc_id", doc_id)
                    removed += 1
        return removed

    def rebuild(self, docs: Iterable[IndexedPost]) -> int:
        """Fill a new generation, then switch searches to it (they answer from the old one
        until then); a failure leaves the old one current."""
        with self._locked():
            with contextlib.suppress(OSError, ValueError):
                self._follow()
            previous = self._generation
            name = self._new_generation()
            try:
                written = _fill(tantivy.Index(SCHEMA, str(self.path / name), reuse=True), docs)
            except BaseException:
                shutil.rmtree(self.path / name, ignore_errors=True)
                raise
            self._switch(name)
            self._prune({name, previous})
            self._follow()
        return written

    def note(self, key: str) -> str | None:
        with contextlib.suppress(OSError, ValueError):
            self._follow()
        if self._stale or self._damaged:  # then nothing it says about itself counts
            return None
        value = _read_json(self.path / self._generation / NOTES_FILE).get(key)
        return None if value is None else str(value)

    def set_note(self, key: str, value: str) -> None:
        with self._locked():
            self._current()
            notes = self.path / self._generation / NOTES_FILE
            _write_json(notes, {**_read_json(notes), key: value})

    # -- reading ---------------------------------------------------------------------------

    def _searcher(self) -> Any:
        self._current()
        with self._reading():
            self._index.reload()
            return self._index.searcher()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except ValueError as exc:  # what tantivy raises for a file it cannot read
            raise SearchError(f"the search index {self.path} could not be searched ({exc})") \
                from exc

    def search(
        self,
        query: str | SearchQuery,
        filters: SearchFilters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        check_page(limit, offset)
        parsed = parse(query)
        searcher = self._searcher()
        found = self._query(parsed, filters or SearchFilters())
        with self._reading():
            result = searcher.search(found, max(limit, 1), count=True, offset=offset,
                                     **_newest_first(parsed))
            hits = [self._hit(searcher, score, address, parsed)
                    for score, address in result.hits[:limit]]
        # Among equal scores the newest first, as the other backends (within the page).
        hits.sort(key=lambda h: (-h.score, -h.published_at.timestamp()))
        return SearchResults(result.count, hits)

    def scan(
        self, query: str | SearchQuery, filters: SearchFilters | None = None
    ) -> Iterator[SearchHit]:
        """Every hit, best first (newest first for an empty query), for exports."""
        parsed = parse(query)
        searcher = self._searcher()
        found = self._query(parsed, filters or SearchFilters())
        with self._reading():
            total = _count(searcher, found)
            ranked = searcher.search(found, total, count=False, **_newest_first(parsed)).hits \
                if total else []
        for score, address in ranked:
            with self._reading():
                hit = self._hit(searcher, score, address, parsed)
            yield hit

    def count(self, filters: SearchFilters | None = None) -> int:
        return self.count_matches(SearchQuery(()), filters)

    def count_matches(self, query: str | SearchQuery, filters: SearchFilters | None = None) -> int:
        """The exact number of post versions matching (``search`` counts exactly too)."""
        searcher = self._searcher()
        with self._reading():
            return _count(searcher, self._query(parse(query), filters or SearchFilters()))

    def get(self, doc_id: str) -> IndexedPost | None:
        """The post version as indexed, or None."""
        searcher = self._searcher()
        with self._reading():
            hits = searcher.search(_keyword("doc_id", doc_id), 1).hits
            return _post(searcher.doc(hits[0][1])) if hits else None

    def size_bytes(self) -> int:
        """Bytes on disk of the current generation."""
        self._current()
        return sum(p.stat().st_size for p in (self.path / self._generation).iterdir()
                   if p.is_file())

    def close(self) -> None:
        self._generation = ""
        self.__dict__.pop("_index", None)

    def _hit(self, searcher: Any, score: float, address: Any, query: SearchQuery) -> SearchHit:
        return snippet_hit(_post(searcher.doc(address)),
                           0.0 if query.empty else round(float(score), 6), query)

    def _query(self, query: SearchQuery, filters: SearchFilters) -> tantivy.Query:
        """All terms (each a phrase, in any text field, weighted by field), within the filters;
        the filters do not add to the score."""
        must = [_phrase_anywhere(term) for term in query.terms]
        narrowing = _filter_queries(filters)
        must += [tantivy.Query.const_score_query(q, 0.0) for q in narrowing]
        if not must:
            return tantivy.Query.all_query()
        if len(must) == 1:  # one word, no filter: a boolean around it would only cost time
            return must[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in must])


def _fill(index: tantivy.Index, docs: Iterable[IndexedPost]) -> int:
    writer = index.writer(REBUILD_HEAP, 1)
    seen: set[int] = set()
    written = 0
    try:
        for doc in docs:
            key = hash(doc.doc_id)
            if key in seen:  # the same version twice in the feed: the later replaces it
                writer.delete_documents_by_term("doc_id", doc.doc_id)
            seen.add(key)
            writer.add_document(_document(doc))
            written += 1
        writer.commit()
        writer.wait_merging_threads()
    except ValueError as exc:
        _abandon(writer)
        raise SearchError(f"the search index could not be rebuilt ({exc})") from exc
    except BaseException:
        _abandon(writer)
        raise
    return written


def _abandon(writer: Any) -> None:
    """Drop what ``writer`` gathered and end it now: a writer alive (a traceback keeps it so)
    holds tantivy's lock on its directory and may still be writing files into it."""
    with contextlib.suppress(ValueError):
        writer.rollback()
        writer.wait_merging_threads()


def _document(doc: IndexedPost) -> tantivy.Document:
    data = doc.to_dict()
    fields = {  # from_dict with the schema: each value gets its field's type
        "doc_id": data["doc_id"], "platform": doc.platform, "status": doc.status,
        "account_id": doc.account_id, "account_name": doc.account_name,
        "account_key": f"{doc.platform}:{doc.account_id}",
        "published_us": _microseconds(doc.published_at),
        "post": json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
    }
    for name in TEXT_WEIGHTS:
        value = data[name]
        if value:
            fields[name], fields[name + WORDS] = index_text_and_words(value)
    return tantivy.Document.from_dict(fields, SCHEMA)


def _post(document: Any) -> IndexedPost:
    return IndexedPost.from_dict(json.loads(document["post"][0]))  # it reads the ISO times


def _newest_first(query: SearchQuery) -> dict[str, Any]:
    """How ``search`` orders the hits of ``query``: an empty one newest first, else by score."""
    return {"order_by_field": "published_us", "order": tantivy.Order.Desc} if query.empty else {}


def _microseconds(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def _count(searcher: Any, query: tantivy.Query) -> int:
    return int(searcher.search(query, 1, count=True).count)  # tantivy refuses a limit of 0


def _keyword(field: str, value: str) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value, index_option="basic")


def _phrase_anywhere(term: Term) -> tantivy.Query:
    word = four_han(term.text)
    return tantivy.Query.boolean_query([
        (tantivy.Occur.Should, tantivy.Query.boost_query(_phrase(term, field, word), weight))
        for field, weight in TEXT_WEIGHTS.items()])


def _phrase(term: Term, field: str, word: str | None) -> tantivy.Query:
    """The term's tokens at consecutive positions. A last token that is a lone Han character
    also matches every bigram it begins (see ``catalog.search.text``); tantivy's regex phrase
    expands it to each such token, without the 50-term cap of its prefix phrase."""
    tokens: list[str | tuple[int, str]] = list(term.tokens)
    if term.prefix_last:
        patterns: list[str | tuple[int, str]] = [re.escape(t) for t in term.tokens[:-1]]
        patterns.append(re.escape(term.tokens[-1]) + ".?")
        if len(patterns) == 1:
            return tantivy.Query.regex_query(SCHEMA, field, str(patterns[0]))
        return tantivy.Query.regex_phrase_query(SCHEMA, field, patterns)
    if word is not None:  # the term is four Han characters: one token of the words field
        return tantivy.Query.term_query(SCHEMA, field + WORDS, word, index_option="freq")
    if len(tokens) == 1:  # tantivy's phrase needs two tokens or more
        return tantivy.Query.term_query(SCHEMA, field, term.tokens[0], index_option="freq")
    return tantivy.Query.phrase_query(SCHEMA, field, tokens)


def _filter_queries(filters: SearchFilters) -> list[tantivy.Query]:
    out = []
    if filters.account:
        out.append(tantivy.Query.boolean_query([
            (tantivy.Occur.Should, _keyword("account_id", filters.account)),
            (tantivy.Occur.Should, _keyword("account_name", filters.account))]))
    if filters.accounts is not None:
        out.append(tantivy.Query.term_set_query(SCHEMA, "account_key", sorted(filters.accounts))
                   if filters.accounts else tantivy.Query.empty_query())
    if filters.platform:
        out.append(_keyword("platform", filters.platform))
    if filters.status:
        out.append(_keyword("status", filters.status))
    if filters.since or filters.until:
        out.append(tantivy.Query.range_query(
            SCHEMA, "published_us", tantivy.FieldType.Integer,
            _microseconds(filters.since) if filters.since else -(2**63),
            _microseconds(filters.until) if filters.until else 2**63 - 1))
    return out


def _read_json(path: Path) -> dict[str, Any]:
    """The object in ``path``; nothing if it is missing or unreadable (versions then differ
    from the current ones and a rebuild replaces the generation, notes with it)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` whole (a reader sees the old file or the new one, never half). Not
    ``warc_store.lines.replace_whole``: the search layer knows nothing of the WARC store."""
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    part.write_text(json.dumps(value, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(part, path)
