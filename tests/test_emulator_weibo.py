"""The emulator's Weibo side, through the proxy: shapes, recorded bytes, paging, media."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data" / "weibo"
ARKNIGHTS = 6279793937
M = "https://m.weibo.cn"


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize("url, sample", [
    (f"{M}/api/container/getIndex?containerid=107603{ARKNIGHTS}",
     "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json"),
    (f"{M}/api/container/getIndex?containerid=100505{ARKNIGHTS}",
     "mweibo_getIndex_profile_100505_userInfo_tabs.json"),
    (f"{M}/api/container/getIndex?type=uid&value=1669879400",
     "mweibo_getIndex_type_uid_userInfo_tabsInfo_2019.json"),
    (f"{M}/statuses/extend?id=4645748019299849",
     "mweibo_statuses_extend_longTextContent_4645748019299849.json"),
    (f"{M}/statuses/extend?id=4649031014551911",
     "mweibo_statuses_extend_longTextContent_with_counts_4649031014551911.json"),
    (f"{M}/statuses/show?id=4645748019299849",
     "mweibo_statuses_show_video_edited_longtext_4645748019299849.json"),
    (f"{M}/detail/4645748019299849", "mweibo_detail_page_render_data_4645748019299849.html"),
    (f"{M}/detail/4649031014551911", "mweibo_detail_page_render_data_4649031014551911.html"),
    (f"{M}/api/container/getIndex?containerid=1076030000000001",
     "mweibo_getIndex_error_ok0_empty.json"),
    ("https://weibo.com/ajax/profile/info?uid=1959830294",
     "weibo_com_ajax_profile_info_user_tabList.json"),
    ("https://weibo.com/ajax/statuses/show?id=Etx9ozebL",
     "weibo_com_ajax_statuses_searchProfile_list0_retweet_pic_infos_EXCERPT.json"),
])
def test_recorded_samples_are_served_byte_identical(emulator, url, sample):
    reply = emulator.fetch(url)
    assert reply.status == 200
    assert reply.body == recorded(sample)
    expected = "text/html" if sample.endswith(".html") else "application/json"
    assert reply.headers["Content-Type"].startswith(expected)


def test_gzip_when_accepted_and_listing_cookies(emulator):
    reply = emulator.fetch(f"{M}/api/container/getIndex?containerid=107603{ARKNIGHTS}",
                           headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.body) == recorded(
        "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json")
    cookies = reply.headers.get_all("Set-Cookie")
    assert any(c.startswith("M_WEIBOCN_PARAMS=") for c in cookies)
    assert any(re.match(r"XSRF-TOKEN=[0-9a-f]{6};", c) for c in cookies)


def walk_timeline(emulator, uid):
    """Follow data.cardlistInfo.since_id to the end, as any client would."""
    pages, since_id = [], None
    while True:
        query = f"containerid=107603{uid}" + (f"&since_id={since_id}" if since_id else "")
        body = emulator.fetch(f"{M}/api/container/getIndex?{query}").json()
        assert body["ok"] == 1
        pages.append(body)
        since_id = body["data"]["cardlistInfo"].get("since_id")
        if not since_id:
            return pages, query


def test_generated_timeline_walks_to_the_end(emulator):
    account = emulator.world()["weibo"][1]
    pages, last_query = walk_timeline(emulator, account["uid"])
    cards = [c for page in pages for c in page["data"]["cards"]]
    assert all(c["card_type"] == 9 for c in cards)
    ids = [c["mblog"]["id"] for c in cards]
    assert sorted(ids) == sorted(account["post_ids"]) and len(set(ids)) == len(ids) == 25
    assert cards[0]["mblog"]["isTop"] == 1 and cards[0]["mblog"]["title"]["text"] == "置顶"
    flow = [int(i) for i in ids[1:]]
    assert flow == sorted(flow, reverse=True)
    assert [len(p["data"]["cards"]) for p in pages] == [10, 10, 5]
    # Asking past the end answers the recorded empty listing.
    past = emulator.fetch(f"{M}/api/container/getIndex?containerid=107603{account['uid']}"
                          f"&since_id={min(flow) - 1}")
    assert past.body == recorded("mweibo_getIndex_error_ok0_empty.json")
    keys = set(json.loads(recorded(
        "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json")
    )["data"]["cards"][6]["mblog"])
    assert {"created_at", "id", "mid", "bid", "text", "user", "pic_num"} <= keys
    assert keys - {"pics", "thumbnail_pic", "bmiddle_pic", "original_pic", "picStatus",
                   "page_info"} <= set(cards[3]["mblog"])


def test_recorded_timeline_continues_into_generated_posts(emulator):
    pages, _ = walk_timeline(emulator, ARKNIGHTS)
    first_since = pages[0]["data"]["cardlistInfo"]["since_id"]
    assert first_since == 4646131823281332
    assert pages[1]["data"]["cards"][0]["mblog"]["id"] == str(first_since)
    assert sum(len(p["data"]["cards"]) for p in pages) == 10 + 15


def test_every_media_url_of_a_timeline_is_served(emulator):
    urls = set()
    for account in emulator.world()["weibo"][:3]:
        pages, _ = walk_timeline(emulator, account["uid"])
        for page in pages:
            for card in page["data"]["cards"]:
                for mblog in (card["mblog"], card["mblog"].get("retweeted_status") or {}):
                    for pic in mblog.get("pics") or []:
                        urls.update([pic["url"], pic["large"]["url"]])
                    info = mblog.get("page_info") or {}
                    if info.get("type") == "video":
                        urls.add(info["page_pic"]["url"])
                        urls.update(info["urls"].values())
    assert any(".mp4" in u for u in urls) and any("/large/" in u for u in urls)
    for url in sorted(urls):
        reply = emulator.fetch(url)
        assert reply.status == 200, url
        if ".mp4" in url:
            assert reply.body[4:8] == b"ftyp" and reply.headers["Content-Type"] == "video/mp4"
        elif url.endswith(".gif"):
            assert reply.body.startswith(b"GIF89a")
        else:
            assert reply.body.startswith(b"\xff\xd8") and reply.body.endswith(b"\xff\xd9")
    assert emulator.fetch(sorted(urls)[0]).body == emulator.fetch(sorted(urls)[0]).body


def test_video_range_requests(emulator):
    url = "https://f.video.weibocdn.com/0041nQjugx07Ni6Zk3Qk01041200iTHD0E010.mp4?label=mp4_ld"
    whole = emulator.fetch(url).body
    part = emulator.fetch(url, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"


def test_long_text_repost_show_detail_and_comments(emulator):
    account = emulator.world()["weibo"][1]
    posts = [c["mblog"] for p in walk_timeline(emulator, account["uid"])[0]
             for c in p["data"]["cards"]]
    generated = [m for a in emulator.world()["weibo"][1:] for p in
                 walk_timeline(emulator, a["uid"])[0] for m in
                 (c["mblog"] for c in p["data"]["cards"])]
    long_post = next(m for m in generated if m["isLongText"])
    assert long_post["text"].endswith(f'...<a href="/status/{long_post["id"]}">全文</a>')
    extend = emulator.fetch(f"{M}/statuses/extend?id={long_post['id']}").json()
    assert extend["ok"] == 1 and len(extend["data"]["longTextContent"]) > len(long_post["text"])
    shown = emulator.fetch(f"{M}/statuses/show?id={long_post['bid']}").json()
    assert shown["data"]["text"] == extend["data"]["longTextContent"]
    page = emulator.fetch(f"{M}/detail/{long_post['id']}").body.decode()
    blob = re.search(r"var \$render_data = (.*)\[0\] \|\| \{\};", page, re.S).group(1)
    assert json.loads(blob)[0]["status"]["id"] == long_post["id"]
    repost = next(m for m in generated if m.get("retweeted_status"))
    original = repost["retweeted_status"]
    assert emulator.fetch(f"{M}/statuses/show?id={original['id']}").json()["data"]["id"] == \
        original["id"]
    commented = next(m for m in posts if m["comments_count"] > 25)
    max_id, seen = 0, 0
    while True:
        body = emulator.fetch(f"{M}/comments/hotflow?id={commented['id']}&mid={commented['id']}"
                              f"&max_id_type=0" + (f"&max_id={max_id}" if max_id else "")).json()
        seen += len(body["data"]["data"])
        max_id = body["data"]["max_id"]
        if max_id == 0:
            break
    assert seen == min(commented["comments_count"], 45)


def test_weibo_com_ajax(emulator):
    account = emulator.world()["weibo"][2]
    info = emulator.fetch(f"https://weibo.com/ajax/profile/info?uid={account['uid']}").json()
    assert info["ok"] == 1 and info["data"]["user"]["idstr"] == str(account["uid"])
    ids, page, since_id = [], 1, ""
    while True:
        body = emulator.fetch(f"https://weibo.com/ajax/statuses/mymblog?uid={account['uid']}"
                              f"&page={page}&feature=0&since_id={since_id}").json()
        assert body["ok"] == 1
        ids += [item["idstr"] for item in body["data"]["list"]]
        since_id, page = body["data"]["since_id"], page + 1
        if not since_id:
            break
    assert sorted(ids) == sorted(account["post_ids"])
    item = emulator.fetch(f"https://weibo.com/ajax/statuses/mymblog?uid={account['uid']}"
                          "&page=1&feature=0").json()["data"]["list"][1]
    show = emulator.fetch(f"https://weibo.com/ajax/statuses/show?id={item['mblogid']}").json()
    assert show["idstr"] == item["idstr"] and "text_raw" in show
    for infos in (show.get("pic_infos") or {}).values():
        assert emulator.fetch(infos["largest"]["url"]).status == 200
    longtext = emulator.fetch(f"https://weibo.com/ajax/statuses/longtext?id={item['mblogid']}")
    assert longtext.json()["ok"] == 1
