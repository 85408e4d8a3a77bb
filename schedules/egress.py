"""A worker's egress gate: it takes a platform's jobs only while the platform has not refused
that worker's egress (its address and logins, ``CRAWLER_EGRESS``).

A rate limit or captcha seen by a harvest is stored in the catalog as a pause of the platform on
that egress (``catalog.pauses``), so every worker sees it; only workers with that egress stop
taking the platform's jobs (Celery's ``cancel_consumer``), and take them again when the pause
ends (``add_consumer``). Meanwhile the jobs wait in the platform's queue for the workers whose
egress the platform still answers. A job that reaches a paused worker before it stopped taking
jobs goes back to the queue untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from catalog.db import Database
from catalog.errors import CatalogError
from catalog.pauses import PauseScope
from catalog.runs import Pause, RunLog


class EgressGate:
    def __init__(self, catalog: Path | str, egress: str, platforms: Sequence[str],
                 queue_of: Callable[[str], str], log: logging.Logger, every: float = 10.0) -> None:
        self.catalog = catalog
        self.egress = egress
        self.platforms = tuple(platforms)
        self.queue_of = queue_of
        self.log = log
        self.every = every
        self._closed: set[str] = set()  # platforms whose queue this worker no longer consumes
        self._guard = threading.Lock()
        self._app: Any = None
        self._hostname = ""
        self._catalog_away = False

    def paused(self, platform: str) -> Pause | None:
        """The pause that stops ``platform`` for this egress (or everywhere), if any."""
        scopes = {PauseScope.platform(platform).label()}
        if self.egress:
            scopes.add(PauseScope.egress(self.egress, platform).label())
        try:
            db = Database(self.catalog)
            try:
                pauses = RunLog(db).active_pauses()
            finally:
                db.close()
        except CatalogError as exc:  # the catalog is away: decide again at the next look
            if not self._catalog_away:
                self.log.warning("%s; this worker's harvests wait for it", exc)
            self._catalog_away = True
            return None
        if self._catalog_away:
            self.log.info("the catalog answers again")
        self._catalog_away = False
        return next((p for p in pauses if p.scope in scopes), None)

    def start(self, app: Any, hostname: str) -> None:
        """Watch the pauses, opening and closing this worker's queues (in a thread)."""
        self._app, self._hostname = app, hostname
        threading.Thread(target=self._watch, name="egress", daemon=True).start()

    def check(self, platform: str) -> bool:
        """Whether this worker may take ``platform``'s jobs now; closes its queue if not."""
        pause = self.paused(platform)
        with self._guard:
            if pause is not None and platform not in self._closed:
                if self._control("cancel_consumer", platform):
                    self._closed.add(platform)
                    until = pause.until or "the archivist clears it"
                    self.log.warning("%s refused egress %s (%s): this worker takes no %s jobs "
                                     "until %s", platform, self.egress or "(all)", pause.reason,
                                     platform, until)
            elif pause is None and platform in self._closed:
                if self._control("add_consumer", platform):
                    self._closed.discard(platform)
                    self.log.info("the pause of %s on egress %s ended: this worker takes %s jobs "
                                  "again", platform, self.egress or "(all)", platform)
        return pause is None

    def _watch(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.every):
            for platform in self.platforms:
                self.check(platform)

    def _control(self, command: str, platform: str) -> bool:
        """Ask this worker (through the broker) to stop or start consuming a platform's queue."""
        if self._app is None:
            return False
        try:
            getattr(self._app.control, command)(self.queue_of(platform), destination=[self._hostname],
                                                reply=True, timeout=10)
        except Exception as exc:  # the broker is away: the next look tries again
            self.log.warning("the queue of %s could not be %s (%s)", platform,
                             "closed" if command == "cancel_consumer" else "opened", exc)
            return False
        return True
