"""Turn each layer's exceptions into one plain sentence for the archivist."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from catalog.secret_shapes import scrub_secrets
from warc_store import lines as store_lines

# Each layer raises its own exceptions; these are the ones whose message is written for people, by
# module and class name. They are looked up among the modules loaded so far: a layer never imported
# raised nothing, and importing every layer (Scrapy, warcio, the emulator...) to name its errors
# would cost every command's start-up, `weidang --help` included.
USER_ERROR_NAMES = {
    "warc_store.errors": "StoreError", "harvesters.errors": "HarvestError",
    "catalog.errors": "CatalogError", "catalog.search.errors": "SearchError",
    "crawler.errors": "CrawlError", "schedules.errors": "ScheduleError",
    "emulator.faults": "FaultPlanError", "emulator.world": "WorldError",
    "weidang.home": "HomeError", "weidang.settings": "SettingsError",
}


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions whose message is written for people, of every layer loaded so far."""
    return tuple(getattr(sys.modules[module], name) for module, name in USER_ERROR_NAMES.items()
                 if module in sys.modules)


DISK_FULL = f"{store_lines.DISK_FULL} (no space left on the device); {store_lines.FREE_SPACE}"


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is a full disk or an exhausted quota."""
    return store_lines.is_disk_full(exc)


# A first word that is a plain lowercase word ("the", "cannot"), not an identifier quoted as it is
# written (wechat:MzAx..., gh_6bab..., accounts_try1_gbk.csv, sm3): only such a word is capitalised.
_PLAIN_FIRST_WORD = re.compile(r"[a-z]+(?=[\s,;]|$)")


def sentence(exc: BaseException) -> str:
    text = scrub_secrets(str(exc).strip()) or exc.__class__.__name__  # it may quote an address
    if _PLAIN_FIRST_WORD.match(text):
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
