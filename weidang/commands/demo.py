"""`weidang demo`: the main job on its embedded default, in a home of its own.

It starts the built-in platform emulator (recorded real responses plus generated accounts, so
no internet is needed), registers one Weibo and one WeChat account, harvests them through the
same crawler the real platforms get (only the proxy differs), verifies the collection and
prints what it did. Nothing it writes can be taken for an archive's captures: the home is
marked as a demo home and every WARC file says ``weidang-demo: true``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click
import tomli_w
from tqdm import tqdm

from catalog.accounts import AccountRegistry
from emulator import Emulator, World
from warc_store import make_seal, verify_collection
from weidang.commands.harvest import print_summary
from weidang.context import AppContext, pass_app
from weidang.harvesting import harvest_accounts
from weidang.home import Home, HomeError, default_demo_home
from weidang.indexing import search_example
from weidang.settings import Settings
from weidang.store import catalog_db, home_path, open_collection

DEMO_QUERY = "疫情防控"  # a phrase the emulator's generated government posts use
DEMO_SETTINGS = ["CRAWLER_DELAY_SECONDS=0", "CRAWLER_BACKOFF_SECONDS=0.1", "CRAWLER_TIMEOUT_SECONDS=20"]


def prepare_demo_home(root: Path) -> Home:
    """A fresh demo home: an earlier demo's files are replaced, anything else is refused."""
    home = Home(root)
    if root.exists() and any(root.iterdir()):
        if not home.is_demo():
            raise HomeError(f"{root} already holds files that are not weidang demo data; the demo "
                            "never writes into a real archive's home, choose another --home")
        shutil.rmtree(root)
    home.ensure(demo=True)
    return home


@click.command("demo")
@click.option("--home", "demo_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its files (default: ~/.local/share/weidang-demo; "
                   "never WEIDANG_HOME).")
@click.option("--posts", default=20, show_default=True, help="Posts per generated account.")
@pass_app
def command(app: AppContext, demo_root: Path | None, posts: int) -> int:
    """Run the main job on the built-in platform emulator, in a home of its own.

    Nothing it writes touches a real archive: the demo home is marked as such, and every WARC
    file it writes says `weidang-demo: true` in its warcinfo record.
    """
    home = prepare_demo_home(demo_root or default_demo_home())
    click.echo(f"Demo home: {home.root}")
    started = time.monotonic()
    with Emulator(World(accounts=1, posts=posts, seed=1), state_dir=home.root / "emulator").start() as emu:
        world = emu.world.summary()
        weibo = next(a for a in world["weibo"] if not a.get("recorded"))
        wechat = next(a for a in world["wechat"] if a.get("token"))
        settings = home.settings([*DEMO_SETTINGS, f"CRAWLER_PROXY={emu.proxy_url}", *app.overrides])
        keys = _register(home, settings, weibo, wechat)
        click.echo(f"Platform emulator at {emu.proxy_url}; harvesting {', '.join(keys)}.")
        with tqdm(desc="Harvesting", unit=" exchanges", file=sys.stderr) as bar:
            def progress(account: str, size: int) -> None:
                bar.set_postfix_str(account, refresh=False)
                bar.update(1)

            summaries = harvest_accounts(home, settings, keys, demo=True, progress=progress)
    for summary in summaries:
        print_summary(summary)
    collection = open_collection(home)
    report = verify_collection(collection, settings["WARC_STORE_VERIFY_WORKERS"])
    click.echo(f"Collection {collection.root}: {len(report.files)} WARC file(s), "
               f"{sum(f.records for f in report.files)} records, {report.bytes_checked / 1e6:,.1f} MB.")
    click.echo(f"Verification: {'all checks passed' if report.ok else 'PROBLEMS FOUND'} "
               "(SHA-256 and SM3 of every file, every record digest, manifest, event chain).")
    click.echo(f"Seal: {make_seal(collection)}")
    click.echo("")
    for line in search_example(home, settings, DEMO_QUERY, limit=2):
        click.echo(line)
    click.echo("")
    click.echo(f"Done in {time.monotonic() - started:.1f} s. Look around: weidang --home {home.root} "
               f"accounts list | status | search 档案 | verify | seal")
    return 0 if report.ok and all(s.outcome == "ok" for s in summaries) else 1


def _register(home: Home, settings: Settings, weibo: dict[str, Any],
              wechat: dict[str, Any]) -> list[str]:
    """Register the demo's two accounts, the WeChat one with a backend login kept by reference."""
    creds = home_path(home, settings, "CATALOG_CREDENTIALS_FILE")
    creds.write_text(tomli_w.dumps({"demo-wechat": {"cookie": wechat["cookie"], "token": wechat["token"],
                                                    "fakeid": wechat["biz"]}}), encoding="utf-8")
    os.chmod(creds, 0o600)
    registry = AccountRegistry(catalog_db(home, settings), via="demo")
    weibo_key, wechat_key = f"weibo:{weibo['uid']}", f"wechat:{wechat['biz']}"
    registry.add(weibo_key, name=weibo.get("screen_name", ""))
    registry.add(wechat_key, name=wechat.get("nickname", ""), credentials="demo-wechat", source="backend")
    return [weibo_key, wechat_key]
