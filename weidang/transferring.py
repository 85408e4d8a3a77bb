"""The face's side of transfer packages: the selection in words, where events go, the package
audit and the form's rendering, handed to ``catalog.transfer.create``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weidang.context import AppContext
from weidang.i18n import _
from weidang.store import open_collection

if TYPE_CHECKING:
    from catalog.transfer.create import Created
    from catalog.transfer.form_data import FormData

TRANSFERS = "transfers"  # under the home: where the web writes packages (HOME/transfers/<id>)


def create_transfer(app: AppContext, out: Path | None, posts: Sequence[str], account: str | None,
                    year: int | None, topic: str | None, actor: str) -> Created:
    """A package of the kept posts selected, as `weidang transfer create` and the web make it;
    ``out`` None: a new folder HOME/transfers/<transfer id>."""
    from catalog.transfer.create import TransferAsk, create_package  # noqa: PLC0415
    from weidang.appraising import collection_source, now, selected_posts  # noqa: PLC0415
    from weidang.store import catalog_db, tsa_config  # noqa: PLC0415

    since, until = (f"{year}-01-01", f"{year}-12-31") if year else (None, None)
    when = now()
    words = selection_words(posts, account, year, topic)
    ident = transfer_id(when)
    if out is None:
        out = app.home.root / TRANSFERS / ident
        out.parent.mkdir(mode=0o700, exist_ok=True)
    ask = TransferAsk(out=out, selection=words, actor=actor, transfer_id=ident, when=when,
                      software=software())
    tsa = tsa_config(app.home, app.settings)
    render = form_renderer(str(app.settings["CRAWLER_BROWSER_EXECUTABLE"]))
    with catalog_db(app.home, app.settings) as db:
        keys = selected_posts(app, db, posts, account, since, until, topic, None,
                              options=_("--account, --year or --topic (the selection was: %(words)s)",
                                        words=words))
        return create_package(db, keys, ask, collection_source(app), transfer_sink(app),
                              package_auditor(tsa.ca_file), render)


def software() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return f"weidang {version('weidang')}"
    except PackageNotFoundError:
        return "weidang"


def transfer_id(when: dt.datetime) -> str:
    return f"weidang-transfer-{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def selection_words(posts: Sequence[str], account: str | None, year: int | None,
                    topic: str | None) -> str:
    parts = []
    if account:
        parts.append(f"账号 account {account}")
    if year:
        parts.append(f"{year} 年 year {year}")
    if topic:
        parts.append(f"专题 topic {topic}")
    if posts:
        parts.append(f"{len(posts)} 篇指定帖文 posts named")
    return ", ".join(parts) or "全部 everything"


def transfer_sink(app: AppContext) -> Any:
    """Transfer events go to the event log of each collection the package draws from."""
    def sink(collection: str, outcome: str, detail: dict[str, Any]) -> tuple[int, str]:
        entry = open_collection(app.home, collection).record_event("transfer", outcome, detail)
        return int(entry["seq"]), str(entry["hash"])
    return sink


def package_auditor(ca_file: Path | None) -> Any:
    def audit(folder: Path) -> tuple[bool, list[dict[str, Any]]]:
        from catalog.audit import PackageContext, run_audit  # noqa: PLC0415

        report = run_audit(PackageContext(folder, ca_file), "package")
        return report.ok, [r.to_json() for r in report.results]
    return audit


def form_renderer(chromium: str) -> Any:
    """Renders the form; Chromium is looked for now, so that a machine without it is told before
    anything is written or recorded."""
    from catalog.transfer.errors import TransferError  # noqa: PLC0415
    from crawler.browser import BrowserUnavailable, find_chromium  # noqa: PLC0415

    try:
        find_chromium(chromium)
    except BrowserUnavailable as exc:
        raise TransferError(_("the transfer form's PDF cannot be printed: %(why)s", why=exc)) from exc

    def render(form: FormData) -> dict[str, bytes]:
        from catalog.transfer.errors import TransferError  # noqa: PLC0415
        from crawler.browser import BrowserUnavailable  # noqa: PLC0415
        from weidang.transfer_form import render_files  # noqa: PLC0415

        try:
            return render_files(form, chromium)
        except BrowserUnavailable as exc:
            raise TransferError(_("the transfer form's PDF cannot be printed: %(why)s", why=exc)) from exc
    return render
