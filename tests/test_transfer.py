"""`weidang transfer create` and `transfer verify` on a real harvest through the emulator, checked
by independent readers: the `bagit` library and its command line, py-wacz's `wacz validate`,
pywb replaying a post from the package's WACZ with the package's own index, lxml, Python's csv.

One harvest of a Weibo and a WeChat (backend) account; Weibo posts kept but one discarded, two
WeChat posts kept through a hand-picked topic (专题); the collection sealed. A test that breaks a
package breaks a copy of it."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bagit
import pytest
from crawler_helpers import WEIDANG, Archive, emulator_site, wechat_account
from lxml import etree
from pywb_replay import replaying
from reader_venvs import WACZ, reader_venv
from sqlalchemy import text
from tsa_helpers import LocalTsa

from catalog.transfer.metadata_xml import NAMESPACE
from catalog.transfer.register import COLUMNS
from warc_store import read_record

pytestmark = pytest.mark.slow

WEIBO, BIZ = "weibo:7000000001", "MzkwMDAwMDAwMQ=="
WECHAT = f"wechat:{BIZ}"
CODE = re.compile(r"^0194-XM·\d{4}-(Y|D30|D10)-BGS-\d{4}$")
NS = f"{{{NAMESPACE}}}"

site = emulator_site(posts=6)


@dataclass
class Transferred:
    archive: Archive
    weibo: Path  # the package of the Weibo account
    topic: Path  # the package of a topic of two WeChat posts
    kept: list[str]  # weibo:ID of the kept Weibo posts
    discarded: str
    topic_posts: list[str]
    tsa_ca: Path  # the CA certificate of the time-stamping authority that signed the seal


@pytest.fixture(scope="module")
def transferred(site, tmp_path_factory) -> Transferred:
    archive = Archive(tmp_path_factory.mktemp("transfer") / "home", site)
    backend = wechat_account(site, BIZ)
    archive.add(WEIBO)
    archive.add(WECHAT, source="backend",
                credentials={"cookie": backend["cookie"], "token": backend["token"]})
    for account in (WEIBO, WECHAT):
        summary, done = archive.harvest(account)
        assert summary["outcome"] == "ok", done.stdout + done.stderr
        archive.weidang("accounts", "codes", account, "--fonds", "0194", "--category", "XM",
                        "--unit", "BGS", check=True)
    weibo = [f"weibo:{i}" for i in archive.post_ids(WEIBO)]
    wechat = [f"wechat:{i}" for i in archive.post_ids(WECHAT)]
    archive.weidang("appraise", "--account", WEIBO, "--keep", "--retention", "永久", check=True)
    archive.weidang("appraise", weibo[0], "--discard", "--retention", "定期10年", "--reason", "重复转发",
                    check=True)
    archive.weidang("topics", "create", "年度精选", "--description", "两篇", check=True)
    archive.weidang("topics", "add", "年度精选", *wechat[:2], check=True)
    archive.weidang("appraise", "--topic", "年度精选", "--keep", "--retention", "定期30年", check=True)
    tsa = LocalTsa(tmp_path_factory.mktemp("tsa"))
    try:
        archive.weidang("--set", f"WARC_STORE_SEAL_TSA_URL={tsa.url}", "--set",
                        f"WARC_STORE_SEAL_TSA_CA_FILE={tsa.ca}", "seal", "--timestamp", check=True)
    finally:
        tsa.close()
    out = archive.root.parent / "packages"
    for args in (["--account", WEIBO], ["--topic", "年度精选"]):
        name = "weibo" if args[0] == "--account" else "topic"
        done = archive.weidang("transfer", "create", *args, "--out", str(out / name))
        assert done.returncode == 0, done.stdout + done.stderr
    return Transferred(archive, out / "weibo", out / "topic", weibo[1:], weibo[0], wechat[:2], tsa.ca)


def copy_of(package: Path, tmp_path: Path) -> Path:
    copy = tmp_path / package.name
    shutil.copytree(package, copy)
    return copy


def verify(package: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`weidang transfer verify` as the receiving archive runs it: no home, no catalog."""
    env = {k: v for k, v in os.environ.items() if k != "WEIDANG_HOME"}
    env["HOME"] = str(tmp_path / "receiver")
    return subprocess.run([*WEIDANG, "transfer", "verify", str(package), *args], capture_output=True,
                          text=True, env=env, timeout=300)


def register(package: Path) -> list[dict[str, str]]:
    with (package / "data" / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bagit_library_and_its_command_line_validate_the_package(transferred):
    for package in (transferred.weibo, transferred.topic):
        bag = bagit.Bag(str(package))
        bag.validate()
        assert set(bag.algorithms) >= {"sha256", "sha512"}
        assert (package / "bagit.txt").read_text() .startswith("BagIt-Version: 1.0")
        done = subprocess.run([str(Path(sys.executable).parent / "bagit.py"), "--validate", str(package)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "is valid" in done.stderr, done.stdout + done.stderr


def test_transfer_verify_passes_without_the_home(transferred, tmp_path):
    assert not (tmp_path / "receiver").exists()
    done = verify(transferred.weibo, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All checks passed" in done.stdout and "SM3" in done.stdout and "signer NOT checked" in done.stdout
    assert not (tmp_path / "receiver" / ".local").exists()  # it made no home
    seals = sorted(p.name for p in (transferred.weibo / "data" / "seals").iterdir())
    assert len(seals) == 2 and seals[0].endswith(".seal") and seals[1].endswith(".tsr")
    done = verify(transferred.weibo, tmp_path, "--tsa-ca", str(transferred.tsa_ca))
    assert done.returncode == 0 and "signer checked against the CA file" in done.stdout, done.stdout


def test_an_altered_time_stamp_token_is_caught(transferred, tmp_path):
    package = copy_of(transferred.weibo, tmp_path)
    token = next((package / "data" / "seals").glob("*.tsr"))
    data = bytearray(token.read_bytes())
    data[-10] ^= 0xFF
    token.write_bytes(bytes(data))
    from catalog.transfer import sm3_manifest

    bagit.Bag(str(package)).save(manifests=True)  # every manifest made again: only the token tells
    sm3_manifest.write_payload_manifest(package)
    bagit.Bag(str(package)).save()
    sm3_manifest.write_tag_manifest(package)
    done = verify(package, tmp_path, "--tsa-ca", str(transferred.tsa_ca))
    assert done.returncode == 1 and "时间戳不符" in done.stdout and token.name in done.stdout, done.stdout


def test_a_corrupted_sm3_manifest_is_caught_by_transfer_verify_while_bagit_passes(transferred, tmp_path):
    package = copy_of(transferred.weibo, tmp_path)
    manifest = package / "manifest-sm3.txt"
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    digest, rel = lines[0].split(" ", 1)
    lines[0] = ("0" if digest[0] != "0" else "1") + digest[1:] + " " + rel
    manifest.write_text("".join(lines), encoding="utf-8")
    bagit.Bag(str(package)).save()  # a re-bag: bagit's own tag manifests now agree with the edit
    bagit.Bag(str(package)).validate()  # bagit cannot see it: it does not read SM3
    done = verify(package, tmp_path)
    assert done.returncode == 1, done.stdout
    assert "SM3 不符" in done.stdout and rel.strip() in done.stdout
    # the SM3 tag manifest notices the edited SM3 manifest too
    assert "manifest-sm3.txt" in done.stdout


def test_a_changed_payload_byte_is_caught(transferred, tmp_path):
    package = copy_of(transferred.weibo, tmp_path)
    target = sorted((package / "data" / "metadata").glob("*.xml"))[0]
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    assert not bagit.Bag(str(package)).is_valid()
    done = verify(package, tmp_path)
    rel = target.relative_to(package).as_posix()
    assert done.returncode == 1
    assert f"文件内容已改变 changed: {rel}" in done.stdout and f"SM3 不符 SM3 mismatch: {rel}" in done.stdout


def test_a_changed_file_inside_a_wacz_is_named(transferred, tmp_path):
    """The WACZ's own hashes (datapackage.json) are checked too: a WARC file changed inside it
    and the bag's manifests recomputed (so only the WACZ's hashes can tell)."""
    package = copy_of(transferred.weibo, tmp_path)
    wacz = next((package / "data" / "wacz").glob("*.wacz"))
    changed = wacz.with_suffix(".tmp")
    with zipfile.ZipFile(wacz) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "pages/pages.jsonl":
                data = data.replace("测试".encode(), "篡改".encode()) + b"\n"
            dst.writestr(info, data)
    changed.replace(wacz)
    bagit.Bag(str(package)).save(manifests=True)
    bagit.Bag(str(package)).validate()
    done = verify(package, tmp_path)
    assert done.returncode == 1 and "pages/pages.jsonl" in done.stdout, done.stdout


def test_wacz_validate_accepts_every_wacz(transferred):
    wacz = reader_venv(WACZ) / "wacz"
    files = sorted((transferred.weibo / "data" / "wacz").glob("*.wacz")) + \
        sorted((transferred.topic / "data" / "wacz").glob("*.wacz"))
    assert [f.name for f in files] == ["weibo-7000000001.wacz", f"wechat-{BIZ}.wacz"]
    for path in files:
        done = subprocess.run([str(wacz), "validate", "-f", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and "Validation succeeded" in done.stdout, done.stdout + done.stderr


def _pages(wacz: Path) -> list[dict[str, Any]]:
    with zipfile.ZipFile(wacz) as zf:
        return [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()[1:]]


def test_pywb_replays_a_post_from_the_package_wacz(transferred, tmp_path):
    wacz = next((transferred.topic / "data" / "wacz").glob("*.wacz"))
    pages = _pages(wacz)
    assert {p["id"].rsplit(":", 1)[0] for p in pages} == set(transferred.topic_posts)
    page = next(p for p in pages if "mp.weixin.qq.com/s" in p["url"])
    collection = transferred.archive.collection()
    entry = next(e for e in collection.index.by_url(page["url"]) if e.record_type == "response")
    with replaying([wacz], tmp_path / "pywb", "pkg") as base:
        stamp = page["ts"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
        with urllib.request.urlopen(f"{base}{stamp}id_/{page['url']}", timeout=60) as answer:
            assert answer.status == 200
            body = answer.read()
    record = read_record(collection, entry.record_id)
    coding = next((v for k, v in record.http_headers if k.lower() == "content-encoding"), "")
    expected = gzip.decompress(record.payload) if coding.strip().lower() == "gzip" else record.payload
    assert body == expected and page["title"].encode() in body


def test_metadata_xml_is_well_formed_and_carries_the_archival_code(transferred):
    rows = {row["档号"]: row for row in register(transferred.weibo)}
    files = sorted((transferred.weibo / "data" / "metadata").glob("*.xml"))
    assert len(files) == len(transferred.kept) == len(rows)
    for path in files:
        root = etree.parse(str(path)).getroot()  # raises on anything not well-formed
        code = root.findtext(f"{NS}文件实体/{NS}档号")
        assert code and CODE.match(code), code
        row = rows[code]
        assert row["元数据文件"] == path.relative_to(transferred.weibo).as_posix()
        for element in ("题名", "责任者", "日期", "保管期限", "密级", "立档单位"):
            assert root.findtext(f"{NS}文件实体/{NS}{element}"), element
        assert root.findtext(f"{NS}文件实体/{NS}保管期限") == "永久"
        assert root.findtext(f"{NS}社交媒体/{NS}平台") == "weibo"
        files_node = root.findall(f"{NS}电子属性/{NS}文件")
        assert files_node and all(len(f.findtext(f"{NS}SM3") or "") == 64 for f in files_node)
        assert root.get("演示数据") is None


def test_register_has_chinese_headers_and_one_row_per_kept_post(transferred):
    with (transferred.weibo / "data" / "register.csv").open("rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"  # the byte-order mark Excel needs for Chinese
    rows = register(transferred.weibo)
    assert tuple(rows[0].keys()) == COLUMNS and COLUMNS[0] == "档号"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in column) for column in COLUMNS)
    assert sorted(f"{r['平台']}:{r['帖文标识']}" for r in rows) == sorted(transferred.kept)
    assert {r["演示数据"] for r in rows} == {"否"}


def test_the_form_is_html_and_a_pdf_with_the_package_digest(transferred):
    folder = transferred.weibo / "transfer-form"
    pdf = (folder / "transfer-form.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1
    html = (folder / "transfer-form.html").read_text(encoding="utf-8")
    digest = hashlib.sha256((transferred.weibo / "manifest-sha256.txt").read_bytes()).hexdigest()
    assert "电子档案移交登记表" in html and digest in html
    assert f"{len(transferred.kept)} 件" in html and "经办人签字" in html
    for event in ("capture", "message digest calculation", "appraisal", "transfer"):
        assert f'data-event="{event}"' in html
    assert 'class="failed"' not in html and "authenticity.package_fixity" in html
    assert "seal" in html.lower() and "weidang-seal-1:" in html


def test_discarded_posts_are_left_out(transferred):
    discarded = transferred.discarded.split(":", 1)[1]
    package = transferred.weibo
    assert discarded not in {r["帖文标识"] for r in register(package)}
    assert not list((package / "data" / "metadata").glob(f"*{discarded}*"))
    wacz = next((package / "data" / "wacz").glob("*.wacz"))
    assert not [p for p in _pages(wacz) if discarded in p["id"]]
    bag_info = (package / "bag-info.txt").read_text(encoding="utf-8")
    assert f"Weidang-Items: {len(transferred.kept)}" in bag_info and "Weidang-Demo" not in bag_info


def test_the_transfer_is_an_event_and_a_catalog_row_that_cannot_change(transferred):
    archive = transferred.archive
    bag_info = bagit.Bag(str(transferred.weibo)).info
    events = [e for e in archive.collection().events.entries() if e["type"] == "transfer"]
    assert [e["detail"]["transfer_id"] for e in events][0] == bag_info["External-Identifier"]
    assert events[0]["type_uri"].endswith("/tra")
    rows = archive.rows("SELECT transfer_id, items, payload_sha256, events FROM transfers ORDER BY seq")
    assert rows[0][0] == bag_info["External-Identifier"] and rows[0][1] == len(transferred.kept)
    assert rows[0][2] == hashlib.sha256((transferred.weibo / "manifest-sha256.txt").read_bytes()).hexdigest()
    assert json.loads(rows[0][3])["default"][0] == events[0]["seq"]
    with archive.catalog() as db, pytest.raises(Exception, match="append-only"):
        with db.write() as conn:
            conn.execute(text("UPDATE transfers SET items = 0"))
    assert archive.weidang("verify").returncode == 0  # the event chain still holds
    listed = [json.loads(line) for line in archive.weidang("transfer", "list", "--json",
                                                           check=True).stdout.splitlines()]
    assert [r["transfer_id"] for r in listed][0] == bag_info["External-Identifier"]
    assert listed[0]["folder"] == str(transferred.weibo) and listed[0]["demo"] is False


def test_the_package_audit_passes_and_catches_a_register_out_of_step(transferred, tmp_path):
    done = transferred.archive.weidang("audit", str(transferred.weibo), "--json", "-")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["kind"] == "package", done.stdout
    assert {r["result"] for r in report["checks"]} == {"passed"} and len(report["checks"]) >= 8
    # a register row dropped and the bag's manifests made again: every digest agrees, but the
    # register no longer matches the items
    package = copy_of(transferred.weibo, tmp_path)
    path = package / "data" / "register.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(lines[:1] + lines[2:]))
    bagit.Bag(str(package)).save(manifests=True)
    from catalog.transfer import sm3_manifest

    sm3_manifest.write_payload_manifest(package)
    bagit.Bag(str(package)).save()
    sm3_manifest.write_tag_manifest(package)
    assert verify(package, tmp_path).returncode == 0
    done = transferred.archive.weidang("audit", str(package), "--json", "-")
    report = json.loads(done.stdout)
    bad = {r["id"] for r in report["checks"] if r["result"] == "failed"}
    assert done.returncode == 1 and bad == {"integrity.counts", "authenticity.archival_codes"}, bad


def test_an_empty_selection_is_refused_in_plain_words(transferred, tmp_path):
    done = transferred.archive.weidang("transfer", "create", transferred.discarded,
                                       "--out", str(tmp_path / "none"))
    assert done.returncode != 0 and "None of the 1 posts selected" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr and not (tmp_path / "none").exists()
    done = transferred.archive.weidang("transfer", "create", "--account", WEIBO, "--year", "1999",
                                       "--out", str(tmp_path / "none"))
    assert done.returncode != 0 and "No post was selected" in done.stderr, done.stderr
    assert "--year" in done.stderr and "1999" in done.stderr and "--query" not in done.stderr


def test_demo_data_is_never_mixed_with_real_captures(transferred, site, tmp_path):
    """The home turned into a demo home by mistake: a later harvest's files are demo data, and
    a post with versions in both kinds of files cannot be transferred."""
    home = tmp_path / "home"
    shutil.copytree(transferred.archive.root, home, symlinks=True)
    archive = Archive(home, site, credentials=dict(transferred.archive.credentials))
    with (home / "weidang.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[home]\ndemo = true\n")
    edited = transferred.kept[0]
    site.control("POST", "/mutate", json.dumps({"op": "edit", "platform": "weibo",
                                                 "id": edited.split(":")[1],
                                                 "text": "更正：演示数据混入。"}).encode())
    summary, done = archive.harvest(WEIBO)
    assert summary["posts_edited"] >= 1, done.stdout + done.stderr
    done = archive.weidang("transfer", "create", edited, "--out", str(tmp_path / "mixed"))
    assert done.returncode != 0
    assert "demo data must never be packaged with real captures" in done.stderr + done.stdout or \
        "package them separately" in done.stderr + done.stdout, done.stdout + done.stderr
    assert not (tmp_path / "mixed").exists()


def test_a_package_left_unfinished_is_a_failure_event_and_no_catalog_row(transferred, tmp_path):
    """The form is printed after the transfer event is logged (it cites the event): a Chromium
    that does not start leaves no package, a failure event after the success one, and no row."""
    archive = transferred.archive
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    out = tmp_path / "unfinished"
    done = archive.weidang("--set", f"CRAWLER_BROWSER_EXECUTABLE={broken}", "transfer", "create",
                           "--account", WEIBO, "--out", str(out))
    assert done.returncode != 0 and "PDF" in done.stderr + done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".unfinished*"))
    events = [e for e in archive.collection().events.entries() if e["type"] == "transfer"
              and e["detail"].get("package") == str(out)]
    assert [e["outcome"] for e in events] == ["success", "failure"], events
    assert events[0]["detail"]["transfer_id"] == events[1]["detail"]["transfer_id"]
    assert "not finished" in events[1]["detail"]["note"] and "Chromium" in events[1]["detail"]["reason"]
    ids = [row[0] for row in archive.rows("SELECT transfer_id FROM transfers")]
    assert events[0]["detail"]["transfer_id"] not in ids
    assert archive.weidang("verify").returncode == 0  # the event chain still holds
