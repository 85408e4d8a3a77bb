"""The emulator's WeChat side, through the proxy: API, backend session, pages, feeds."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data" / "wechat"
API = "https://api.weixin.qq.com/cgi-bin"
MP = "https://mp.weixin.qq.com"


def generated(emulator):
    return next(a for a in emulator.world()["wechat"] if a["biz"] == "MzkwMDAwMDAwMg==")


def token(emulator, account):
    reply = emulator.fetch(f"{API}/token?grant_type=client_credential&appid={account['appid']}"
                           f"&secret={account['secret']}")
    body = reply.json()
    assert body["expires_in"] == 7200
    return body["access_token"]


def test_token_errors(emulator):
    account = generated(emulator)
    wrong = emulator.fetch(f"{API}/token?grant_type=client_credential&appid={account['appid']}"
                           "&secret=0000").json()
    assert wrong["errcode"] == 40125 and "rid:" in wrong["errmsg"]
    unknown = emulator.fetch(f"{API}/token?grant_type=client_credential&appid=wx00&secret=x")
    assert unknown.json()["errcode"] == 40013
    invalid = emulator.fetch(f"{API}/freepublish/batchget?access_token=nope",
                             data=b'{"offset":0,"count":5}').json()
    assert invalid["errcode"] == 40001


def test_freepublish_walks_to_the_end(emulator):
    account = generated(emulator)
    access_token = token(emulator, account)
    offset, links, total = 0, [], None
    while True:
        body = emulator.fetch(f"{API}/freepublish/batchget?access_token={access_token}",
                              data=json.dumps({"offset": offset, "count": 3,
                                               "no_content": 0}).encode()).json()
        total = body["total_count"]
        for item in body["item"]:
            for news in item["content"]["news_item"]:
                assert {"title", "author", "digest", "content", "url", "thumb_url",
                        "is_deleted"} <= set(news)
                links.append(news["url"])
        offset += body["item_count"]
        if body["item_count"] == 0 or offset >= total:
            break
    assert total == account["pushes"] and sorted(links) == sorted(account["links"])
    bad = emulator.fetch(f"{API}/freepublish/batchget?access_token={access_token}&offset=0",
                         data=b"{}").json()
    assert bad["errcode"] == 40097


def list_ex(emulator, account, begin, cookie=True):
    headers = {"Cookie": account["cookie"]} if cookie else {}
    return emulator.fetch(f"{MP}/cgi-bin/appmsg?action=list_ex&begin={begin}&count=5"
                          f"&fakeid={account['biz']}&type=9&query=&token={account['token']}"
                          "&lang=zh_CN&f=json&ajax=1", headers=headers).json()


def test_backend_list_ex_walks_to_the_end_and_needs_a_session(emulator):
    account = generated(emulator)
    begin, items = 0, []
    while True:
        body = list_ex(emulator, account, begin)
        assert body["base_resp"] == {"ret": 0, "err_msg": "ok"}
        if not body["app_msg_list"]:
            break
        items += body["app_msg_list"]
        begin += len(body["app_msg_list"])
    assert len(items) == body["app_msg_cnt"] == 25
    assert {i["link"] + "#rd" for i in items} == set(account["links"])
    assert list_ex(emulator, account, 0, cookie=False)["base_resp"]["ret"] == 200003


def test_backend_recorded_items_in_their_real_wrapper(emulator):
    account = next(a for a in emulator.world()["wechat"] if a["biz"] == "MjM5MDQ4MzU5NQ==")
    lines = [line for line in (DATA / "mp_cgi_appmsg_list_ex_app_msg_list_items_2020.jsonl")
             .read_bytes().splitlines() if line.strip()]
    owner = generated(emulator)  # any administrator's session may list any account
    session = dict(account, cookie=owner["cookie"], token=owner["token"])
    body = list_ex(emulator, session, 0)
    assert body["app_msg_cnt"] == 26
    raw = emulator.fetch(f"{MP}/cgi-bin/appmsg?action=list_ex&begin=0&count=5&fakeid="
                         f"{account['biz']}&type=9&token={owner['token']}&f=json&ajax=1",
                         headers={"Cookie": owner["cookie"]}).body
    assert raw.startswith(b'{"base_resp":{"ret":0,"err_msg":"ok"},"app_msg_cnt":26,'
                          b'"app_msg_list":[' + lines[0] + b",")
    page = emulator.fetch(json.loads(lines[0])["link"].replace("http://", "https://"))
    assert json.loads(lines[0])["title"] in page.body.decode()


def test_appmsgpublish_walks_to_the_end(emulator):
    account = generated(emulator)
    begin, aids = 0, []
    while True:
        body = emulator.fetch(f"{MP}/cgi-bin/appmsgpublish?sub=list&search_field=null&begin="
                              f"{begin}&count=2&query=&fakeid={account['biz']}&type=101_1"
                              f"&free_publish_type=1&sub_action=list_ex&token={account['token']}"
                              "&lang=zh_CN&f=json&ajax=1",
                              headers={"Cookie": account["cookie"]}).json()
        page = json.loads(body["publish_page"])
        if not page["publish_list"]:
            break
        for entry in page["publish_list"]:
            info = json.loads(entry["publish_info"])
            assert info["sent_info"]["time"] > 0
            aids += [a["aid"] for a in info["appmsgex"]]
        begin += len(page["publish_list"])
    assert page["total_count"] == account["pushes"] and len(aids) == 25


@pytest.mark.parametrize("url, sample", [
    (f"{MP}/s?__biz=MzAxMzgxNzUxOA==&mid=2650804290&idx=8&sn=d625de357b53f96d710aca4e6ec7f57c"
     "&chksm=80687383b71ffa95268550a2331d599bcf29ddc4966bc56cb7f6717d2e1eab829ec635933ee5#rd",
     "mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html"),
    (f"{MP}/s?__biz=ODUzMjkwMzYx&mid=2654593305&idx=1", "mp_article_2018_background_image_news.html"),
    (f"{MP}/s?__biz=MzIwOTc2ODc1NQ==&mid=2247484727&idx=1", "mp_article_2018_qqmusic_embed.html"),
    (f"{MP}/s?src=11&timestamp=1500000000&ver=1&signature=abc",
     "mp_article_link_expired_sogou_temp_url.html"),
])
def test_recorded_article_pages_are_byte_identical(emulator, url, sample):
    reply = emulator.fetch(url)
    assert reply.status == 200 and reply.body == (DATA / sample).read_bytes()
    assert any(c.startswith("wxtokenkey=") for c in reply.headers.get_all("Set-Cookie"))


def test_generated_article_page_and_its_images(emulator):
    account = generated(emulator)
    link = account["links"][0].replace("http://", "https://")
    page = emulator.fetch(link).body.decode()
    biz, mid, idx, sn = re.search(r"__biz=([^&]+)&mid=(\d+)&idx=(\d+)&sn=(\w+)", link).groups()
    assert f'var biz = "" || "{biz}"' in page and f'var sn = "" || "{sn}"' in page
    assert f'var idx = "" || "{idx}" || ""' in page and f'var mid = "" || "{mid}"' in page
    assert re.search(r'var ct = "\d{10}"', page) and 'var nickname = "' in page
    assert "var msg_title = '" in page and 'id="js_article"' in page
    body = page[page.index('id="js_content"'):page.index('id="js_sponsor_ad_area"')]
    images = [u.replace("&amp;", "&") for u in re.findall(r'data-src="([^"]+)"', body)]
    covers = re.findall(r'var msg_cdn_url = "([^"]+)"', page)
    for url in images + covers:
        reply = emulator.fetch(url)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("image/")
    wrong_sn = emulator.fetch(link.replace(sn, "0" * 32)).body.decode()
    assert "weui-msg__title" in wrong_sn and "js_article" not in wrong_sn


def test_short_links_and_feeds(emulator):
    account = generated(emulator)
    rss = ET.fromstring(emulator.fetch(account["feed_rss"]).body)
    links = [item.findtext("link") for item in rss.iter("item")]
    assert sorted(links) == sorted(account["links"])
    atom = ET.fromstring(emulator.fetch(account["feed_atom"]).body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(atom.findall("a:entry", ns)) == 25
    assert emulator.fetch("http://rss.weidang-emulator.invalid/wechat/nope.xml").status == 404
    short = emulator.fetch(account["short_links"][0]).body
    assert short == emulator.fetch(account["links"][0]).body
