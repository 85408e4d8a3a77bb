"""Replay of archived pages on the post page: pywb in a process of its own, behind weidang's login.

Why pywb and not ReplayWeb.page: ReplayWeb.page is a JavaScript application that needs Node and
npm to install and a service worker (HTTPS or localhost) to run; pywb is Python, reads the
collections' WARC files where they lie, with the sorted replay index weidang already derives for
transfer packages (``warc_store.replay_index``), and it is the reader the tests prove the WARC
files with. pywb pins its own warcio and gevent, so it lives in its own virtual environment
(``.venv-pywb``, made by ``install-replay.sh``; the setting ``WEB_PYWB`` names another ``wayback``).

pywb listens on 127.0.0.1 only. People reach it through the replay origin: a second port of
``weidang web`` that forwards a logged-in reader's GET requests and nothing else (``ReplayGate``).
A separate origin, so the scripts of archived pages, which pywb must run to replay them, can
neither read weidang's pages nor use its session (its forms need CSRF tokens, HttpOnly hides the
cookie).

Each collection is a pywb collection directory of its own under ``<home>/web-replay/``: its
``archive`` links to the collection's ``warcs/``, and ``indexes/index.cdxj`` is the replay index of
its closed files, replaced at once when the files changed; pywb opens the index anew for each
request, so it follows without a restart. A file a harvest closed has its own lines (found
through the record index's look-up table) merged into ``indexes/recent.cdxj``, a sorted index of
the files closed since it was last merged into the main one (pywb searches both); neither is
derived again from the whole collection unless a file went away.
"""

from __future__ import annotations

import heapq
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from schedules.child import ends_with_parent
from warc_store import Collection
from warc_store.lines import replace_whole
from warc_store.replay_index import (
    SPILL_PREFIX,
    spilled_replay_lines,
    url_key,
    write_replay_index,
)
from weidang.i18n import N_, gettext

STATE_DIR = "web-replay"
HELD = "held-files.json"  # beside a collection's indexes/: which closed files its indexes hold
MAIN, RECENT = "index.cdxj", "recent.cdxj"  # the replay index, and the lines merged in since
# The recent index is merged into the main one once it holds an eighth of its bytes: a harvest's
# file then costs a rewrite of the small index, not of the whole collection's, and pywb searches
# two files, not one per WARC file.
RECENT_SHARE = 8
CONFIG = ("# written by weidang web: the home's collections, replayed without pywb's frame\n"
          "collections_root: collections\nframed_replay: false\nenable_memento: false\n")
# Headers that belong to one connection, or that pywb must never see (the reader's session).
# Host is kept: pywb writes the addresses of the replayed page's parts with it.
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                           "te", "upgrade", "cookie", "authorization"})
CHUNK = 64 * 1024


class ReplayUnavailable(Exception):
    """pywb cannot be started; the message says what is missing, for the post page (its
    ``template`` is in the message catalog, so the page says it in the reader's language)."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        super().__init__(template % values)


def find_wayback(setting: str, beside: Path) -> Path:
    """pywb's ``wayback``: the setting's, else ``.venv-pywb`` beside weidang's source, else PATH."""
    candidates = [Path(setting)] if setting else [beside / ".venv-pywb" / "bin" / "wayback"]
    if not setting and shutil.which("wayback"):
        candidates.append(Path(str(shutil.which("wayback"))))
    for path in candidates:
        if path.is_file():
            return path
    where = setting or str(candidates[0])
    raise ReplayUnavailable(N_("there is no pywb at %(where)s: run `sh install-replay.sh` in "
                               "weidang's folder (or set WEB_PYWB to pywb's wayback program)"),
                            where=where)


@dataclass
class _Prepared:
    files: tuple[tuple[str, int], ...]  # (name, size) of the closed files the index holds
    indexes: tuple[Path, Path]  # their sorted replay index: the main one and the recent one


class Replay:
    """pywb over the collections that ``open_collection`` opens by name; started on first use."""

    def __init__(self, wayback: Path, state: Path,
                 open_collection: Callable[[str], Collection | None]) -> None:
        self.wayback, self.state, self._open = wayback, state, open_collection
        self._prepared: dict[str, _Prepared] = {}
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def address(self, collection: str, url: str) -> str | None:
        """The replay path (``/collection/timestamp/url``) of ``url``'s latest capture in
        ``collection``, or None when the collection holds no page at that address."""
        with self._lock:
            prepared = self._prepare(collection)
        key = url_key(url)
        stamps = [latest_capture(index, key) for index in prepared.indexes] if prepared else []
        stamp = max(filter(None, stamps), default=None)
        return f"/{collection}/{stamp}/{url}" if stamp else None

    def start(self) -> None:
        """Start pywb now (``weidang web`` does, from its main thread, before serving)."""
        self.upstream()

    def upstream(self) -> tuple[str, int]:
        """Where pywb listens, started if it is not running."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
        return "127.0.0.1", self.port

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _prepare(self, name: str) -> _Prepared | None:
        collection = self._open(name) if name.replace("-", "").replace("_", "").isalnum() else None
        if collection is None:
            return None
        files = tuple((p.name, p.stat().st_size) for p in collection.closed_files())
        known = self._prepared.get(name)
        if known is None or known.files != files:
            known = self._prepared[name] = self._index(name, collection, files)
        return known

    def _index(self, name: str, collection: Collection, files: tuple[tuple[str, int], ...]) -> _Prepared:
        root = self.state / "collections" / name
        (root / "indexes").mkdir(parents=True, exist_ok=True)
        archive = root / "archive"
        if not archive.is_symlink():
            archive.symlink_to(collection.warcs.resolve(), target_is_directory=True)
        indexes = (root / "indexes" / MAIN, root / "indexes" / RECENT)
        main, recent = indexes
        held = root / HELD
        before, now = _held_files(held, indexes), set(files)
        for stale in root.glob(SPILL_PREFIX + "*"):  # runs of a sort a kill interrupted
            shutil.rmtree(stale, ignore_errors=True)
        if before is None or not before <= now:
            # first use, or a file went (recovery set it aside): derived again from the whole
            closed = {f for f, _ in files}
            # sorted runs beside indexes/, not in it: pywb reads every index that folder holds
            write_replay_index((e for e in collection.index if e.filename in closed), main, root)
            # Both files are always there: pywb lists the folder's files again only when its
            # time changes, to the second, so a file that appeared within one could be missed.
            replace_whole(recent, [])
        elif before != now:  # files were only added: merge theirs in
            added = sorted(now - before)
            lines = spilled_replay_lines(
                (e for file, _ in added for e in collection.index.by_file(file)), root)
            if recent.stat().st_size * RECENT_SHARE < main.stat().st_size:
                _merge_into(recent, lines)
            else:  # the recent index has grown: all of it into the main one
                with open(recent, "rb") as since:
                    _merge_into(main, heapq.merge(since, lines))
                replace_whole(recent, [])
        else:
            return _Prepared(files, indexes)
        _hold_files(held, indexes, files)
        return _Prepared(files, indexes)

    def _start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "collections").mkdir(exist_ok=True)
        (self.state / "config.yaml").write_text(CONFIG, encoding="utf-8")
        self.port = _free_port()
        log = open(self.state / "pywb.log", "ab")  # noqa: SIM115 - the process keeps it
        # No pywb outlives `weidang web`: it ends with the thread that starts it, the server's
        # main thread (``start`` at serving time) or one of waitress's, which live as long.
        self._process = subprocess.Popen(
            [str(self.wayback), "--port", str(self.port), "--bind", "127.0.0.1"],
            cwd=self.state, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=ends_with_parent(signal.SIGTERM))
        log.close()
        _wait_until_answering(f"http://127.0.0.1:{self.port}/", self._process, self.state / "pywb.log")


def latest_capture(index: Path, key: str, block: int = 8192) -> str | None:
    """The latest timestamp of address ``key`` in the sorted replay ``index``, found by binary
    search over its blocks (as pywb finds lines), so nothing of the index is held in memory."""
    # A space sorts before every character of a key. The index is ASCII: a key that is not
    # (an address surt left unescaped) is simply not in it.
    prefix = key.encode("utf-8") + b" "
    with open(index, "rb") as fh:
        low, high = 0, os.fstat(fh.fileno()).st_size // block
        while high - low > 1:  # the first whole line of block ``low`` sorts before the prefix
            middle = (low + high) // 2
            fh.seek(middle * block)
            fh.readline()
            line = fh.readline()
            if line and line < prefix:  # past the end counts as after it
                low = middle
            else:
                high = middle
        fh.seek(low * block)
        if low:
            fh.readline()
        latest = None
        for line in fh:
            if line.startswith(prefix):
                latest = line.split(b" ", 2)[1]
            elif line > prefix:
                break
    return latest.decode("ascii") if latest else None


def _merge_into(index: Path, lines: Iterable[bytes]) -> None:
    """Replace the sorted ``index`` with itself and the sorted ``lines``, merged."""
    with open(index, "rb") as old:
        replace_whole(index, heapq.merge(old, lines))


def _held_files(held: Path, indexes: tuple[Path, Path]) -> set[tuple[str, int]] | None:
    """The closed files (name, size) whose lines ``indexes`` hold, as noted when they were
    written; None when unknown or when the note is not about these very files (a crash between
    the writes, an index replaced since): then the index is derived again from the whole."""
    try:
        note = json.loads(held.read_text(encoding="utf-8"))
        if note["indexes"] != _identities(indexes):
            return None
        return {(str(name), int(size)) for name, size in note["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _hold_files(held: Path, indexes: tuple[Path, Path], files: Iterable[tuple[str, int]]) -> None:
    note = {"indexes": _identities(indexes), "files": sorted(files)}
    replace_whole(held, [json.dumps(note).encode("utf-8")])


def _identities(indexes: tuple[Path, Path]) -> list[list[int]]:
    """Which files these are, as the note keeps them: inode and size of each."""
    return [[status.st_ino, status.st_size] for status in map(os.stat, indexes)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120  # pywb imports gevent and more: seconds on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ReplayUnavailable(N_("pywb stopped as it started (its log: %(said)s)"),
                                    said=" / ".join(said))
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise ReplayUnavailable(N_("pywb did not answer at %(url)s within two minutes"), url=url)


class ReplayGate:
    """The WSGI application of the replay origin: lets through GET and HEAD requests of a reader
    ``allowed`` says is logged in, to pywb; refuses everything else."""

    def __init__(self, replay: Replay, allowed: Callable[[dict[str, Any]], bool]) -> None:
        self.replay, self.allowed = replay, allowed

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _refuse(start_response, "405 Method Not Allowed", N_("Replays can only be read."))
        if not self.allowed(environ):
            return _refuse(start_response, "403 Forbidden",
                           N_("Log in to weidang first: replays are for its readers only."))
        try:
            host, port = self.replay.upstream()
        except ReplayUnavailable as exc:
            return _refuse(start_response, "503 Service Unavailable", exc.template, **exc.values)
        conn = http.client.HTTPConnection(host, port, timeout=120)
        target = environ.get("RAW_URI") or (environ.get("PATH_INFO", "/") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))
        conn.request(environ["REQUEST_METHOD"], target, headers=_request_headers(environ))
        answer = conn.getresponse()
        headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in NOT_FORWARDED]
        start_response(f"{answer.status} {answer.reason}", headers)
        return _body(conn, answer)


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in NOT_FORWARDED:
                out[name] = value
    return out


def _body(conn: http.client.HTTPConnection, answer: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := answer.read(CHUNK):
            yield chunk
    finally:
        conn.close()


def _refuse(start_response: Callable[..., Any], status: str, why: str, **values: Any) -> list[bytes]:
    """A refusal in Chinese, then English: this origin has no pages, and no language choice."""
    said = [(gettext(why, lang) % values if values else gettext(why, lang)) for lang in ("zh_CN", "en")]
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Security-Policy", "default-src 'none'")])
    return ["\n".join(said).encode() + b"\n"]
