"""`weidang login NAME weibo|wechat` as the archivist runs it on a server without a screen: the QR
code in the terminal and as a PNG, the login in credentials.toml, no secret on the screen."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from crawler.login import CHROMIUM

WEIDANG = str(Path(sys.executable).with_name("weidang"))


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["weibo", "wechat"])
def test_login_without_a_screen_shows_the_qr_and_stores_the_login(emulator, home, platform):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    home.mkdir(parents=True)
    credentials = home / "credentials.toml"
    credentials.write_text('[other]\ncookie = "SUB=kept-as-it-was"  # by hand\n', encoding="utf-8")
    credentials.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    name = f"demo-{platform}"
    process = subprocess.Popen(
        [WEIDANG, "--set", f"CRAWLER_PROXY={emulator.proxy_url}", "--set",
         f"CRAWLER_PROXY_CA={emulator.ca_path}", "--set", "CRAWLER_LOGIN_WAIT_SECONDS=60",
         "login", name, platform], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    shown: list[str] = []
    for line in process.stdout:  # what the archivist sees, until weidang waits for the phone
        shown.append(line)
        if line.startswith("Waiting for the scan"):
            break
    assert shown and shown[-1].startswith("Waiting"), "".join(shown) + process.communicate()[1]
    emulator.control("POST", "/login/scan", f'{{"platform": "{platform}"}}'.encode())
    rest, err = process.communicate(timeout=120)
    out = "".join(shown) + rest
    assert process.returncode == 0, out + err

    assert sum("█" in line for line in shown) > 15  # the QR code as terminal text
    png = home / f"login-qr-{name}.png"
    assert f"saved as {png}" in out and png.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    logins = tomllib.loads(credentials.read_text(encoding="utf-8"))
    assert logins["other"] == {"cookie": "SUB=kept-as-it-was"}
    assert "# by hand" in credentials.read_text(encoding="utf-8")
    login = logins[name]
    assert f"[{name}]" in out and "Logged in." in out
    secrets = [pair.split("=", 1)[1] for pair in login["cookie"].split("; ")] + [login.get("token", "")]
    logs = "".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
    for secret in secrets:
        if len(secret) > 6:
            assert secret not in out + err + logs + (home / "logins.json").read_text()
    if platform == "wechat":
        assert login["token"].isdigit() and "and the token" in out


def test_login_refuses_a_name_that_cannot_be_a_credentials_table(home):
    out = subprocess.run([WEIDANG, "login", "bad name!", "weibo"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0 and "letters, digits" in out.stderr
