"""`weidang demo`: the main job on its embedded default, in a home of its own.

It starts the built-in platform emulator (recorded real responses plus generated accounts, so
no internet is needed), registers one Weibo and one WeChat account on schedules of seconds, runs
the daemon (`weidang run`), whose child harvests go through the
same crawler the real platforms get (only the proxy differs), edits and deletes a post on the
platform between runs, stops the daemon, verifies the collection, searches it and
prints what it did; then it appraises the posts, writes a transfer package and the 四性 audit
report in its home (``weidang.demo_archival``). Nothing it writes can be taken for an archive's
captures: the home is marked as a demo home and every WARC file says ``weidang-demo: true``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import click
import tomli_w

from catalog.search.errors import SearchError
from warc_store import make_seal, verify_collection
from warc_store.seal import store_seal
from weidang import errors
from weidang.commands.web import DEFAULT_PORT, serve_home
from weidang.context import AppContext, pass_app
from weidang.home import Home, HomeError, default_demo_home
from weidang.i18n import _, china_time
from weidang.indexing import search_example
from weidang.settings import Settings
from weidang.store import catalog_db, home_path, open_collection

if TYPE_CHECKING:
    from schedules.config import RunReport

DEMO_ADMIN = "demo-admin"  # the administrator `weidang demo --serve` makes
DEMO_QUERY = "疫情防控"  # a phrase the emulator's generated government posts use
DEMO_INTERVAL = 5  # seconds between scheduled harvests of an account (a day, by default)
DEMO_SETTINGS = ["CRAWLER_DELAY_SECONDS=0", "CRAWLER_BACKOFF_SECONDS=0.1", "CRAWLER_TIMEOUT_SECONDS=20",
                 "SCHEDULES_SYNC_SECONDS=1"]


def prepare_demo_home(root: Path) -> Home:
    """A fresh demo home: an earlier demo's files are replaced, anything else is refused."""
    home = Home(root)
    if root.exists() and any(root.iterdir()):
        if not home.is_demo():
            raise HomeError(_("%(home)s already holds files that are not weidang demo data; the demo "
                              "never writes into a real archive's home, choose another --home", home=root))
        shutil.rmtree(root)
    home.ensure(demo=True)
    return home


@click.command("demo")
@click.option("--home", "demo_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its files (default: ~/.local/share/weidang-demo; "
                   "never WEIDANG_HOME).")
@click.option("--posts", default=20, show_default=True, help="Posts per generated account.")
@click.option("--for", "seconds", default=14.0, show_default=True, metavar="SECONDS",
              help="How long the daemon runs its short schedules (as `weidang run --for`).")
@click.option("--seconds", "old_seconds", type=float, default=None, hidden=True)  # the old name
@click.option("--serve", is_flag=True,
              help="Then serve the web interface of the demo home (as `weidang web`) until Ctrl+C, "
                   "with an administrator whose password is printed.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the web interface (with --serve).")
@pass_app
def command(app: AppContext, demo_root: Path | None, posts: int, seconds: float,
            old_seconds: float | None, serve: bool, port: int) -> int:
    """Run the main job (the daemon) on the built-in emulator, in a home of its own.

    Nothing it writes touches a real archive: the demo home is marked as such, every WARC file
    it writes says `weidang-demo: true` in its warcinfo record, and every record in it carries
    `WARC-Weidang-Demo: true`.
    """
    from emulator import Emulator, World  # noqa: PLC0415 - the demo's libraries load when it runs
    from schedules.daemon import run_for  # noqa: PLC0415
    from weidang.daemon_config import daemon_config  # noqa: PLC0415

    seconds = old_seconds if old_seconds is not None else seconds
    home = prepare_demo_home(demo_root or default_demo_home())
    click.echo(_("Demo home: %(home)s", home=home.root))
    started = time.monotonic()
    state = home.root / "emulator"
    with Emulator(World(accounts=1, posts=posts, seed=1), state_dir=state).start() as emu:
        world = emu.world.summary()
        weibo = next(a for a in world["weibo"] if not a.get("recorded"))
        wechat = next(a for a in world["wechat"] if a.get("token"))
        overrides = (*DEMO_SETTINGS, f"CRAWLER_PROXY={emu.proxy_url}",
                     f"CRAWLER_PROXY_CA={emu.ca_cert_path}", *app.overrides)
        settings = home.settings(overrides)
        keys = _register(home, settings, weibo, wechat)
        click.echo(_("Platform emulator at %(proxy)s. Registered %(accounts)s, each to be harvested every "
                     "%(seconds)s s.", proxy=emu.proxy_url, accounts=", ".join(keys), seconds=DEMO_INTERVAL))
        config = daemon_config(home, settings, overrides)
        half = seconds / 2
        click.echo(_("The daemon (`weidang run`) runs for %(seconds)s s; each harvest is a child process.",
                     seconds=f"{seconds:.0f}"))
        reports = run_for(config, half, logger=_quiet(), drain=True)
        # Between the two halves the platform changes: a post is edited, an article deleted.
        edited, gone = weibo["post_ids"][2], wechat["links"][1]
        emu.mutate({"op": "edit", "platform": "weibo", "id": edited,
                    "text": "【更正】本通知所述会议改期举行，具体时间另行通知。"})
        emu.mutate({"op": "delete", "platform": "wechat", "biz": wechat["biz"],
                    **_mid_idx(gone)})
        click.echo(_("Meanwhile on the platform: Weibo post %(post)s is edited, a WeChat article "
                     "is deleted.", post=edited))
        reports += run_for(config, half, logger=_quiet(), drain=True)
    _print_runs(reports)
    collection = open_collection(home)
    report = verify_collection(collection, settings["WARC_STORE_VERIFY_WORKERS"])
    click.echo(_("Collection %(folder)s: %(files)s WARC files, %(records)s records, %(mb)s MB.",
                 folder=collection.root, files=len(report.files),
                 records=sum(f.records for f in report.files), mb=f"{report.bytes_checked / 1e6:,.1f}"))
    click.echo(_("Verification: %(verdict)s (SHA-256 and SM3 of every file, every record digest, manifest, "
                 "event chain).", verdict=_("all checks passed") if report.ok else _("PROBLEMS FOUND")))
    seal = make_seal(collection)
    store_seal(collection, seal)  # kept in seals/, so that the transfer package carries it
    click.echo(_("Seal: %(seal)s", seal=seal))
    click.echo("")
    try:
        for line in search_example(home, settings, DEMO_QUERY, limit=2):
            click.echo(line)
    except SearchError as exc:  # the captures are safe; only the example search is missing
        click.echo(_("Warning: the captures are safe, but the search index cannot be used: "
                     "%(sentence)s Run `weidang index rebuild` once it can.", sentence=errors.sentence(exc)),
                   err=True)
    click.echo("")
    from weidang.demo_archival import archival_demo  # noqa: PLC0415

    for line in archival_demo(AppContext(home.root, overrides)):
        click.echo(line)
    click.echo("")
    click.echo(_("Done in %(seconds)s s. Look around: %(commands)s",
                 seconds=f"{time.monotonic() - started:.1f}",
                 commands=f"weidang --home {home.root} status | accounts list | search 档案 | verify | seal "
                          "| show | audit"))
    harvested = [r for r in reports if r.summary]
    ok = bool(harvested) and all(r.what == "ok" for r in harvested)
    if serve:
        _serve(home, home.settings(app.overrides), port)
    return 0 if report.ok and ok else 1


def _serve(home: Home, settings: Settings, port: int) -> None:
    """The demo home in the browser: a new administrator (random password, printed: the demo
    home holds demo data only), then `weidang web` on it until Ctrl+C."""
    import secrets  # noqa: PLC0415

    from catalog.users import add_user  # noqa: PLC0415

    password = secrets.token_urlsafe(12)
    with catalog_db(home, settings) as db, db.write() as conn:
        add_user(conn, DEMO_ADMIN, "admin", password, "demo", "演示管理员")
    click.echo("")
    click.echo(_("Web interface: http://127.0.0.1:%(port)s/ ; log in as %(name)s with the password "
                 "%(password)s", port=port, name=DEMO_ADMIN, password=password))
    serve_home(home, settings, "127.0.0.1", port, replay_port=port + 1)


def _print_runs(reports: list[RunReport]) -> None:
    click.echo(_("Scheduled runs: %(n)s (times are China time, UTC+08:00)", n=len(reports)))
    for r in reports:
        s = r.summary or {}
        counts = (_("new %(new)s, edited %(edited)s, deleted %(deleted)s, %(exchanges)s exchanges",
                    new=s.get("posts_new", 0), edited=s.get("posts_edited", 0),
                    deleted=s.get("posts_deleted", 0), exchanges=s.get("exchanges", 0))
                  if s else r.detail)
        click.echo(f"  {china_time(r.at, seconds=True)[11:19]} {r.account}: {_(r.what)} ({counts})")


def _quiet() -> logging.Logger:
    """The daemon's log stays in the home's logs/; the demo prints its own summary."""
    logger = logging.getLogger("weidang.demo.daemon")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: still running" notes
    return logger


def _mid_idx(link: str) -> dict[str, int]:
    query = dict(parse_qsl(urlsplit(link).query))
    return {"mid": int(query["mid"]), "idx": int(query["idx"])}


def _register(home: Home, settings: Settings, weibo: dict[str, Any],
              wechat: dict[str, Any]) -> list[str]:
    """Register the demo's two accounts, the WeChat one with a backend login kept by reference."""
    creds = home_path(home, settings, "CATALOG_CREDENTIALS_FILE")
    creds.write_text(tomli_w.dumps({"demo-wechat": {"cookie": wechat["cookie"], "token": wechat["token"],
                                                    "fakeid": wechat["biz"]}}), encoding="utf-8")
    os.chmod(creds, 0o600)
    from catalog.accounts import AccountRegistry  # noqa: PLC0415 - SQLAlchemy loads with the catalog, not for --help

    registry = AccountRegistry(catalog_db(home, settings), via="demo")
    weibo_key, wechat_key = f"weibo:{weibo['uid']}", f"wechat:{wechat['biz']}"
    schedule = {"interval": DEMO_INTERVAL, "jitter": 0}
    registry.add(weibo_key, name=weibo.get("screen_name", ""), **schedule)
    registry.add(wechat_key, name=wechat.get("nickname", ""), credentials="demo-wechat", source="backend",
                 **schedule)
    return [weibo_key, wechat_key]
