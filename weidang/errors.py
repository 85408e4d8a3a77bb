"""Turn each layer's exceptions into one plain sentence for the archivist."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from pathlib import Path

from catalog.errors import CatalogError
from catalog.search.errors import SearchError
from catalog.secret_shapes import scrub_secrets
from crawler.errors import CrawlError
from emulator.faults import FaultPlanError
from emulator.world import WorldError
from harvesters.errors import HarvestError
from schedules.errors import ScheduleError
from warc_store import lines as store_lines
from warc_store.errors import StoreError
from weidang.home import HomeError
from weidang.settings import SettingsError

# Each layer raises its own exceptions; these are the ones whose message is written for people.
USER_ERRORS: tuple[type[BaseException], ...] = (
    StoreError, HarvestError, CatalogError, SearchError, CrawlError, FaultPlanError, WorldError,
    HomeError, SettingsError, ScheduleError,
)


DISK_FULL = f"{store_lines.DISK_FULL} (no space left on the device); {store_lines.FREE_SPACE}"


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is a full disk or an exhausted quota."""
    return store_lines.is_disk_full(exc)


def sentence(exc: BaseException) -> str:
    text = scrub_secrets(str(exc).strip()) or exc.__class__.__name__  # it may quote an address
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "。")) else text + "."


def write_crash_report(exc: BaseException, logs: Path | None) -> Path | None:
    """Keep the traceback for the developers, out of the archivist's way: in ``logs`` (the logs
    folder of the home in use) if it can be written, else in the system's temporary folder. A
    home is never created for it, and a read-only home is left untouched."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = scrub_secrets("".join(traceback.format_exception(exc)))
    if logs is not None and logs.parent.is_dir():
        try:
            logs.mkdir(exist_ok=True)
            path = logs / f"crash-{stamp}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            pass
    try:
        fd, name = tempfile.mkstemp(prefix=f"weidang-crash-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)
    except OSError:
        return None
