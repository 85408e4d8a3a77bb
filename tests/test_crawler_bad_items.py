"""One unreadable post on a listing page: the others of the page and the pages after it are
still captured, the bad one is an error, and the answer that held it is kept whole in the WARC.

The broken pages are made here from the emulator's own answer (its first timeline page, or its
first backend listing page), with one post spoiled the way real answers have been seen to be
spoiled; the emulator serves the spoiled page through a `body` fault. No fixture is edited.
"""

from __future__ import annotations

import gzip
import json

import pytest
from crawler_helpers import (
    archive_fixture,
    emulator_site,
    wechat_account,
    wechat_ids,
    weibo_ids,
)

UID = "7000000001"
BIZ = "MzkwMDAwMDAwMQ=="
TIMELINE = f"https://m.weibo.cn/api/container/getIndex?containerid=107603{UID}"


def _no_date(mblog: dict) -> None:
    mblog["created_at"] = "上个星期的某天"


def _year_one(mblog: dict) -> None:
    mblog["created_at"] = "Mon Jan 01 00:00:00 +0800 0001"


def _letters_id(mblog: dict) -> None:
    mblog["id"] = mblog["mid"] = mblog["idstr"] = "abc"


def _no_id(mblog: dict) -> None:
    for key in ("id", "mid", "idstr", "bid"):
        mblog.pop(key, None)


SPOIL = {"unreadable date": _no_date, "year 0001": _year_one, "non-numeric id": _letters_id,
         "card without id": _no_id}


site = emulator_site(posts=20)


archive = archive_fixture()


def _json(body: bytes) -> object:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    try:
        return json.loads(body)
    except ValueError:
        return None


def _serve_instead(site, host: str, path: str, query: str, body: str) -> None:
    """The first answer of the listing is ``body`` (a TOML literal string keeps it as is)."""
    assert "'''" not in body
    site.load_plan(f'[[rule]]\nhost = "{host}"\npath = "{path}"\n{query}nth = [1]\n'
                   f'fault = "body"\ncontent_type = "application/json; charset=utf-8"\n'
                   f"body = '''{body}'''\n")


@pytest.mark.parametrize("kind", sorted(SPOIL))
def test_a_bad_weibo_post_spoils_only_itself(site, archive, kind):
    page = site.fetch(TIMELINE, headers={"MWeibo-Pwa": "1"}).json()
    cards = [c for c in page["data"]["cards"] if c.get("card_type") == 9]
    victim = cards[3]["mblog"]
    bad_id = str(victim["id"])
    SPOIL[kind](victim)
    assert page["data"]["cardlistInfo"].get("since_id")  # there is a next page to reach
    _serve_instead(site, "m.weibo.cn", "/api/container/getIndex",
                   'query = { containerid = "107603*" }\n', json.dumps(page, ensure_ascii=False))
    archive.add(f"weibo:{UID}")
    summary, _ = archive.harvest(f"weibo:{UID}")

    assert summary["outcome"] == "partial", summary  # never "ok" with a post left out
    item_errors = [e for e in summary["errors"] if "could not be read" in e]
    assert len(item_errors) == 1, summary["errors"]
    assert "kept in the WARC" in item_errors[0]
    held = set(archive.post_ids(f"weibo:{UID}"))
    assert held == set(weibo_ids(site, UID)) - {bad_id}  # the page's others and the next pages
    # the spoiled answer is evidence: stored whole, the bad post in it
    assert page in [_json(body) for _, body in archive.raw_responses()]


def test_a_bad_wechat_article_spoils_only_itself(site, archive):
    account = wechat_account(site, BIZ)
    archive.add(f"wechat:{BIZ}", source="backend",
                credentials={"cookie": account["cookie"], "token": account["token"]})
    url = ("https://mp.weixin.qq.com/cgi-bin/appmsgpublish?sub=list&search_field=null&begin=0"
           f"&count=5&query=&fakeid={BIZ}&token={account['token']}&lang=zh_CN&f=json&ajax=1"
           "&type=101_1&free_publish_type=1&sub_action=list_ex")
    answer = site.fetch(url, headers={"Cookie": account["cookie"]}).json()
    publish_page = json.loads(answer["publish_page"])
    entry = publish_page["publish_list"][1]
    info = json.loads(entry["publish_info"])
    article = info["appmsgex"][0]
    for key in ("aid", "appmsgid", "link"):
        article.pop(key, None)
    entry["publish_info"] = json.dumps(info, ensure_ascii=False)
    answer["publish_page"] = json.dumps(publish_page, ensure_ascii=False)
    _serve_instead(site, "mp.weixin.qq.com", "/cgi-bin/appmsgpublish", "",
                   json.dumps(answer, ensure_ascii=False))
    summary, _ = archive.harvest(f"wechat:{BIZ}")

    assert summary["outcome"] == "partial", summary
    assert len([e for e in summary["errors"] if "could not be read" in e]) == 1, summary["errors"]
    held = set(archive.post_ids(f"wechat:{BIZ}"))
    assert len(held) == len(wechat_ids(account)) - 1
    assert held < set(wechat_ids(account))


def test_a_page_of_only_bad_posts_still_leads_to_the_next():
    import datetime as dt

    from harvesters import make_harvester

    weibo = make_harvester("weibo")
    request = weibo.timeline_request(UID)
    cards = [{"card_type": 9, "mblog": {"id": "x1", "created_at": "刚刚"}},
             {"card_type": 9, "mblog": {"created_at": "刚刚"}}]
    body = json.dumps({"ok": 1, "data": {"cardlistInfo": {"since_id": 123, "total": 40},
                                         "cards": cards}}).encode()
    result = weibo.parse(request, 200, {}, body, dt.datetime.now(dt.UTC))
    assert result.posts == [] and len(result.item_errors) == 2
    assert not result.end_of_listing and len(result.next_requests) == 1
