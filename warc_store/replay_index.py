"""The replay index: a sorted CDXJ that pywb and WACZ readers use in place of their own.

The collection's ``index.cdxj`` (``cdxj.py``) is weidang's own: appended in write order by every
writer, one line per record of every type (warcinfo and request too), found by record id. Replay
tools read CDXJ differently: they binary-search it by SURT key and timestamp, so it must be sorted,
and they take whatever line matches a URL as the thing to replay. From the collection's index this
module derives the form they need:

- only records a browser is shown: response, revisit, resource and metadata (as ``cdxj-indexer``
  and pywb's own indexer choose them; metadata records have ``urn:weidang:post:`` URIs, which no
  web page shares, so they never stand in for a page). Request and warcinfo lines are left out:
  pywb would pick a request line for a URL and fail with HTTP 500;
- a revisit's mime is ``warc/revisit``: that is how pywb knows to fetch the payload from the
  original (by ``WARC-Refers-To-Target-URI``, ``-Date`` and the digest); with the page's own mime
  it replays the revisit's empty body under the original's Content-Length, and the browser waits;
- fields as ``cdxj-indexer`` writes them (url, mime, status, digest, length, offset, filename;
  numbers as strings);
- lines sorted by their bytes, the order of pywb's and ``cdxj-indexer``'s sort (UTF-8 byte
  order is code point order, so it is also Python's string order).

It is built from the index, not by re-reading the WARC files: the index already says where each
record lies and what it is, and ``weidang verify`` checks the index against the files.
"""

from __future__ import annotations

import heapq
import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from itertools import count, islice
from pathlib import Path

from warc_store.cdxj import IndexEntry, url_key
from warc_store.collection import Collection
from warc_store.errors import StoreError
from warc_store.lines import replace_whole
from warc_store.reader import read_record_at

REPLAYED_TYPES = frozenset({"response", "revisit", "resource", "metadata"})
REVISIT_MIME = "warc/revisit"
WARC_FIELDS = "application/warc-fields"  # warcinfo-like metadata; cdxj-indexer leaves it out too
_MIME_END = re.compile(r"[;\s]")  # the bare type, as both indexers keep it ("; version=1" cut)


def replay_line(entry: IndexEntry) -> bytes | None:
    """The replay index line of one record, or None for a record replay must not see."""
    if entry.record_type not in REPLAYED_TYPES or not entry.url:
        return None
    if entry.record_type == "metadata" and (entry.mime or "").startswith(WARC_FIELDS):
        return None
    mime = REVISIT_MIME if entry.record_type == "revisit" else _MIME_END.split(entry.mime or "", 1)[0]
    fields: dict[str, str] = {"url": entry.url}
    if mime:
        fields["mime"] = mime
    if entry.status is not None:
        fields["status"] = str(entry.status)
    if entry.digest:
        fields["digest"] = entry.digest
    fields.update(length=str(entry.length), offset=str(entry.offset), filename=entry.filename)
    # ASCII JSON, as cdxj-indexer and pywb write it: a line's bytes do not depend on the encoder
    return f"{url_key(entry.url)} {entry.timestamp} {json.dumps(fields)}\n".encode("ascii")


def replay_lines(entries: Iterable[IndexEntry]) -> list[bytes]:
    """The replay index of these records: their lines, sorted."""
    return sorted(_lines(entries))


def spilled_replay_lines(entries: Iterable[IndexEntry], spill: Path) -> Iterator[bytes]:
    """``replay_lines`` of as many records as a collection holds, sorted in bounded memory
    (``sorted_lines``; ``spill`` is a folder for the sorted runs)."""
    return sorted_lines(_lines(entries), spill)


def _lines(entries: Iterable[IndexEntry]) -> Iterator[bytes]:
    return (line for line in map(replay_line, entries) if line is not None)


# An external merge sort keeps a whole collection's replay index out of memory: at most this many
# lines (about 30 MB) are sorted at a time, and at most FAN_IN sorted runs are merged at once.
RUN_LINES = 100_000
FAN_IN = 64
SPILL_PREFIX = ".sorting-"  # the temporary folder of runs, removed when the sort ends


def sorted_lines(lines: Iterable[bytes], spill: Path, *, run_lines: int = RUN_LINES,
                 fan_in: int = FAN_IN) -> Iterator[bytes]:
    """``sorted(lines)`` in bounded memory: runs of ``run_lines`` are sorted and written to a
    temporary folder in ``spill`` (used only when there is more than one run), then merged."""
    it = iter(lines)
    first = sorted(islice(it, run_lines))
    if len(first) < run_lines:
        yield from first
        return
    with tempfile.TemporaryDirectory(prefix=SPILL_PREFIX, dir=spill) as tmp:
        names = (Path(tmp) / f"run-{n:06d}" for n in count())
        runs = [_write_run(next(names), first)]
        del first
        while chunk := sorted(islice(it, run_lines)):
            runs.append(_write_run(next(names), chunk))
            del chunk  # before the next run is read: one run in memory, not two
        while len(runs) > fan_in:  # an archive of many millions of lines: merge in passes
            runs = [_write_run(next(names), _merged(runs[i:i + fan_in]))
                    for i in range(0, len(runs), fan_in)]
        yield from _merged(runs)


def _write_run(path: Path, lines: Iterable[bytes]) -> Path:
    with open(path, "wb") as fh:
        fh.writelines(lines)
    return path


def _merged(runs: Sequence[Path]) -> Iterator[bytes]:
    with ExitStack() as files:
        yield from heapq.merge(*(files.enter_context(open(run, "rb")) for run in runs))
    for run in runs:
        run.unlink()


def write_replay_index(entries: Iterable[IndexEntry], path: Path, spill: Path | None = None) -> int:
    """Write the sorted replay index to ``path`` atomically, in bounded memory (its sorted runs
    in a temporary folder in ``spill``, by default beside it); returns the number of lines."""
    written = 0

    def counted(lines: Iterable[bytes]) -> Iterator[bytes]:
        nonlocal written
        for line in lines:
            written += 1
            yield line

    replace_whole(path, counted(spilled_replay_lines(entries, spill or path.parent)))
    return written


def file_entries(collection: Collection, filenames: Sequence[str]) -> list[IndexEntry]:
    """The collection index's entries for the records of these WARC files, file by file, each
    in index order; found through the index's look-up table, so a package of a few files costs
    their records, not a reading of the whole collection's index.

    Raises StoreError when a file is not in the index at all (a typo, or a file of another
    collection): a package without its records would pass every check and replay nothing.
    """
    entries: list[IndexEntry] = []
    missing = []
    for name in dict.fromkeys(filenames):
        found = collection.index.by_file(name)
        if not found:
            missing.append(name)
        entries += found
    if missing:
        raise StoreError(f"the index of {collection.root} lists no record of "
                         f"{', '.join(sorted(missing))}; name files of this collection's warcs/ folder")
    return entries


def originals_outside(collection: Collection, entries: Sequence[IndexEntry]) -> dict[str, str]:
    """For revisits among ``entries`` whose original response is in none of their files: the
    revisit's URL -> the file holding the original (replay needs both in one package).

    The original is the record the revisit's ``WARC-Refers-To`` names (read from the revisit
    record, which holds HTTP headers only), not merely a response with the same digest: pywb
    looks it up by that record's URL and date.
    """
    files = {e.filename for e in entries}
    out: dict[str, str] = {}
    for entry in entries:
        if entry.record_type != "revisit":
            continue
        refers_to = read_record_at(collection, entry.filename, entry.offset).header("WARC-Refers-To")
        original = collection.index.by_record_id(refers_to) if refers_to else None
        if original is None:
            raise StoreError(f"the original of the revisit of {entry.url} ({entry.record_id}) is not "
                             f"in the index of {collection.root}; run `weidang verify`")
        if original.filename not in files:
            out[entry.url] = original.filename
    return out


def with_originals(collection: Collection, filenames: Sequence[str]) -> list[str]:
    """``filenames`` plus every file holding the original of a revisit in them (repeated until
    nothing is missing), in collection order: the files a package needs to replay them all."""
    chosen = list(dict.fromkeys(filenames))
    while True:
        extra = set(originals_outside(collection, file_entries(collection, chosen)).values())
        if not extra:
            order = {p.name: n for n, p in enumerate(collection.closed_files())}
            return sorted(chosen, key=lambda name: (order.get(name, len(order)), name))
        chosen += sorted(extra - set(chosen))
