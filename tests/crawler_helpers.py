"""Run real harvests against the emulator and look at what they left: tests of the crawler.

Scrapy's reactor cannot restart inside one process, so every harvest here is a `weidang`
subprocess; the emulator is a subprocess too, one per test module (or test) that changes its world.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from emulator_client import ROOT, EmulatorClient, start_subprocess
from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from catalog.db import Database, open_catalog
from warc_store import Collection, StoredRecord, iter_records

WEIDANG = [sys.executable, "-m", "weidang"] if not (ROOT / ".venv/bin/weidang").exists() \
    else [str(ROOT / ".venv/bin/weidang")]
REDACTED_PARAMS = {"access_token", "appsecret", "key", "pass_ticket", "secret", "token", "uin"}


def start_emulator(state_dir: Path, plan: str | None = None, accounts: int = 2,
                   posts: int = 25) -> EmulatorClient:
    """A fresh emulator (its own world and plan) as a subprocess."""
    extra = ["--accounts", str(accounts), "--posts", str(posts), "--seed", "1"]
    if plan is not None:
        plan_file = state_dir / "plan.toml"
        state_dir.mkdir(parents=True, exist_ok=True)
        plan_file.write_text(plan, encoding="utf-8")
        extra += ["--plan", str(plan_file)]
    client, _ = start_subprocess(state_dir, *extra)
    return client


def weibo_ids(client: EmulatorClient, uid: str) -> list[str]:
    return next(a["post_ids"] for a in client.world()["weibo"] if str(a["uid"]) == uid)


def wechat_account(client: EmulatorClient, biz: str) -> dict[str, Any]:
    return next(a for a in client.world()["wechat"] if a["biz"] == biz)


def wechat_ids(account: dict[str, Any]) -> list[str]:
    """Post ids (``mid_idx``) of every article link the world lists."""
    out = []
    for link in account["links"]:
        q = dict(parse_qsl(urlsplit(link).query))
        out.append(f"{q['mid']}_{q['idx']}")
    return out


@dataclass
class Archive:
    """A weidang home driven through the command line, harvesting through the emulator."""

    root: Path
    client: EmulatorClient
    settings: list[str] = field(default_factory=list)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    catalog_url: str = ""  # the catalog on a database server (CATALOG_URL); "" = SQLite in the home

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, WEIDANG_HOME=str(self.root), PYTHONPATH=str(ROOT))

    @property
    def _catalog_setting(self) -> list[str]:
        return [f"CATALOG_URL={self.catalog_url}"] if self.catalog_url else []

    def weidang(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        sets = [x for s in [f"CRAWLER_PROXY={self.client.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
                            "CRAWLER_BACKOFF_SECONDS=0.05", *self._catalog_setting, *self.settings]
                for x in ("--set", s)]
        # A bound on waiting, not a timing: a harvest on a loaded machine (its catalog on the shared
        # PostgreSQL server, whose writers take turns) can take minutes.
        done = subprocess.run([*WEIDANG, *sets, *args], env=self.env, capture_output=True,
                              text=True, timeout=600, cwd=ROOT)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def popen(self, *args: str) -> subprocess.Popen[str]:
        sets = [x for s in [f"CRAWLER_PROXY={self.client.proxy_url}", "CRAWLER_DELAY_SECONDS=0",
                            "CRAWLER_BACKOFF_SECONDS=0.05", *self._catalog_setting, *self.settings]
                for x in ("--set", s)]
        return subprocess.Popen([*WEIDANG, *sets, *args], env=self.env, cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def add(self, account: str, *, source: str | None = None,
            credentials: dict[str, str] | None = None) -> None:
        args = ["accounts", "add", account, "--name", "测试账号"]
        if source:
            args += ["--source", source]
        if credentials is not None:
            name = "login_" + str(len(self.credentials) + 1)
            self.credentials[name] = credentials
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # as weidang makes it
            path = self.root / "credentials.toml"
            path.write_text("".join(f"[{n}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in c.items())
                                    + "\n" for n, c in self.credentials.items()), encoding="utf-8")
            path.chmod(0o600)
            args += ["--credentials", name]
        self.weidang(*args, check=True)

    def harvest(self, account: str, *flags: str) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
        done = self.weidang("harvest", account, "--json", *flags)
        assert done.stdout.strip().startswith("["), done.stdout + done.stderr
        return json.loads(done.stdout)[0], done

    # -- what it left -------------------------------------------------------------------------
    @property
    def collection_dir(self) -> Path:
        return self.root / "collections" / "default"

    def collection(self) -> Collection:
        return Collection.open(self.collection_dir)

    def warc_files(self) -> list[Path]:
        return sorted((self.collection_dir / "warcs").glob("*.warc.gz*"))

    def records(self) -> list[StoredRecord]:
        return [r for path in self.warc_files() for r in iter_records(path)]

    def catalog(self) -> Database:
        return open_catalog(self.catalog_url or self.root / "catalog.sqlite")

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """A query's rows; ``?`` marks its parameters, in order."""
        pieces = sql.split("?")
        named = "".join(piece + (f":p{i}" if i < len(params) else "") for i, piece in enumerate(pieces))
        db = self.catalog()
        try:
            with db.read() as conn:
                return [tuple(r) for r in conn.execute(text(named), {f"p{i}": v for i, v in
                                                                     enumerate(params)}).fetchall()]
        finally:
            db.close()

    def request_methods(self) -> dict[str, str]:
        """The HTTP method of every request record, by record id (StoredRecord keeps no method)."""
        out = {}
        for path in self.warc_files():
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type == "request":
                        out[rec.rec_headers.get_header("WARC-Record-ID")] = \
                            rec.http_headers.protocol
        return out

    def raw_responses(self) -> list[tuple[list[tuple[str, str]], bytes]]:
        """(HTTP headers, body bytes exactly as stored) of every response record."""
        out = []
        for path in self.warc_files():
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type == "response":
                        out.append((list(rec.http_headers.headers), rec.raw_stream.read()))
        return out

    def post_ids(self, account: str) -> list[str]:
        return [r[0] for r in self.rows("SELECT post_id FROM posts WHERE account = ?", account)]


def request_key(url: str, method: str = "GET") -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    """A request as both sides know it: secret parameters blanked, query order ignored."""
    parts = urlsplit(url)
    query = tuple(sorted((k, "*" if k.lower() in REDACTED_PARAMS else v)
                         for k, v in parse_qsl(parts.query, keep_blank_values=True)))
    return method.upper(), parts.hostname or "", parts.path, query


def every_byte(root: Path) -> bytes:
    """All bytes under ``root`` (a folder or a file), gzip members (WARC records) decompressed too."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]:
        data = path.read_bytes()
        out.append(data)
        if data[:2] == b"\x1f\x8b":
            out.append(_gunzip_members(data))
    return b"\n".join(out)


def _gunzip_members(data: bytes) -> bytes:
    """Each gzip member in turn, and inside each, any gzip-encoded HTTP body too."""
    out, rest = [], data
    while rest[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        member = d.decompress(rest)
        out.append(member)
        start = member.find(b"\r\n\r\n\x1f\x8b")
        while start >= 0:
            try:
                out.append(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(member[start + 4:]))
            except zlib.error:
                pass
            start = member.find(b"\r\n\r\n\x1f\x8b", start + 1)
        rest = d.unused_data
    return b"".join(out)


def emulator_site(**options: Any) -> Any:
    """A module's own emulator (``start_emulator(**options)``) as a module-scoped ``site`` fixture:
    ``site = emulator_site(posts=20)`` at the top of a test module."""
    @pytest.fixture(scope="module")
    def site(tmp_path_factory: Any) -> Any:
        client = start_emulator(tmp_path_factory.mktemp("emulator"), **options)
        try:
            yield client
        finally:
            client.stop()

    return site


def archive_fixture() -> Any:
    """An ``archive`` fixture: a fresh home on the module's ``site``, whose fault plan is cleared
    and whose request log starts again (so "after the fault" means this test's requests)."""
    @pytest.fixture
    def archive(site: EmulatorClient, tmp_path: Path) -> Archive:
        site.clear_plan()
        site.control("POST", "/reset")
        return Archive(tmp_path / "home", site)

    return archive
