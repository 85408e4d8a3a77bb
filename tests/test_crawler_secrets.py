"""Secrets stay out of everything weidang writes or prints, including those obtained during a run.

Real harvests (subprocesses) through the emulator: the WeChat API token handed out at run time,
logins echoed inside answers in every content coding, and who may read the home's files.
"""

from __future__ import annotations

import gzip
import json
import stat
import subprocess
import sys
import zlib
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import brotli
import pytest
from crawler_helpers import (
    ROOT,
    Archive,
    archive_fixture,
    emulator_site,
    every_byte,
    wechat_account,
)
from warcio.archiveiterator import ArchiveIterator

from harvesters.wechat_article import canonical_link
from warc_store.redaction import REDACTION_HEADER, zstd

API_BIZ, BACKEND_BIZ = "MzkwMDAwMDAwMg==", "MzkwMDAwMDAwMQ=="


site = emulator_site(posts=6)


archive = archive_fixture()


def _tokens_handed_out(site) -> set[str]:
    """Every access token the emulator's API saw in use (it hands them out at /cgi-bin/token)."""
    return {dict(parse_qsl(urlsplit(r["url"]).query)).get("access_token", "")
            for r in site.control("GET", "/requests")} - {""}


def test_a_token_obtained_during_the_run_reaches_no_table_log_or_output(site, archive):
    account = wechat_account(site, API_BIZ)
    key = f"wechat:{API_BIZ}"
    archive.add(key, source="api", credentials={"appid": account["appid"], "secret": account["secret"]})
    archive.weidang("accounts", "schedule", key, "--every", "1h", "--jitter", "0", check=True)
    # the token is good, but the API refuses it when listing: its address quotes the token
    site.load_plan('[[rule]]\nhost = "api.weixin.qq.com"\npath = "/cgi-bin/freepublish/batchget"\n'
                   'fault = "wechat_errcode"\nerrcode = 40001\n')
    outputs = [archive.weidang("run", "--once")]  # the daemon: its log and its alert
    outputs.append(archive.weidang("harvest", key, "--force"))
    summary, done = archive.harvest(key, "--force")
    outputs += [done, archive.weidang("status"), archive.weidang("status", "--json")]
    tokens = _tokens_handed_out(site)
    assert len(tokens) >= 3, "each harvest should have obtained its own token"
    assert summary["outcome"] == "stopped" and "40001" in summary["reason"]
    assert "access_token=REDACTED" in summary["reason"]
    reasons = archive.rows("SELECT reason FROM runs UNION ALL SELECT reason FROM pauses")
    assert reasons and all("40001" in r for (r,) in reasons)
    assert "40001" in (archive.root / "logs" / "daemon.log").read_text(encoding="utf-8")
    printed = "".join(o.stdout + o.stderr for o in outputs)
    assert "40001" in printed
    files = [p for p in archive.root.rglob("*") if p.is_file()]
    leaked = {t for t in tokens if t in printed or any(t.encode() in every_byte(p) for p in files)}
    assert not leaked


def _decoded_bodies(archive: Archive) -> list[tuple[str, str, bytes]]:
    """(redaction header, Content-Encoding, body with any content coding undone) per response."""
    decode = {"": lambda b: b, "gzip": gzip.decompress, "deflate": zlib.decompress,
              "br": brotli.decompress, "zstd": zstd.decompress}
    out = []
    for path in archive.warc_files():
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    coding = record.http_headers.get_header("Content-Encoding") or ""
                    note = record.rec_headers.get_header(REDACTION_HEADER) or ""
                    out.append((note, coding, decode[coding](record.raw_stream.read())))
    return out


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_a_login_echoed_in_an_answer_of_any_coding_never_reaches_the_warc(site, archive, encoding):
    account = wechat_account(site, BACKEND_BIZ)
    session = account["cookie"].split(";")[0].split("=", 1)[1]
    key = f"wechat:{BACKEND_BIZ}"
    archive.add(key, source="backend", credentials={"cookie": account["cookie"],
                                                    "token": account["token"]})
    echo = (f"<html><body><p>debug: slave_sid {session} token {account['token']}</p>"
            + "<p>padding</p>" * 30 + "</body></html>")
    # the first article page echoes the login; every other answer comes in the same coding
    site.load_plan(f'[[rule]]\nhost = "mp.weixin.qq.com"\npath = "/s"\nnth = [1]\n'
                   f'fault = "body"\ncontent_type = "text/html; charset=utf-8"\n'
                   f'body = {json.dumps(echo)}\nencoding = "{encoding}"\n'
                   f'[[rule]]\nhost = "mp.weixin.qq.com"\nfault = "encode"\nencoding = "{encoding}"\n')
    summary, _ = archive.harvest(key)
    assert summary["posts_new"] > 0  # the other articles, answered in that coding
    bodies = _decoded_bodies(archive)
    assert len(bodies) > 2
    assert not [b for _, _, b in bodies if session.encode() in b or account["token"].encode() in b]
    echoed = [(note, coding) for note, coding, b in bodies if b"debug: slave_sid" in b]
    assert echoed == [(echoed[0][0], "")] and f"content-encoding:{encoding}-decoded" in echoed[0][0]
    # answers that held no secret stay as they arrived, in their coding
    assert sum(coding == encoding for _, coding, _ in bodies) > 1
    data = b"".join(every_byte(p) for p in archive.root.rglob("*") if p.is_file()
                    and p.name != "credentials.toml")
    assert session.encode() not in data


def _open_to_others(root: Path) -> list[str]:
    """Every file or folder under ``root`` (and itself) that a group or other users can open."""
    return [f"{stat.filemode(p.stat().st_mode)} {p.relative_to(root)}"
            for p in [root, *root.rglob("*")] if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]


def test_the_home_and_everything_in_it_are_owner_only(site, archive):
    key = "weibo:7000000001"
    archive.add(key)
    archive.weidang("accounts", "schedule", key, "--every", "1h", "--jitter", "0", check=True)
    archive.weidang("run", "--once")  # the daemon and its child harvest
    archive.harvest(key)
    archive.weidang("verify", check=True)
    for made in ("catalog.sqlite", "logs/daemon.log", "index", "collections/default/index.cdxj"):
        assert (archive.root / made).exists(), made
    assert archive.warc_files()
    assert not _open_to_others(archive.root)


# ``weidang harvest`` as a program that shows every WARNING it logs (as Scrapy's own root handler
# would, or Python's last-resort handler when no other is installed) runs it.
_SHOWING_LOGS = ("import logging, sys\nlogging.basicConfig(level=logging.WARNING)\n"
                 "from weidang.cli import main\nsys.exit(main(sys.argv[1:]))")


def test_scrapys_own_log_lines_carry_no_token(site, archive):
    account = wechat_account(site, API_BIZ)
    key = f"wechat:{API_BIZ}"
    archive.add(key, source="api", credentials={"appid": account["appid"], "secret": account["secret"]})
    # the token is good, but listing always fails: Scrapy's retry gives up and logs the address
    site.load_plan('[[rule]]\nhost = "api.weixin.qq.com"\npath = "/cgi-bin/freepublish/batchget"\n'
                   'fault = "status"\nstatus = 500\n')
    sets = [x for s in [f"CRAWLER_PROXY={site.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
                        "CRAWLER_BACKOFF_SECONDS=0.05"] for x in ("--set", s)]
    shown = subprocess.run([sys.executable, "-c", _SHOWING_LOGS, *sets, "harvest", key, "--force"],
                           env=archive.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    plain = archive.weidang("harvest", key, "--force")
    tokens = _tokens_handed_out(site)
    assert len(tokens) >= 2, "each harvest should have obtained its own token"
    assert "Gave up retrying <POST https://api.weixin.qq.com/cgi-bin/freepublish/batchget" in shown.stderr
    printed = shown.stdout + shown.stderr + plain.stdout + plain.stderr
    assert "access_token=REDACTED" in printed
    assert not {t for t in tokens if t in printed}


def test_a_public_address_stays_in_the_error_it_explains(site, archive):
    account = wechat_account(site, BACKEND_BIZ)
    key = f"wechat:{BACKEND_BIZ}"
    # listed as the archive writes them, so that the error quotes the listed address exactly
    links = [canonical_link(link) for link in account["links"][:3]]
    archive.add(key, source="urls", credentials={"urls": links})
    site.load_plan('[[rule]]\nhost = "mp.weixin.qq.com"\npath = "/s"\nnth = [1]\n'
                   'fault = "status"\nstatus = 404\n')
    summary, _ = archive.harvest(key)
    assert summary["errors"], summary
    # whichever listed article was asked for first got the 404 (two requests run at once)
    assert any(link in e for e in summary["errors"] for link in links), summary["errors"]
    assert not any("REDACTED" in e for e in summary["errors"]), summary["errors"]
