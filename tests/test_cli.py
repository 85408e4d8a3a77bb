"""The command line: help, the demo, verify and seal as an archivist or auditor uses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from warc_store.demo import demo_marks
from weidang.cli import main

WEIDANG = str(Path(sys.executable).with_name("weidang"))


def run(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_home is not None:
        env["WEIDANG_HOME"] = str(env_home)
    # The demo ends by appraising, transferring (with a PDF from Chromium) and auditing: minutes
    # on a busy machine, not a timed assertion
    return subprocess.run([WEIDANG, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """One demo run shared by the tests that only read or copy its home."""
    home = tmp_path_factory.mktemp("demo") / "demo"
    out = run("demo", "--home", str(home), "--for", "6")
    assert out.returncode == 0, out.stdout + out.stderr
    return home


def _copy(demo_home: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "demo"
    shutil.copytree(demo_home, copy)
    return copy


def test_help_lists_every_command_with_one_line():
    out = run("--help")
    assert out.returncode == 0
    listed = out.stdout.split("Commands:")[1].strip().splitlines()
    names = {line.split()[0] for line in listed}
    assert {"demo", "verify", "seal"} <= names
    assert all(not line.rstrip().endswith("...") for line in listed), listed


def test_demo_harvests_the_emulator_verifies_and_marks_its_data(tmp_path):
    import gzip
    import tomllib

    demo_home = tmp_path / "demo"
    out = run("demo", "--home", str(demo_home))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "all checks passed" in out.stdout
    runs = [line for line in out.stdout.splitlines() if line.startswith("  ") and ": ok (" in line]
    assert len(runs) >= 4  # the daemon harvested each of the two accounts at least twice
    assert any("edited 1" in line for line in runs) and any("deleted 1" in line for line in runs)
    assert "weidang search 疫情防控:" in out.stdout and "DEMO DATA" in out.stdout
    assert "Transfer package (移交包): " + str(demo_home / "transfers") in out.stdout
    assert "四性 audit report: " + str(demo_home / "audit-report.html") in out.stdout
    assert (demo_home / "weidang.toml").read_text().count("demo = true") == 1
    warcs = list((demo_home / "collections" / "default" / "warcs").glob("*.warc.gz"))
    content = b"".join(gzip.decompress(w.read_bytes()) for w in warcs)
    assert b"weidang-demo: true" in content and b"urn:weidang:post:weibo:" in content
    assert b"urn:weidang:post:wechat:" in content
    marks = demo_marks(warcs)  # every record, of every file the daemon's harvests wrote
    assert marks.demo and marks.records > 10 and not marks.real_files and not marks.mixed_files
    login = tomllib.loads((demo_home / "credentials.toml").read_text())["demo-wechat"]
    for secret in (login["cookie"].split("=", 1)[1].split(";")[0], login["token"]):
        assert secret.encode() not in content  # the demo's WeChat login never reached the archive
    verified = run("--home", str(demo_home), "verify")
    assert verified.returncode == 0 and "demo data" in verified.stdout
    open_to_others = [p for p in [demo_home, *demo_home.rglob("*")] if p.stat().st_mode & 0o077]
    assert not open_to_others  # the home and everything in it: owner only
    # A second demo replaces the first; --seconds, the old name of --for, still works.
    again = run("demo", "--home", str(demo_home), "--seconds", "4")
    assert again.returncode == 0
    now = list((demo_home / "collections" / "default" / "warcs").glob("*.warc.gz"))
    assert now and not {w.name for w in warcs} & {w.name for w in now}


def test_demo_ends_with_a_transfer_package_marked_as_demo_data(demo_home, tmp_path):
    import csv
    import zipfile

    from lxml import etree

    (package,) = (demo_home / "transfers").iterdir()
    assert "Weidang-Demo: true" in (package / "bag-info.txt").read_text(encoding="utf-8")
    for wacz in (package / "data" / "wacz").glob("*.wacz"):
        with zipfile.ZipFile(wacz) as zf:
            data = json.loads(zf.read("datapackage.json"))
        assert data["weidang-demo"] is True and data["description"].startswith("演示数据 DEMO DATA")
    with (package / "data" / "register.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["演示数据"] for r in rows} == {"是"}
    for xml in (package / "data" / "metadata").glob("*.xml"):
        assert etree.parse(str(xml)).getroot().get("演示数据") == "true"
    assert 'id="demo"' in (package / "transfer-form" / "transfer-form.html").read_text(encoding="utf-8")
    assert (package / "transfer-form" / "transfer-form.pdf").read_bytes().startswith(b"%PDF")
    assert list((package / "data" / "seals").glob("*.seal"))  # the demo's seal travels with it
    report = (demo_home / "audit-report.html").read_text(encoding="utf-8")
    assert "四性检测报告" in report
    checked = run("transfer", "verify", str(package))
    assert checked.returncode == 0 and "DEMO DATA" in checked.stdout, checked.stdout
    audited = run("--home", str(_copy(demo_home, tmp_path)), "audit", str(package), "--json", "-")
    assert audited.returncode == 0 and json.loads(audited.stdout)["kind"] == "package", audited.stdout


def test_demo_never_writes_into_a_real_home(tmp_path, monkeypatch):
    real = tmp_path / "archive"
    (real / "collections").mkdir(parents=True)
    (real / "weidang.toml").write_text("[settings]\n")
    out = run("demo", "--home", str(real))
    assert out.returncode == 1
    assert out.stderr.startswith("Error: ") and "not weidang demo data" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    # WEIDANG_HOME points at the archive: the demo still goes to its own home
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    out = run("demo", "--seconds", "4", env_home=real)
    assert out.returncode == 0 and str(tmp_path / "xdg" / "weidang-demo") in out.stdout
    assert not (real / "collections" / "default").exists()


def test_verify_json_and_exit_status_on_tampering(demo_home, tmp_path):
    home = _copy(demo_home, tmp_path)
    out = run("--home", str(home), "verify", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data[0]["ok"] is True and data[0]["demo"] is True
    warc = sorted((home / "collections" / "default" / "warcs").glob("*.warc.gz"))[0]
    raw = bytearray(warc.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    warc.write_bytes(bytes(raw))
    out = run("--home", str(home), "verify")
    assert out.returncode == 1 and "PROBLEMS FOUND" in out.stdout and "offset " in out.stdout
    single = run("verify", str(warc))
    assert single.returncode == 1


def test_seal_then_verify_with_seal(demo_home, tmp_path):
    home = _copy(demo_home, tmp_path)
    seal = run("--home", str(home), "seal")
    value = seal.stdout.strip()
    assert seal.returncode == 0 and value.startswith("weidang-seal-1:")
    assert run("--home", str(home), "verify", "--seal", value).returncode == 0
    bad = run("--home", str(home), "verify", "--seal", "nonsense")
    assert bad.returncode == 1 and "is not a weidang seal" in bad.stderr


@pytest.mark.parametrize("args,message", [
    (["verify", "/no/such/place"], "neither a collection folder nor a WARC file"),
    (["--set", "WARC_STORE_COMPRESS_LEVEL=fast", "verify"],
     "WARC_STORE_COMPRESS_LEVEL (from --set) is 'fast', but it must be a whole number from 0 to 9"),
    (["--set", "NO_SUCH_SETTING=1", "verify"], "unknown setting NO_SUCH_SETTING"),
])
def test_errors_are_one_plain_sentence(home, capsys, args, message):
    Path(home).mkdir(parents=True, exist_ok=True)
    (Path(home) / "collections" / "default" / "warcs").mkdir(parents=True)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message.lower() in err.lower() and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_error_sentence_never_quotes_a_secret():
    from crawler.errors import CrawlError
    from weidang.errors import sentence

    token = "80_" + "AbC9dEf1" * 12
    said = sentence(CrawlError(f"the API refused https://api.weixin.qq.com/x?access_token={token}"))
    assert token not in said and said.endswith("access_token=REDACTED.")


def test_verify_in_an_empty_home_says_so(home, capsys):
    assert main(["verify"]) == 1
    assert "there is no collection to verify" in capsys.readouterr().err.lower()


def test_settings_file_environment_and_set_in_that_order(tmp_path):
    from weidang.settings import Settings

    conf = tmp_path / "weidang.toml"
    conf.write_text("[settings]\nwarc_store_compress_level = 3\nwarc_store_max_size = 100000\n")
    s = Settings(conf, {"WEIDANG_WARC_STORE_MAX_SIZE": "200000"}, ["WARC_STORE_PREFIX=archive"])
    assert s["WARC_STORE_COMPRESS_LEVEL"] == 3 and s["WARC_STORE_MAX_SIZE"] == 200000
    assert s["WARC_STORE_PREFIX"] == "archive" and s.origin["WARC_STORE_PREFIX"] == "--set"


def test_every_setting_is_documented():
    from weidang import default_settings

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [n for n in dir(default_settings) if n.isupper() and n not in readme]
    assert missing == []


def test_demo_serve_serves_the_demo_home_to_its_printed_administrator(tmp_path):
    import http.cookiejar
    import os
    import queue
    import re
    import signal
    import threading
    import urllib.parse
    import urllib.request

    from web_archive import free_port

    port = free_port()
    process = subprocess.Popen([WEIDANG, "demo", "--home", str(tmp_path / "demo"), "--for", "6",
                                "--serve", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        password = None
        while password is None:
            line = lines.get(timeout=600)  # the whole demo runs first: minutes on a busy machine
            assert line is not None, "the demo stopped: " + (process.stderr.read() if process.stderr else "")
            found = re.search(r"demo-admin\D*?([A-Za-z0-9_-]{16})\s*$", line)
            password = found.group(1) if found else None
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        form = None
        for _attempt in range(300):  # the server starts listening just after the line is printed
            try:
                form = opener.open(base + "/login", timeout=10).read().decode()
                break
            except OSError:
                threading.Event().wait(0.2)
        assert form is not None, "the demo's web interface did not start listening"
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({"name": "demo-admin", "password": password,
                                       "csrf_token": token}).encode()
        landed = opener.open(base + "/login", data=data, timeout=30)
        assert landed.url.endswith("/search")
        audit = opener.open(base + "/audit", timeout=30).read().decode()
        assert "<code>default</code>" in audit  # an administrator sees the auditors' pages
        transfers = opener.open(base + "/transfers", timeout=30).read().decode()
        assert "weidang-transfer-" in transfers  # the package the demo wrote
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            code = process.wait(timeout=180)  # a bound only: the demo home is served until this signal
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0  # Ctrl+C stops the server cleanly; the status is the demo's own
