"""`weidang demo`: the main job on its embedded default, in a home of its own."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

import emulator
from warc_store import HttpRequest, HttpResponse, make_seal, verify_collection
from weidang.context import AppContext, pass_app
from weidang.home import Home, HomeError, default_demo_home
from weidang.store import capture_writer, open_collection

SAMPLES = Path(emulator.__file__).parent / "data"
# A made-up login, so the demo shows that logins never reach the archive.
DEMO_COOKIE = "SUB=_2A25demo-cookie-value-never-archived; SUBP=0033WrSXqPxfM72-demo"
# Real recorded responses and the URLs they answer (see emulator/data/PROVENANCE.md).
DEMO_EXCHANGES = [
    ("https://m.weibo.cn/api/container/getIndex?containerid=1005056279793937",
     "weibo/mweibo_getIndex_profile_100505_userInfo_tabs.json", "application/json; charset=utf-8"),
    ("https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937",
     "weibo/mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json",
     "application/json; charset=utf-8"),
    ("https://m.weibo.cn/statuses/extend?id=4645748019299849",
     "weibo/mweibo_statuses_extend_longTextContent_4645748019299849.json", "application/json; charset=utf-8"),
    ("https://m.weibo.cn/detail/4649031014551911",
     "weibo/mweibo_detail_page_render_data_4649031014551911.html", "text/html; charset=utf-8"),
    ("https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650804290&idx=8",
     "wechat/mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html",
     "text/html; charset=UTF-8"),
]


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
@pass_app
def command(app: AppContext, demo_root: Path | None) -> int:
    """Run the main job on built-in data in a home of its own.

    Nothing it writes touches a real archive: the demo home is marked as such, and every WARC
    file it writes says `weidang-demo: true` in its warcinfo record.
    """
    home = prepare_demo_home(demo_root or default_demo_home())
    settings = home.settings(app.overrides)
    collection = open_collection(home, create=True)
    click.echo(f"Demo home: {home.root}")
    started = time.monotonic()
    harvest_id = "demo-" + collection.clock().strftime("%Y%m%dT%H%M%SZ")
    with capture_writer(collection, settings, {"weidang-demo": "true", "weidang-harvest-id": harvest_id},
                        secret_values=[DEMO_COOKIE]) as writer:
        with click.progressbar(DEMO_EXCHANGES, label="Capturing sample responses",
                               file=sys.stderr) as bar:
            for url, sample, ctype in bar:
                body = (SAMPLES / sample).read_bytes()
                writer.write_exchange(
                    HttpRequest("GET", url, [("Host", url.split("/")[2]), ("Cookie", DEMO_COOKIE)]),
                    HttpResponse(200, "OK", [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                             ("Set-Cookie", "XSRF-TOKEN=demo1234abcd; path=/")], body))
        picture = (SAMPLES / "weibo" / "mweibo_statuses_extend_emoji_only_2019.json").read_bytes()
        for host in ("wx1", "wx3"):  # the same picture from two hosts: stored once, then a revisit
            writer.write_exchange(HttpRequest("GET", f"https://{host}.sinaimg.cn/large/demo.json"),
                                  HttpResponse(200, "OK", [("Content-Type", "application/json")], picture),
                                  dedup=True)
    files = writer.files_closed
    report = verify_collection(collection, settings["WARC_STORE_VERIFY_WORKERS"])
    click.echo(f"Wrote {len(files)} WARC file(s) with {sum(f.records for f in report.files)} records "
               f"into {collection.root} in {time.monotonic() - started:.1f} s.")
    click.echo(f"Verification: {'all checks passed' if report.ok else 'PROBLEMS FOUND'} "
               f"(SHA-256 and SM3 of every file, every record digest, manifest, event chain).")
    click.echo(f"Seal: {make_seal(collection)}")
    click.echo(f"Try: weidang --home {home.root} verify")
    return 0 if report.ok else 1
