"""`weidang audit`: the 四性 report of a real harvested collection passes every check it can run,
and each property broken on purpose makes exactly its check fail, with evidence naming the file,
record or post. One harvest for the module; a test that breaks something breaks a copy."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from catalog_helpers import execute
from catalog_helpers import rows as catalog_rows
from crawler_helpers import WEIDANG, Archive, emulator_site, wechat_account
from lxml import html as lxml_html
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from catalog.db import open_catalog

WEIBO, BIZ = "weibo:7000000001", "MzkwMDAwMDAwMQ=="
# Not applicable before any post is appraised, or without --seal:
NOT_YET = {"authenticity.seal", "authenticity.archival_codes", "integrity.item_numbers"}

site = emulator_site(posts=8)


@pytest.fixture(scope="module")
def harvested(site, tmp_path_factory) -> Path:
    """A home with a Weibo and a WeChat (backend) harvest in one collection."""
    archive = Archive(tmp_path_factory.mktemp("audit") / "home", site)
    backend = wechat_account(site, BIZ)
    archive.add(WEIBO)
    archive.add(f"wechat:{BIZ}", source="backend",
                credentials={"cookie": backend["cookie"], "token": backend["token"]})
    for account in (WEIBO, f"wechat:{BIZ}"):
        summary, done = archive.harvest(account)
        assert summary["outcome"] == "ok", done.stdout + done.stderr
    return archive.root


@pytest.fixture
def home(harvested, tmp_path) -> Path:
    """A copy of the harvested home (modes kept) for a test to break."""
    copy = tmp_path / "home"
    shutil.copytree(harvested, copy, symlinks=True)
    return copy


def weidang(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`weidang ARGS` on ``home``, as an auditor runs it."""
    return subprocess.run([*WEIDANG, *args], capture_output=True, text=True,
                          env=dict(os.environ, WEIDANG_HOME=str(home)), timeout=300)


def audit(home: Path, out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    out.mkdir(exist_ok=True)
    done = weidang(home, "audit", *args, "--json", str(out / "audit.json"),
                   "--html", str(out / "audit.html"))
    assert (out / "audit.json").exists(), done.stdout + done.stderr
    return done.returncode, json.loads((out / "audit.json").read_text("utf-8")), done.stdout


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in report["checks"]}


def failed(report: dict[str, Any]) -> set[str]:
    return {row["id"] for row in report["checks"] if row["result"] == "failed"}


def evidence(report: dict[str, Any], check_id: str) -> str:
    return "\n".join(rows(report)[check_id]["evidence"])


def sql(home: Path, statement: str, **params: Any) -> None:
    with open_catalog(home / "catalog.sqlite") as db:
        execute(db, statement, **params)


def one(home: Path, query: str) -> tuple[Any, ...]:
    with open_catalog(home / "catalog.sqlite") as db:
        return catalog_rows(db, query)[0]


def collection(home: Path) -> Path:
    return home / "collections" / "default"


def warcs(home: Path) -> list[Path]:
    return sorted((collection(home) / "warcs").glob("*.warc.gz"))


def test_a_clean_archive_passes_every_check_and_the_html_shows_each_row(home, tmp_path):
    code, report, out = audit(home, tmp_path / "out")
    assert code == 0, out
    assert failed(report) == set() and report["ok"] is True
    results = {row["id"]: row["result"] for row in report["checks"]}
    assert {k for k, v in results.items() if v == "not_applicable"} == NOT_YET
    assert {row["property"] for row in report["checks"]} == {
        "authenticity", "integrity", "usability", "security"}
    assert all(row["evidence"] for row in report["checks"])  # a pass says what it checked
    assert set(report) == {"format", "target", "kind", "started_at", "finished_at", "ok", "counts",
                           "checks"}
    assert "全部通过" in out and "✗" not in out

    page = (tmp_path / "out" / "audit.html").read_text("utf-8")
    doc = lxml_html.fromstring(page)
    assert not doc.xpath("//script") and not doc.xpath("//link") and not doc.xpath("//*[@src]")
    trs = doc.xpath("//table[@class='checks']/tbody/tr")
    assert [tr.get("data-check") for tr in trs] == [row["id"] for row in report["checks"]]
    for tr, row in zip(trs, report["checks"], strict=True):
        assert tr.get("data-result") == row["result"]
        cells = tr.xpath("./td")
        assert cells[1].text_content().startswith(row["title_zh"])  # Chinese first
        assert row["title_en"] in cells[1].text_content()
        shown = {"passed": "通过", "not_applicable": "不适用"}[row["result"]]
        assert cells[2].text_content().startswith(shown)
        assert cells[3].xpath(".//li")


def test_a_flipped_byte_fails_the_digests_naming_the_file(home, tmp_path):
    target = warcs(home)[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    code, report, out = audit(home, tmp_path / "out")
    assert code == 1
    assert "authenticity.digests" in failed(report)
    assert target.name in evidence(report, "authenticity.digests")
    assert "未通过" in out and target.name in out


def test_a_truncated_warc_fails_parsing_naming_the_file(home, tmp_path):
    target = warcs(home)[-1]
    size = target.stat().st_size
    with open(target, "r+b") as fh:
        fh.truncate(size - 300)
    _, report, _ = audit(home, tmp_path / "out")
    assert "usability.warc_parse" in failed(report)
    assert target.name in evidence(report, "usability.warc_parse")
    assert "integrity.counts" in failed(report)  # fewer bytes than the manifest lists


def test_a_media_row_naming_a_missing_record_fails_integrity(home, tmp_path):
    post, position = one(home, "SELECT post_id, position FROM media WHERE record_id IS NOT NULL "
                               "ORDER BY post_id LIMIT 1")
    sql(home, "UPDATE media SET record_id = '<urn:uuid:00000000-0000-0000-0000-000000000000>' "
              "WHERE post_id = :p AND position = :n", p=post, n=position)
    code, report, _ = audit(home, tmp_path / "out")
    assert code == 1 and failed(report) == {"integrity.media"}
    shown = evidence(report, "integrity.media")
    assert post in shown and "00000000-0000-0000-0000-000000000000" in shown


def test_a_picture_dropped_from_the_index_fails_integrity(home, tmp_path):
    record_id, url = one(home, "SELECT record_id, url FROM media WHERE record_id IS NOT NULL "
                               "ORDER BY post_id LIMIT 1")
    index = collection(home) / "index.cdxj"
    lines = index.read_text("utf-8").splitlines(keepends=True)
    index.write_text("".join(ln for ln in lines if f'"url":"{url}"' not in ln), "utf-8")
    _, report, _ = audit(home, tmp_path / "out")
    assert "integrity.media" in failed(report)
    assert url in evidence(report, "integrity.media")
    assert "integrity.counts" in failed(report)  # the index no longer lists every record


def test_a_capture_before_publication_fails_the_times(home, tmp_path):
    post, published = one(home, "SELECT post_id, published_at FROM posts ORDER BY post_id LIMIT 1")
    sql(home, "UPDATE versions SET captured_at = '2001-01-01T00:00:00.000000Z' WHERE post_id = :p",
        p=post)
    code, report, _ = audit(home, tmp_path / "out")
    assert code == 1 and failed(report) == {"authenticity.times"}
    shown = evidence(report, "authenticity.times")
    assert post in shown and published in shown


def test_a_token_in_a_log_fails_security_naming_the_log(home, tmp_path):
    logs = home / "logs"
    logs.mkdir(mode=0o700, exist_ok=True)
    log = logs / "harvest.log"
    log.write_text("2026-12-01 10:00 fetched page\n2026-12-01 10:01 cookie "
                   "SUB=_2A25LsecretDesktopCookieValue9Xq; SUBP=0033WrSXqPxfM725\n", "utf-8")
    log.chmod(0o600)
    code, report, _ = audit(home, tmp_path / "out")
    assert code == 1 and failed(report) == {"security.secrets"}
    assert "logs/harvest.log line 2" in evidence(report, "security.secrets")


def test_a_token_in_a_warc_fails_security_naming_the_record(home, tmp_path):
    planted = collection(home) / "warcs" / "planted.warc.gz"
    token = "24_" + "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6kL8nP0rS2uV4xY6"
    with open(planted, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        body = json.dumps({"errcode": 0, "data": {"note": f"call with {token}"}}).encode()
        http = StatusAndHeaders("200 OK", [("Content-Type", "application/json")], protocol="HTTP/1.1")
        record = writer.create_warc_record("https://api.weixin.qq.com/cgi-bin/x", "response",
                                           payload=io.BytesIO(body), http_headers=http)
        writer.write_record(record)
    planted.chmod(0o600)
    _, report, _ = audit(home, tmp_path / "out")
    assert "security.secrets" in failed(report)
    shown = evidence(report, "security.secrets")
    assert "planted.warc.gz record <urn:uuid:" in shown and "WeChat API access token" in shown
    assert token not in json.dumps(report)  # the report names the secret, never shows it
    assert "integrity.counts" in failed(report)  # and a file the manifest does not list


def test_a_file_others_can_read_fails_the_permissions(home, tmp_path):
    (collection(home) / "manifest.jsonl").chmod(0o644)
    code, report, _ = audit(home, tmp_path / "out")
    assert code == 1 and failed(report) == {"security.permissions"}
    assert "collections/default/manifest.jsonl: mode 0644" in evidence(report, "security.permissions")


def test_a_broken_event_chain_fails_naming_the_line(home, tmp_path):
    events = collection(home) / "events.jsonl"
    lines = events.read_text("utf-8").splitlines(keepends=True)
    first = json.loads(lines[0])
    first["outcome"] = "failure"  # rewritten without its hash following
    lines[0] = json.dumps(first, ensure_ascii=False) + "\n"
    events.write_text("".join(lines), "utf-8")
    code, report, _ = audit(home, tmp_path / "out")
    assert code == 1 and "security.event_chain" in failed(report)
    assert "events.jsonl" in evidence(report, "security.event_chain")
    assert "line 1" in evidence(report, "security.event_chain")


def test_the_seal_is_checked_when_given(home, tmp_path):
    done = weidang(home, "seal")
    value = next(w for w in done.stdout.split() if w.startswith("weidang-seal-1:"))
    code, report, _ = audit(home, tmp_path / "ok", "--seal", value)
    assert code == 0 and rows(report)["authenticity.seal"]["result"] == "passed"
    parts = value.split(":")
    parts[4] = "0" * 64  # a seal of another manifest
    code, report, _ = audit(home, tmp_path / "bad", "--seal", ":".join(parts))
    assert code == 1 and failed(report) == {"authenticity.seal"}
    assert "manifest" in evidence(report, "authenticity.seal")


def test_the_seals_kept_in_the_collection_are_checked_without_being_given(home, tmp_path):
    done = subprocess.run([*WEIDANG, "seal"], capture_output=True, text=True,
                          env=dict(os.environ, WEIDANG_HOME=str(home)), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    code, report, _ = audit(home, tmp_path / "ok")
    assert rows(report)["authenticity.seal"]["result"] == "passed"
    assert "seals/" in evidence(report, "authenticity.seal")
    (kept,) = (home / "collections" / "default" / "seals").glob("*.seal")
    parts = kept.read_text("ascii").strip().split(":")
    parts[4] = "0" * 64  # the kept seal now names another manifest
    kept.write_text(":".join(parts) + "\n", "ascii")
    code, report, _ = audit(home, tmp_path / "bad")
    assert code == 1 and "authenticity.seal" in failed(report)
    assert kept.name in evidence(report, "authenticity.seal")


def test_a_post_page_gone_from_the_index_fails_the_replay(home, tmp_path):
    post, url = one(home, "SELECT post_id, url FROM posts WHERE platform = 'wechat' "
                          "ORDER BY post_id LIMIT 1")
    index = collection(home) / "index.cdxj"
    lines = index.read_text("utf-8").splitlines(keepends=True)
    index.write_text("".join(ln for ln in lines if f'"url":"{url}"' not in ln), "utf-8")
    _, report, _ = audit(home, tmp_path / "out")
    assert "usability.replay" in failed(report)
    assert f"wechat:{post}" in evidence(report, "usability.replay")


def test_a_closed_format_fails_naming_its_record(home, tmp_path):
    index = collection(home) / "index.cdxj"
    lines = index.read_text("utf-8").splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if '"mime":"image/jpeg"' in ln)
    lines[at] = lines[at].replace('"mime":"image/jpeg"', '"mime":"application/x-shockwave-flash"')
    index.write_text("".join(lines), "utf-8")
    _, report, _ = audit(home, tmp_path / "out")
    assert failed(report) == {"usability.formats"}
    record_id = json.loads(lines[at].split(" ", 2)[2])["record_id"]
    assert "application/x-shockwave-flash: 1 records" in evidence(report, "usability.formats")
    assert record_id in evidence(report, "usability.formats")


def test_a_folder_that_is_no_collection_is_refused_in_one_sentence(tmp_path):
    folder = tmp_path / "package"
    folder.mkdir()
    done = weidang(tmp_path / "home", "audit", str(folder))
    assert done.returncode == 1 and done.stderr.startswith("Error: ")
    assert str(folder) in done.stderr and "not a collection folder" in done.stderr
    assert "nor a transfer package" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_collection_folder_outside_any_home_is_audited_without_a_catalog(harvested, tmp_path):
    folder = tmp_path / "copy" / "default"
    shutil.copytree(harvested / "collections" / "default", folder, symlinks=True)
    code, report, _ = audit(tmp_path / "elsewhere", tmp_path / "out", str(folder))
    results = {row["id"]: row["result"] for row in report["checks"]}
    catalog_checks = {"authenticity.times", "integrity.media", "usability.replay"}
    assert code == 0 and {k for k, v in results.items() if v == "not_applicable"} == NOT_YET | catalog_checks
    assert "no catalog" in evidence(report, "usability.replay")
    assert results["integrity.metadata"] == results["security.secrets"] == "passed"


def test_kept_posts_have_their_archival_codes_and_item_numbers_checked(home, tmp_path):
    codes = ("--set", "CATALOG_ARCHIVE_FONDS=0194", "--set", "CATALOG_ARCHIVE_CATEGORY=XM",
             "--set", "CATALOG_ARCHIVE_UNIT=BGS")
    done = weidang(home, *codes, "appraise", "--account", WEIBO, "--keep", "--retention", "永久",
                   "--reviewer", "王芳")
    assert done.returncode == 0, done.stdout + done.stderr
    code, report, out = audit(home, tmp_path / "kept")
    assert code == 0, out
    assert rows(report)["authenticity.archival_codes"]["result"] == "passed"
    assert rows(report)["integrity.item_numbers"]["result"] == "passed"

    grouping, last, platform, post_id = one(
        home, "SELECT grouping, item, platform, post_id FROM archival_codes ORDER BY item DESC")
    sql(home, "INSERT INTO archival_codes (code, grouping, item, platform, post_id, assigned_at) "
        "VALUES (:code, :grouping, :item, :platform, :post_id, '2026-01-01T00:00:00.000000Z')",
        code=f"{grouping}-{last + 3:04d}", grouping=grouping, item=last + 3, platform=platform,
        post_id=post_id)
    sql(home, "INSERT INTO archival_codes (code, grouping, item, platform, post_id, assigned_at) "
        "VALUES ('0194_XM_2026', 'x', 1, :platform, :post_id, '2026-01-01T00:00:00.000000Z')",
        platform=platform, post_id=post_id)
    code, report, _ = audit(home, tmp_path / "broken")
    assert code == 1 and failed(report) == {"authenticity.archival_codes", "integrity.item_numbers"}
    assert "0194_XM_2026" in evidence(report, "authenticity.archival_codes")
    assert f"件号 {last + 1:04d}, {last + 2:04d} missing" in evidence(report, "integrity.item_numbers")
