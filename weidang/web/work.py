"""Long work started from a page (the 四性 audit of a collection, a transfer package), done beside
the server so that the page answers at once: the person is sent to the work's own page, which
reloads itself every few seconds (a ``<meta>`` refresh, no script) until the work has ended, then
shows what it found and a link to the result.

One thread does the work, one piece after the other in the order asked: an audit re-hashes
every byte of a collection and a package copies it, and two at once would only halve each
other's speed on the machine that also serves the pages. The thread is a daemon: stopping the
server abandons what is under way (a transfer leaves its ``.part`` folder, removed by the next
one into the same place; an audit leaves nothing but its fixity event). A QR login waits on a
person for minutes and uses almost no machine: it runs beside the queue, on a thread of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import secrets
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.secret_shapes import scrub_secrets

log = logging.getLogger(__name__)

KEEP = 200  # ended work remembered for its page; the oldest is forgotten first
# Work beside the queue holds a browser each (~150 MB) while it waits on a person: a few at once,
# one per person (a second QR login of the same person replaces nothing, it only costs memory).
BESIDE_LIMIT = 4


@dataclass
class Work:
    """One piece of work and what it said; ``messages`` are (category, text) in the language of
    the person who asked for it, ``result`` the page of what it made."""

    ident: str
    title: str
    owner: str
    lang: str
    asked: dt.datetime
    state: str = "waiting"  # waiting, running, done, failed
    messages: list[tuple[str, str]] = field(default_factory=list)
    result: str | None = None
    ended: dt.datetime | None = None
    picture: bytes | None = None  # a PNG the person must see while it runs (a QR code to scan)
    beside: bool = False

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")

    def say(self, text: str, category: str = "info") -> None:
        self.messages.append((category, text))


Job = Callable[[Work], None]  # fills the work's messages and result


class WorkFailed(Exception):
    """Raised by a job that has said why it failed (in its messages)."""


class ShelfFull(Exception):
    """No more work beside the queue now: ``mine`` is the asker's own, still running, if that is
    why; else as much is running beside the queue as the server allows."""

    def __init__(self, mine: Work | None) -> None:
        super().__init__(mine.ident if mine else "")
        self.mine = mine


class WorkShelf:
    """The work asked for in this server, by id; one thread does it in order."""

    def __init__(self, clock: Callable[[], dt.datetime], failed_text: Callable[[Work, BaseException], str]):
        self._clock = clock
        self._failed_text = failed_text
        self._works: OrderedDict[str, Work] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Work, Job]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="weidang-web-work", daemon=True)
        self._thread.start()

    def start(self, title: str, owner: str, lang: str, job: Job, beside: bool = False) -> Work:
        """``beside``: work that waits on a person, not on the machine (a QR code to scan), runs
        at once on its own thread rather than holding up the queue for minutes; ``ShelfFull``
        when the asker's own is still running or ``BESIDE_LIMIT`` are."""
        work = Work(secrets.token_urlsafe(9), title, owner, lang, self._clock(), beside=beside)
        with self._lock:
            if beside:
                self._room_beside(owner)
            self._works[work.ident] = work
            self._forget_old()
        if beside:
            threading.Thread(target=self._do, args=(work, job), name="weidang-web-beside",
                             daemon=True).start()
        else:
            self._queue.put((work, job))
        return work

    def get(self, ident: str) -> Work | None:
        with self._lock:
            return self._works.get(ident)

    def _room_beside(self, owner: str) -> None:
        running = [w for w in self._works.values() if w.beside and not w.over]
        mine = next((w for w in running if w.owner == owner), None)
        if mine is not None or len(running) >= BESIDE_LIMIT:
            raise ShelfFull(mine)

    def _forget_old(self) -> None:
        ended = [k for k, w in self._works.items() if w.over]
        for key in ended[:max(0, len(self._works) - KEEP)]:
            del self._works[key]

    def _run(self) -> None:
        while True:
            self._do(*self._queue.get())

    def _do(self, work: Work, job: Job) -> None:
        work.state = "running"
        try:
            job(work)
            work.state = "done"
        except WorkFailed:
            work.state = "failed"
        except Exception as exc:  # noqa: BLE001 - told on the work's page, logged whole
            # A login's work may fail holding a cookie in its traceback: logged scrubbed.
            log.error("web work %s (%s) failed:\n%s", work.ident, work.title,
                      scrub_secrets("".join(traceback.format_exception(exc))))
            work.say(self._failed_text(work, exc), "error")
            work.state = "failed"
        work.picture = None  # a QR code is of no use once its login has ended
        work.ended = self._clock()
