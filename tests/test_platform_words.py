"""What the platforms answer that stops a harvest is told in Chinese: each refusal the parsers
make (harvesters.weibo, harvesters.wechat, wechat_codes) and its advice, as the daemon's alerts
and the command line say them. The sentences come from the parsers themselves, so a changed
wording fails here instead of falling back to English in front of an archivist."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest

from harvesters import errors as kinds
from harvesters.account_search import parse_candidates
from harvesters.common import RequestSpec
from harvesters.purposes import Purpose
from harvesters.wechat import WechatHarvester
from harvesters.wechat_codes import API_ERRORS, BACKEND_ERRORS
from harvesters.weibo import WeiboHarvester
from schedules.alerts import Alerts
from weidang.errors import in_words

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b(?:the|answered|Weibo|WeChat|Log|Check|Pause|Try|Keep|Open|Look)\b")
say = in_words("zh_CN")


def _told(text: str) -> str:
    told = say(text)
    assert CHINESE.search(told) and not ENGLISH.search(told.split("微信的原话：")[0]), (text, told)
    return told


def _weibo(status: int, body: bytes | str, purpose: Purpose = Purpose.TIMELINE,
           **meta) -> kinds.HarvestProblem:
    request = RequestSpec("https://m.weibo.cn/api/container/getIndex?containerid=1076031", purpose,
                          meta={"platform": "weibo", "account_id": "1", **meta})
    raw = body.encode() if isinstance(body, str) else body
    problem = WeiboHarvester().parse(request, status, {}, raw, NOW).problem
    assert problem is not None
    return problem


def _wechat(status: int, body: dict | bytes, url: str = "https://mp.weixin.qq.com/cgi-bin/appmsgpublish?x=1",
            purpose: Purpose = Purpose.LIST) -> kinds.HarvestProblem:
    meta = {"platform": "wechat", "account_id": "MzA=", "source": "backend"}
    request = RequestSpec(url, purpose, meta=meta)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    problem = WechatHarvester().parse(request, status, {}, raw, NOW).problem
    assert problem is not None
    return problem


WEIBO_REFUSALS = [
    (418, "", {}),
    (500, "", {}),
    (200, {"ok": -100, "url": "https://passport.weibo.cn/signin"}, {"with_cookies": True}),
    (200, {"ok": -100, "url": "https://passport.weibo.cn/signin"}, {}),
    (200, {"ok": -100, "url": "https://security.weibo.com/captcha/geetest"}, {}),
    (200, {"ok": -2, "msg": "系统繁忙"}, {}),
    (200, "<html><a href='https://passport.weibo.com/visitor'>login</a></html>", {}),
]


@pytest.mark.parametrize("status, body, meta", WEIBO_REFUSALS)
def test_weibo_refusals_are_told_in_chinese(status, body, meta):
    problem = _weibo(status, body if isinstance(body, str) else json.dumps(body), **meta)
    _told(problem.what())
    _told(problem.advice)


def test_a_weibo_account_that_shows_nothing_is_told_in_chinese():
    problem = _weibo(200, json.dumps({"ok": 0, "msg": "用户不存在"}), Purpose.PROFILE)
    assert "用户不存在" in _told(problem.what())
    _told(problem.advice)


@pytest.mark.parametrize("code", sorted(API_ERRORS))
def test_every_wechat_api_error_is_told_in_chinese(code):
    problem = _wechat(200, {"errcode": code, "errmsg": "some words of WeChat"},
                      "https://api.weixin.qq.com/cgi-bin/freepublish/batchget")
    assert _told(problem.what()).count("some words of WeChat") == 1  # WeChat's own words, as they were
    _told(problem.advice)


@pytest.mark.parametrize("code", [*sorted(BACKEND_ERRORS), 123456])
def test_every_wechat_backend_error_is_told_in_chinese(code):
    problem = _wechat(200, {"base_resp": {"ret": code, "err_msg": "invalid session"}})
    _told(problem.what())
    _told(problem.advice)


@pytest.mark.parametrize("status", [503, 500])
def test_wechat_http_refusals_are_told_in_chinese(status):
    problem = _wechat(status, b"")
    _told(problem.what())
    _told(problem.advice)


def test_every_kinds_own_advice_is_told_in_chinese():
    for kind in (kinds.HarvestProblem, kinds.RateLimited, kinds.CaptchaRequired, kinds.LoginExpired,
                 kinds.Unavailable, kinds.PlatformError):
        _told(kind.advice)


def test_a_lookups_refusal_is_told_in_chinese_as_one_sentence():
    with pytest.raises(kinds.LoginExpired) as caught:
        parse_candidates("wechat", b'{"base_resp":{"ret":200003,"err_msg":"invalid session"}}',
                         "https://mp.weixin.qq.com/cgi-bin/searchbiz")
    told = _told(str(caught.value))
    assert "invalid session" in told and "weidang login 名称 wechat" in told


def test_the_daemons_alert_tells_the_platforms_refusal_in_chinese():
    wall = json.dumps({"ok": -100, "url": "https://passport.weibo.cn/signin"})
    problem = _weibo(200, wall, with_cookies=True)
    alert = Alerts(logging.getLogger("test"), say=say).send("failed", "weibo:1", problem.what(),
                                                            problem.advice)
    assert alert["message"].startswith("微博不再接受这个 cookie")
    assert "（地址：https://m.weibo.cn/api/container/getIndex" in alert["message"]
    assert alert["advice"].startswith("用采集账号在浏览器中登录 weibo.com")
    english = Alerts(logging.getLogger("test"), say=in_words("en")).send("failed", "weibo:1", problem.what(),
                                                                         problem.advice)
    assert english["message"] == problem.what()


def test_words_that_are_not_the_platforms_stay_as_written():
    assert say("Something odd happened (at https://example.org/)") == "Something odd happened (at https://example.org/)"
    assert say("An odd reason. An odd advice") == "An odd reason. An odd advice"
