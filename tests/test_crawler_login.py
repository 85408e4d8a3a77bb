"""QR-code logins (crawler/login.py) in real Chromium against the emulator's login pages, and the
check before a harvest that pauses the accounts of a login the platform ended.

The emulator's control API plays the phone: it "scans" the QR code the page shows.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading
import tomllib
import urllib.request
from pathlib import Path

import pytest

from catalog.accounts import AccountRegistry
from catalog.credential_writer import save_login
from catalog.credentials import CredentialStore
from catalog.db import open_catalog
from catalog.login_status import LoginStatus, read_statuses, status_path, write_status
from catalog.runs import RunLog
from crawler.harvest_accounts import HarvestConfig, Skipped, harvest_accounts
from crawler.login import CHROMIUM, LoginOptions, check_login, log_in
from crawler.login_check import LoginGate
from crawler.settings import Politeness
from emulator import Emulator, World
from warc_store import RedactionPolicy, StoreConfig

OTHER = '# the county\'s API login, copied by hand\n[county_api]\nappid = "wx0123"\nsecret = "s3cr3t-v4lue"\n'
ACCOUNT = "weibo:7000000009"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with Emulator(World(accounts=1, posts=3, seed=1),
                  state_dir=tmp_path_factory.mktemp("emulator")) as running:
        yield running


def control(emu: Emulator, path: str, body: dict) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": emu.proxy_url}))
    request = urllib.request.Request(f"http://emulator.control{path}", data=json.dumps(body).encode(),
                                     method="POST")
    with opener.open(request, timeout=10) as reply:
        return json.loads(reply.read())


def _credentials(tmp_path: Path) -> Path:
    path = tmp_path / "credentials.toml"
    path.write_text(OTHER, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["weibo", "wechat"])
def test_qr_login_stores_the_login_privately_beside_the_other_entries(emu, tmp_path, platform, capfd):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    path = _credentials(tmp_path)
    shown: list[tuple[Path, str | None]] = []
    scanned: list[dict] = []

    def show(png: Path, text: str | None) -> None:  # the archivist looks, then the phone scans
        shown.append((png, text))
        threading.Timer(0.5, lambda: scanned.append(control(emu, "/login/scan",
                                                            {"platform": platform}))).start()

    options = LoginOptions(credentials=path, qr_png=tmp_path / "qr.png", proxy=emu.proxy_url,
                           proxy_ca=str(emu.ca_cert_path), wait_seconds=60)
    result = log_in(f"demo-{platform}", platform, options, show)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith(OTHER)  # the archivist's table and comment, as they were
    login = tomllib.loads(text)[f"demo-{platform}"]
    cookies = dict(pair.split("=", 1) for pair in login["cookie"].split("; "))
    if platform == "weibo":
        assert {"SUB", "SUBP"} <= set(cookies) and "token" not in login
    else:
        assert {"slave_sid", "slave_user", "data_ticket"} <= set(cookies) and login["token"].isdigit()
        assert "uuid" not in cookies  # the login page's own cookie stays behind
    assert check_login(platform, login, emu.proxy_url, str(emu.ca_cert_path)) == "valid"
    # the QR code: a PNG for the archivist's eyes only, and terminal text of the same code
    (png, qr_text), = shown
    assert png == tmp_path / "qr.png" and stat.S_IMODE(png.stat().st_mode) == 0o600
    assert qr_text is not None and qr_text.count("\n") > 20 and "█" in qr_text
    import zxingcpp
    from PIL import Image
    decoded = zxingcpp.read_barcodes(Image.open(png))[0].text
    assert scanned and scanned[0]["qrid"] in decoded  # the page's code, not some other
    status = read_statuses(status_path(path))[f"demo-{platform}"]
    assert status.platform == platform and status.expires is not None
    assert result.expires is not None and result.expires > dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    out, err = capfd.readouterr()
    for value in [*cookies.values(), login.get("token", "")]:
        if len(value) > 8:
            assert value not in out + err + status_path(path).read_text() + repr(result)


def _http_login(emu: Emulator) -> str:
    """A Weibo login by the same QR flow, driven without a browser (no CPU for Chromium)."""
    import ssl
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": emu.proxy_url, "https": emu.proxy_url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(emu.ca_cert_path))))

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    base = "https://passport.weibo.com/sso/v2/qrcode"
    qrid = json.loads(opener.open(f"{base}/image?entry=miniblog").read())["data"]["qrid"]
    control(emu, "/login/scan", {"platform": "weibo"})
    url = json.loads(opener.open(f"{base}/check?qrid={qrid}").read())["data"]["url"]
    keep = urllib.request.build_opener(
        Keep(), urllib.request.ProxyHandler({"https": emu.proxy_url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(emu.ca_cert_path))))
    try:
        keep.open(url)
    except urllib.error.HTTPError as answer:
        pairs = [c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") if ".weibo.com" in c]
        return "; ".join(p for p in pairs if p.startswith(("SUB=", "SUBP=")))
    raise AssertionError("the cross-domain step did not redirect")


def _made_login(emu: Emulator, tmp_path: Path, name: str, expires: dt.datetime) -> CredentialStore:
    path = _credentials(tmp_path)
    save_login(path, name, {"cookie": _http_login(emu)})
    write_status(status_path(path), name, LoginStatus("weibo", "2026-03-01T08:00:00+00:00",
                                                      expires.isoformat(timespec="seconds")))
    return CredentialStore(path)


def test_an_ended_login_pauses_its_accounts_before_the_harvest(emu, tmp_path):
    store = _made_login(emu, tmp_path, "gov-weibo", dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    db = open_catalog(tmp_path / "catalog.sqlite")
    AccountRegistry(db).add(ACCOUNT, name="测试账号", credentials="gov-weibo")
    assert control(emu, "/login/expire", {"platform": "weibo"})["expired"] >= 1
    config = HarvestConfig(politeness=Politeness(), max_pages=5, recheck_days=0, proxy=emu.proxy_url,
                           demo=False, collection=tmp_path / "collections" / "default",
                           locks=tmp_path / "locks", credentials=store, store=StoreConfig(),
                           redaction=RedactionPolicy(), proxy_ca=str(emu.ca_cert_path))
    now = dt.datetime.now(dt.UTC)
    outcome, = harvest_accounts([ACCOUNT], config, db, clock=lambda: now)
    assert isinstance(outcome, Skipped) and outcome.why == "paused" and outcome.alert
    told = outcome.to_json()
    assert told["alert"] is True and told["pause"]["scope"] == "login:gov-weibo"
    assert told["pause"]["health"] == "login expired"
    assert "the weibo login gov-weibo no longer works" in told["pause"]["reason"]
    assert "weidang login gov-weibo weibo" in told["pause"]["advice"]
    assert [p.scope for p in RunLog(db).active_pauses()] == ["login:gov-weibo"]
    assert read_statuses(status_path(store.path))["gov-weibo"].state == "expired"
    assert not RunLog(db).history(ACCOUNT)  # nothing harvested, nothing recorded as failed
    cookie = store.get("gov-weibo").fields["cookie"]
    assert cookie.split("SUB=")[1].split(";")[0] not in json.dumps(told)
    db.close()


def test_a_live_login_passes_and_its_near_expiry_is_told_once(emu, tmp_path):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    store = _made_login(emu, tmp_path, "gov-weibo", soon)
    db = open_catalog(tmp_path / "catalog.sqlite")
    runs = RunLog(db)
    now = dt.datetime.now(dt.UTC)
    first = LoginGate(store, emu.proxy_url, str(emu.ca_cert_path), warn_days=7)
    assert first.stop("gov-weibo", "weibo", ACCOUNT, runs, lambda: now) is None
    assert first.verdicts == {"gov-weibo": "valid"}
    assert "expires on" in first.notices["gov-weibo"] and "weidang login gov-weibo weibo" in \
        first.notices["gov-weibo"]
    second = LoginGate(store, emu.proxy_url, str(emu.ca_cert_path), warn_days=7)
    assert second.stop("gov-weibo", "weibo", ACCOUNT, runs, lambda: now) is None
    assert second.notices == {}  # told once per expiry
    # a login weidang did not make (no record) is not checked: no request, no pause
    unchecked = LoginGate(store, emu.proxy_url, str(emu.ca_cert_path))
    assert unchecked.stop("county_api", "weibo", ACCOUNT, runs, lambda: now) is None
    assert unchecked.verdicts == {}
    db.close()


def test_the_check_says_unknown_when_the_platform_cannot_be_reached(tmp_path):
    fields = {"cookie": "SUB=_2A25abcdefabcdefabcdef"}
    assert check_login("weibo", fields, proxy="http://127.0.0.1:9", timeout=2) == "unknown"
    assert check_login("wechat", {"cookie": "slave_sid=x"}) == "expired"  # no token: cannot log in


@pytest.mark.slow
def test_nobody_scanning_ends_the_login_with_a_plain_sentence(emu, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    from crawler.login import LoginError
    path = _credentials(tmp_path)
    options = LoginOptions(credentials=path, qr_png=tmp_path / "qr.png", proxy=emu.proxy_url,
                           proxy_ca=str(emu.ca_cert_path), wait_seconds=2)
    with pytest.raises(LoginError, match="nobody scanned the weibo QR code within 2 seconds"):
        log_in("gov-weibo", "weibo", options, lambda png, text: None)
    assert path.read_text(encoding="utf-8") == OTHER  # nothing written


def test_a_new_login_replaces_the_old_one_of_its_name_only(tmp_path):
    path = _credentials(tmp_path)
    save_login(path, "gov-weibo", {"cookie": "SUB=old"})
    save_login(path, "gov-weibo", {"cookie": "SUB=new"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(OTHER) and text.count("[gov-weibo]") == 1
    assert tomllib.loads(text)["gov-weibo"] == {"cookie": "SUB=new"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not list(tmp_path.glob(".*.tmp"))
    path.write_text("[broken\n", encoding="utf-8")
    from catalog.errors import CredentialsError
    with pytest.raises(CredentialsError, match="not valid TOML"):
        save_login(path, "gov-weibo", {"cookie": "SUB=newer"})
    assert path.read_text(encoding="utf-8") == "[broken\n"
