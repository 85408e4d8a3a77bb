"""Alerts: what an archivist must hear about (failures, expired logins, rate limiting).

Every alert goes to the daemon's log (a rotating file under ``HOME/logs/`` and stderr) and, when a
webhook address is configured, to a JSON POST. The webhook is best effort: a short timeout, and
its own failures are logged, never raised, so a broken chat bot never stops the harvests. Alerts
carry the account, the kind and the plain sentences the crawler wrote; anything in them that looks
like a login value is blanked before it leaves, so no secret is ever sent.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog.secret_shapes import scrub_secrets
from crawler.scrubbed_logs import scrub_record

KINDS = ("failed", "login expired", "rate limited", "backed off")
LOGGER_NAME = "weidang.daemon"


class _Scrubbed(logging.Filter):
    """Every line of the daemon's log, whoever wrote it (a child's error, APScheduler's), and the
    traceback it carries: formatted here, scrubbed, so no handler formats the raw one."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record, scrub_secrets)
        return True


def daemon_logger(log_dir: Path | None, stderr: bool = True, max_bytes: int = 10 * 1024**2,
                  backups: int = 5) -> logging.Logger:
    """The daemon's logger: ``log_dir/daemon.log`` (rotated) and stderr, one line per event."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    form = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "daemon.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"))
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    # APScheduler's own messages that matter (errors) go to the same place; the rest we log ourselves.
    scheduler_logger = logging.getLogger("apscheduler")
    scheduler_logger.setLevel(logging.ERROR)
    scheduler_logger.propagate = False
    for handler in list(scheduler_logger.handlers):
        scheduler_logger.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(form)
        handler.addFilter(_Scrubbed())
        logger.addHandler(handler)
        scheduler_logger.addHandler(handler)
    return logger


class Alerts:
    """Send alerts to the log and, if ``webhook_url`` is set, as JSON to the webhook."""

    def __init__(self, logger: logging.Logger, webhook_url: str = "", timeout: float = 5.0,
                 say: Callable[[str], str] | None = None) -> None:
        self.logger = logger
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.say = say or _as_written

    def send(self, kind: str, account: str, message: str, advice: str = "",
             run_id: str | None = None) -> dict[str, Any]:
        """``kind`` stays as it is for machines (``event``); people get ``title``, ``message`` and
        ``advice`` in the face's language (``say``), where it has the words."""
        alert = {"event": kind, "title": self.say(kind), "account": account,
                 "message": scrub_secrets(self.say(message)),
                 "advice": scrub_secrets(self.say(advice)) if advice else "",
                 "run_id": run_id, "host": socket.gethostname(),
                 "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "software": "weidang"}
        self.logger.warning("ALERT %s %s: %s%s", kind, account, alert["message"],
                            f" {self.say('What to do:')} {alert['advice']}" if alert["advice"] else "")
        if self.webhook_url:
            self._post(alert)
        return alert

    def _post(self, alert: dict[str, Any]) -> None:
        body = json.dumps(alert, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                reply.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.logger.error("the alert webhook could not be reached (%s); the alert is only in this log",
                              exc)


def _as_written(text: str) -> str:
    return text
