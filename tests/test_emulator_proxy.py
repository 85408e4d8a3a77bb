"""The emulator as a proxy: subprocess entry, CA verification, CONNECT, keep-alive, 502s."""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request

import pytest
from emulator_client import start_subprocess


def test_subprocess_prints_its_url_and_stops_on_sigterm(tmp_path):
    client, lines = start_subprocess(tmp_path, "--accounts", "1", "--posts", "3")
    assert lines[0].startswith("PROXY http://127.0.0.1:") and lines[1] == f"CA {tmp_path}/ca.pem"
    assert client.fetch("https://m.weibo.cn/api/container/getIndex?containerid=1076037000000001"
                        ).json()["ok"] == 1
    assert client.stop() == 0
    # The CA stays in the state directory and is reused by the next run.
    again, lines_again = start_subprocess(tmp_path)
    try:
        assert lines_again[1] == lines[1]
        assert again.fetch("https://weibo.com/ajax/profile/info?uid=1959830294").status == 200
    finally:
        again.stop()


def test_https_is_verified_against_the_emulator_ca_only(emulator):
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": emulator.proxy_url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    with pytest.raises(urllib.error.URLError) as caught:
        opener.open("https://m.weibo.cn/statuses/show?id=4645748019299849", timeout=5)
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)
    reply = emulator.fetch("https://m.weibo.cn/statuses/show?id=4645748019299849")
    assert reply.status == 200


def test_keep_alive_in_a_tunnel_and_in_plain_http(emulator):
    host, port = emulator.proxy_url.removeprefix("http://").split(":")
    context = ssl.create_default_context(cafile=str(emulator.ca_path))
    tunnel = http.client.HTTPSConnection(host, int(port), context=context, timeout=5)
    tunnel.set_tunnel("wx1.sinaimg.cn", 443)
    plain = http.client.HTTPConnection(host, int(port), timeout=5)
    for n in range(5):
        tunnel.request("GET", f"/large/006QZngZgy1grebng32cij31hc0u0hd{n}.jpg")
        response = tunnel.getresponse()
        assert response.status == 200 and response.read()[:2] == b"\xff\xd8"
        plain.request("GET", f"http://wx2.sinaimg.cn/orj360/006QZngZgy1grebng32cij31hc0u0hd{n}.jpg")
        response = plain.getresponse()
        assert response.status == 200 and response.read()[:2] == b"\xff\xd8"
    assert tunnel.sock is not None and plain.sock is not None  # the same connections throughout
    tunnel.close()
    plain.close()


def test_unknown_hosts_get_502(emulator):
    plain = emulator.fetch("http://www.example.com/")
    assert plain.status == 502 and b"never reaches the internet" in plain.body
    host, port = emulator.proxy_url.removeprefix("http://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), timeout=5)
    connection.set_tunnel("www.example.com", 443)
    with pytest.raises(OSError, match="502"):
        connection.request("GET", "/")
    assert emulator.fetch("https://m.weibo.cn/no/such/page").status == 404


@pytest.mark.parametrize("stop", ["after a request", "as soon as it prints its address"])
def test_weidang_emulator_command_serves_until_ctrl_c(tmp_path, stop):
    import os
    import signal
    import subprocess
    import sys

    from emulator_client import ROOT, EmulatorClient

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "weidang.cli", "emulator", "--accounts",
                                "1", "--posts", "2"], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    proxy = process.stdout.readline().split()[1]
    if stop == "after a request":
        ca = process.stdout.readline().split()[1]
        assert ca == str(tmp_path / "weidang-emulator" / "ca.pem")
        client = EmulatorClient(proxy, ca)
        assert client.world()["weibo"][1]["posts"] == 2
    # at once: while it may still be printing its help (once a clean stop lost to a busy machine)
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=60) == 0  # a bound for a busy machine; idle it takes well under a second
    finally:
        process.kill()  # a test that failed leaves no emulator behind (no-op once it exited)
    out = process.stdout.read()  # not communicate(): it would skip what readline buffered
    process.stdout.close()
    assert process.returncode == 0 and "Emulator stopped." in out
    if stop == "after a request":  # at once, the signal may come before the help is printed
        assert "Point a client at it" in out
