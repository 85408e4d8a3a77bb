"""Every fault of the plan, and world changes between harvests, on an in-process emulator."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest
from emulator_client import EmulatorClient

from emulator import Emulator, FaultPlan, FaultPlanError, World

ROOT = Path(__file__).resolve().parent.parent
TIMELINE = "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"


@pytest.fixture
def emu(tmp_path):
    server = Emulator(World(accounts=2, posts=12, seed=3), state_dir=tmp_path).start()
    client = EmulatorClient(server.proxy_url, server.ca_cert_path)
    client.server = server
    yield client
    server.stop()


def plan(emu, text):
    emu.server.load_plan(FaultPlan.from_text(text))


@pytest.mark.parametrize("status", [418, 432, 500, 503])
def test_http_status_faults(emu, status):
    plan(emu, f'[[rule]]\nhost = "m.weibo.cn"\nfault = "status"\nstatus = {status}\nnth = [2]\n')
    assert emu.fetch(TIMELINE).status == 200
    assert emu.fetch(TIMELINE).status == status
    assert emu.fetch(TIMELINE).status == 200
    assert emu.server.counters()["by_fault"] == {"status": 1}


def test_weibo_captcha(emu):
    plan(emu, '[[rule]]\nhost = "m.weibo.cn"\nfault = "weibo_captcha"\n')
    body = emu.fetch(TIMELINE).json()
    assert body["ok"] == -100 and body["url"].startswith("https://m.weibo.cn/api/geetest")


@pytest.mark.parametrize("ret, message", [(200013, "freq control"), (200003, "invalid session")])
def test_wechat_backend_rets(emu, ret, message):
    account = emu.world()["wechat"][-1]
    plan(emu, f'[[rule]]\npath = "/cgi-bin/appmsg"\nfault = "wechat_ret"\nret = {ret}\n')
    body = emu.fetch(f"https://mp.weixin.qq.com/cgi-bin/appmsg?action=list_ex&begin=0&count=5"
                     f"&fakeid={account['biz']}&token={account['token']}",
                     headers={"Cookie": account["cookie"]}).json()
    assert body == {"base_resp": {"ret": ret, "err_msg": message}}


@pytest.mark.parametrize("code", [45009, 40001, 42001])
def test_official_api_errcodes(emu, code):
    plan(emu, f'[[rule]]\nhost = "api.weixin.qq.com"\nfault = "wechat_errcode"\nerrcode = {code}\n')
    body = emu.fetch("https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential"
                     "&appid=x&secret=y").json()
    assert body["errcode"] == code and "rid:" in body["errmsg"]


def test_expired_tokens_answer_42001(emu):
    account = emu.world()["wechat"][-1]
    token = emu.fetch("https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential"
                      f"&appid={account['appid']}&secret={account['secret']}").json()
    emu.control("POST", "/expire-tokens")
    body = emu.fetch("https://api.weixin.qq.com/cgi-bin/freepublish/batchget?access_token="
                     f"{token['access_token']}", data=b'{"offset":0,"count":1}').json()
    assert body["errcode"] == 42001


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_answers_in_the_content_coding_a_rule_asks_for(emu, encoding):
    import gzip
    import zlib

    import brotli
    from backports import zstd

    decode = {"gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress,
              "zstd": zstd.decompress}[encoding]
    plain = emu.fetch(TIMELINE, headers={"Accept-Encoding": "identity"}).body
    plan(emu, f'[[rule]]\nhost = "m.weibo.cn"\nfault = "encode"\nencoding = "{encoding}"\n'
              '[[rule]]\nhost = "weibo.com"\nfault = "body"\nbody = "short"\n'
              f'encoding = "{encoding}"\n')
    reply = emu.fetch(TIMELINE, headers={"Accept-Encoding": f"gzip, {encoding}"})
    assert reply.headers["Content-Encoding"] == encoding and decode(reply.body) == plain
    short = emu.fetch("https://weibo.com/x", headers={"Accept-Encoding": encoding})
    assert short.headers["Content-Encoding"] == encoding and decode(short.body) == b"short"
    # a client that does not accept the coding gets the answer plain
    assert emu.fetch(TIMELINE, headers={"Accept-Encoding": "identity"}).body == plain


def test_slow_response(emu):
    plan(emu, '[[rule]]\nhost = "m.weibo.cn"\nfault = "delay"\nseconds = 0.6\n')
    started = time.monotonic()
    assert emu.fetch(TIMELINE).status == 200
    assert time.monotonic() - started >= 0.6


def test_truncated_body(emu):
    plan(emu, '[[rule]]\nhost = "m.weibo.cn"\nfault = "truncate"\nkeep = 0.25\n')
    host, port = emu.proxy_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", TIMELINE.replace("https", "http"))
    response = connection.getresponse()
    length = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == length // 4


def test_invalid_utf8_and_drop(emu):
    plan(emu, '[[rule]]\nhost = "m.weibo.cn"\nfault = "invalid_utf8"\nnth = 1\n'
              '[[rule]]\nhost = "m.weibo.cn"\nfault = "drop"\nnth = 2\n')
    body = emu.fetch(TIMELINE).body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, OSError)):
        emu.fetch(TIMELINE)


def test_probability_is_deterministic_by_seed(tmp_path):
    text = 'seed = 5\n[[rule]]\nfault = "status"\nstatus = 503\nprobability = 0.5\n'
    outcomes = []
    for _ in range(2):
        with Emulator(World(accounts=0, posts=0), FaultPlan.from_text(text),
                      state_dir=tmp_path) as server:
            client = EmulatorClient(server.proxy_url, server.ca_cert_path)
            outcomes.append([client.fetch(TIMELINE).status for _ in range(12)])
    assert outcomes[0] == outcomes[1] and {200, 503} == set(outcomes[0])


def test_post_edited_between_two_harvests(emu):
    account = emu.world()["weibo"][1]
    post_id = account["post_ids"][3]
    plan(emu, f'[[mutation]]\nop = "edit"\nid = "{post_id}"\ntext = "已更正的通知"\n'
              'after_requests = 1\nhost = "m.weibo.cn"\n')
    url = f"https://m.weibo.cn/api/container/getIndex?containerid=107603{account['uid']}"

    def find(body):
        return next(c["mblog"] for c in body["data"]["cards"] if c["mblog"]["id"] == post_id)

    before = find(emu.fetch(url).json())
    after = find(emu.fetch(url).json())
    assert after["text"] == "已更正的通知" != before["text"]
    assert after["edit_count"] == before.get("edit_count", 0) + 1


def test_deletions_by_control_trigger_and_by_time(emu):
    article = "biz = \"MzAxMzgxNzUxOA==\"\nmid = 2650804290\nidx = 8\n"
    plan(emu, f'[[mutation]]\nop = "delete"\nplatform = "wechat"\n{article}'
              'on_control = "second"\n'
              f'[[mutation]]\nop = "block"\nplatform = "wechat"\n{article.replace("idx = 8", "idx = 7")}'
              'at = 2000-01-01T00:00:00Z\n'
              '[[mutation]]\nop = "delete"\nid = "4649031014551911"\n')
    url = ("https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid=2650804290&idx=8"
           "&sn=d625de357b53f96d710aca4e6ec7f57c")
    assert "js_article" in emu.fetch(url).body.decode()
    assert emu.control("POST", "/trigger/second")["applied"][0]["op"] == "delete"
    page = emu.fetch(url).body.decode()
    assert "该内容已被发布者删除" in page and "weui-msg" in page
    blocked = next(link for link in emu.world()["wechat"][0]["links"] if "idx=7" in link)
    assert "此内容因违规无法查看" in emu.fetch(blocked).body.decode()
    gone = emu.fetch("https://m.weibo.cn/statuses/show?id=4649031014551911").json()
    assert gone["ok"] == 0
    cards = emu.fetch(TIMELINE).json()["data"]["cards"]
    assert "4649031014551911" not in [c["mblog"]["id"] for c in cards] and len(cards) == 10


def test_control_api_plan_counters_and_mutation(emu):
    emu.control("POST", "/reset")
    described = emu.load_plan('[[rule]]\nname = "t"\nhost = "weibo.com"\nfault = "status"\n'
                              "status = 432\n")
    assert described["rules"] == [{"name": "t", "seen": 0, "fired": 0}]
    assert emu.fetch("https://weibo.com/ajax/profile/info?uid=1959830294").status == 432
    assert emu.control("GET", "/counters")["by_fault"] == {"t": 1}
    records = emu.control("GET", "/requests?host=weibo.com")
    assert [(r["path"], r["status"]) for r in records] == [("/ajax/profile/info", 432)]
    emu.clear_plan()
    uid = emu.world()["weibo"][1]["uid"]
    added = emu.control("POST", "/mutate", json.dumps({"op": "add", "uid": uid,
                                                       "text": "新通知"}).encode())
    first = emu.fetch(f"https://m.weibo.cn/api/container/getIndex?containerid=107603{uid}")
    assert first.json()["data"]["cards"][1]["mblog"]["id"] == added["id"]
    error = emu.fetch("http://emulator.control/mutate", data=b'{"op":"delete","id":"1"}')
    assert error.status == 400 and "no Weibo post" in error.json()["error"]


def test_recorded_second_fetch_of_the_timeline(emu):
    emu.server.mutate({"op": "add", "uid": 6279793937, "recorded": True})
    assert emu.fetch(TIMELINE).body == (ROOT / "emulator/data/weibo/"
                                        "mweibo_getIndex_timeline_107603_arknights_page2_newpost"
                                        ".json").read_bytes()


def test_example_plan_and_bad_plans():
    example = FaultPlan.from_file(ROOT / "emulator" / "plans" / "example.toml")
    assert {r.table["fault"] for r in example.rules} >= {"status", "weibo_captcha", "wechat_ret",
                                                         "wechat_errcode", "delay", "truncate"}
    with pytest.raises(FaultPlanError, match="fault = one of"):
        FaultPlan.from_text('[[rule]]\nfault = "explode"\n')
    with pytest.raises(FaultPlanError, match="unknown fields"):
        FaultPlan.from_text('[[rule]]\nfault = "drop"\nhots = "x"\n')
    with pytest.raises(FaultPlanError, match="not valid TOML"):
        FaultPlan.from_text("[[rule")
