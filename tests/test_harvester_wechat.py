"""WechatHarvester against every real mp.weixin.qq.com sample, the refused formats, and the
listing sources that have no real sample (built here from PLATFORM-NOTES and PROVENANCE.md,
marked SYNTHETIC)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from harvesters import (
    CaptchaRequired,
    HarvestError,
    LoginExpired,
    PlatformError,
    RateLimited,
    Unavailable,
    UnsupportedResponse,
    WechatHarvester,
)
from harvesters.dates import SHANGHAI

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data" / "wechat"
CAPTURED = dt.datetime(2022, 8, 1, 12, 0, tzinfo=SHANGHAI)
BIZ = "MzAxMzgxNzUxOA=="


def parse_file(name, url=""):
    harvester = WechatHarvester()
    return harvester.parse(harvester.request_for_url(url), 200, {}, (DATA / name).read_bytes(),
                           CAPTURED)


def answer(request, body, status=200, harvester=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return (harvester or WechatHarvester()).parse(request, status, {}, raw, CAPTURED)


def test_2022_raw_server_article_of_a_county_government_account():
    result = parse_file("mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html")
    [post] = result.posts
    assert post.platform_ids == {"__biz": BIZ, "mid": "2650804290", "idx": "8",
                                 "sn": "d625de357b53f96d710aca4e6ec7f57c"}
    assert post.url == (f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=2650804290&idx=8"
                        "&sn=d625de357b53f96d710aca4e6ec7f57c")
    assert (post.account_id, post.post_id) == (BIZ, "2650804290_8")
    assert post.title == "绥德：33名退役军人被表彰"  # <title> is empty: from msg_title
    assert post.account_name == "掌上绥德" and post.extras["user_name"] == "gh_6bab8b88e75e"
    assert post.published_at.isoformat() == "2022-07-31T21:34:31+08:00"  # ct = 1659274471
    assert post.text.startswith("绥德县举行\n庆“八一”双拥文艺汇演暨首届“最美退役军人”表彰大会")
    assert "县委常委、县人武部政委赵山学" in post.text
    assert post.text_html.startswith("<div") and 'id="js_content"' in post.text_html
    pictures = [m for m in post.media if m.kind == "picture"]
    assert len(pictures) == 6 and all("mmbiz.qpic.cn" in m.url for m in pictures)
    assert pictures[0].url == ("https://mmbiz.qpic.cn/mmbiz_jpg/goXJnQSbvqzBWSZNZiaiaOBy9rOHMNqpelUc"
                               "EsK9hKeibbzDnYPNyQDnJICxs7b61xtjfDrw8vM1iawapIyJj93scQ/640?"
                               "wx_fmt=jpeg&wxfrom=5&wx_lazy=1&wx_co=1")
    [cover] = [m for m in post.media if m.kind == "cover"]
    assert cover.url.startswith("https://mmbiz.qpic.cn/mmbiz_jpg/XNfdFLib0NoZHibgmQMLwmgvVicNQYF")
    assert post.extras["original"] is False and post.status == "live"
    assert len([r for r in result.follow_up_requests if r.purpose == "media"]) == 7


def test_2020_browser_rendered_dom_prefers_ct_over_the_rendered_publish_time():
    [post] = parse_file("mp_article_2020_rendered_dom_sogou_temp_link_aifou.html").posts
    assert post.title == "三星 Galaxy S20 系列手机正式发布" and post.account_name == "爱否科技"
    assert post.published_at.isoformat() == "2020-02-12T22:17:54+08:00"  # not "昨天"
    assert post.platform_ids == {"__biz": "MjM5NzE1NTMyNg==", "mid": "2650934104", "idx": "1"}
    assert post.post_id == "2650934104_1"
    assert [m.kind for m in post.media].count("picture") == 6
    # The lazy-loading placeholder (a data: URI in src) is never taken for the picture.
    assert not any(m.url.startswith("data:") for m in post.media)
    assert post.text.startswith("今天凌晨，三星在美国旧金山举行发布会")


def test_2018_article_with_background_images_and_qqmusic():
    [post] = parse_file("mp_article_2018_background_image_news.html").posts
    assert post.title == "4月6日周五【新闻速览一分钟】" and post.account_name == "华商报"
    assert post.published_at.isoformat() == "2018-04-06T06:56:20+08:00"
    assert post.platform_ids == {"__biz": "ODUzMjkwMzYx", "mid": "2654593305", "idx": "1"}
    # No sn on the page: the address cannot be the permalink, so it says what is known.
    assert post.url == "https://mp.weixin.qq.com/s?__biz=ODUzMjkwMzYx&mid=2654593305&idx=1"
    kinds = [m.kind for m in post.media]
    # 28 data-src images and one CSS background image (the data: URI icon is not a picture).
    assert kinds.count("picture") == 29 and kinds.count("audio") == 1 and kinds[-1] == "cover"
    assert any("Jyco923vDiahUG7Gqyp3hMzafzu1MqfvRHGXoMtN8oReOYz7SkiaHJqjk7ACtFQfUOhQkibtofRZt463"
               in m.url for m in post.media)  # a CSS background-image
    [audio] = [m for m in post.media if m.kind == "audio"]
    assert audio.url == "http://ws.stream.qqmusic.qq.com/C100002VMURX2Ebx6y.m4a?fromtag=46"
    assert post.text.startswith("早上好~")


def test_2018_original_article_with_qqmusic_embed():
    [post] = parse_file("mp_article_2018_qqmusic_embed.html").posts
    assert post.title == "关于音乐" and post.account_name == "闲云野鹤古刹"
    assert post.extras["original"] is True and post.extras["user_name"] == "gh_bdbd9b1b592d"
    assert post.published_at.isoformat() == "2018-04-07T22:21:55+08:00"
    assert [m.kind for m in post.media] == ["picture", "picture", "audio", "cover"]
    assert post.media[2].duration == 261
    assert post.text.startswith("文艺青年消遣有四大法宝：读书、旅行、运动与音乐。")


def test_article_request_url_and_listing_merge():
    harvester = WechatHarvester()
    listing = parse_file("mp_cgi_appmsg_list_ex_app_msg_list_items_2020.jsonl").posts[0]
    request = harvester.article_request(listing.url, listing.account_id, listing=listing)
    page = (DATA / "mp_article_2018_qqmusic_embed.html").read_bytes()
    [post] = answer(request, page, harvester=harvester).posts
    assert post.extras["digest"].startswith("10月中旬，苹果终于在发布活动中推出了全新一代旗舰")
    assert post.title == "关于音乐"  # the page wins where it has a value


def test_expired_link_page_is_unavailable_with_its_text():
    result = parse_file("mp_article_link_expired_sogou_temp_url.html")
    assert isinstance(result.problem, Unavailable) and result.problem.status == "expired"
    assert "链接已过期" in result.problem.reason and result.posts == []


def weui_page(title, desc=""):
    """SYNTHETIC: the weui-msg template of the expired-link sample with another message."""
    page = (DATA / "mp_article_link_expired_sogou_temp_url.html").read_text(encoding="utf-8")
    extra = f'<p class="weui-msg__desc">{desc}</p>' if desc else ""
    return page.replace("链接已过期", title + "</h2>" + extra + "<h2 hidden>").encode()


@pytest.mark.parametrize("title, desc, status", [
    ("该内容已被发布者删除", "", "deleted"),
    ("此内容因违规无法查看", "由用户投诉并经平台审核，涉嫌违反相关法律法规和政策", "blocked"),
    ("此内容被投诉且经审核涉嫌侵权，无法查看。", "", "blocked"),
    ("此帐号已被屏蔽, 内容无法查看", "", "blocked"),
    ("此帐号已自主注销，内容无法查看", "", "blocked"),
    ("该公众号已迁移", "", "moved"),
])
def test_deleted_and_blocked_pages_mark_the_post(title, desc, status):
    harvester = WechatHarvester()
    url = f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=2650804290&idx=8&sn=d625de357b53f96d"
    result = answer(harvester.article_request(url, BIZ, purpose="recheck"), weui_page(title, desc),
                    harvester=harvester)
    assert isinstance(result.problem, Unavailable) and result.problem.status == status
    assert title in result.problem.reason
    [post] = result.posts
    assert (post.post_id, post.status) == ("2650804290_8", status)
    assert post.extras["unavailable_text"] == title


def test_throttled_article_page():
    result = answer(WechatHarvester().request_for_url("https://mp.weixin.qq.com/s/abc"),
                    weui_page("你的访问过于频繁，需要从微信打开验证身份"))
    assert isinstance(result.problem, (RateLimited, CaptchaRequired))


def test_app_msg_list_json_lines_2020():
    result = parse_file("mp_cgi_appmsg_list_ex_app_msg_list_items_2020.jsonl")
    assert len(result.posts) == 26 and len(result.follow_up_requests) == 26
    first = result.posts[0]
    assert (first.post_id, first.account_id) == ("2659017567_1", "MjM5MDQ4MzU5NQ==")
    assert first.title == "iPhone 12 mini/Pro Max预约破百万 A14X性能曝光 多核大提升"
    assert first.published_at.isoformat() == "2020-11-06T21:55:46+08:00"
    assert first.url == ("https://mp.weixin.qq.com/s?__biz=MjM5MDQ4MzU5NQ==&mid=2659017567&idx=1"
                         "&sn=6db6409f6eb50576c8ba2fedad3c1cb6")
    assert not first.long_text_complete and first.media[0].kind == "cover"
    assert result.follow_up_requests[0].url == first.url
    assert result.follow_up_requests[0].meta["listing"]["post_id"] == "2659017567_1"
    assert result.posts[1].post_id == "2659017567_2"


@pytest.mark.parametrize("name, words", [
    ("sogou_weixin_search_article_results.html", "Sogou WeChat article search result page"),
    ("sogou_weixin_search_gzh_results.html", "Sogou WeChat official-account search result page"),
    ("sogou_weixin_search_article_results_xml_in_json.json", "Sogou WeChat search answer"),
    ("sogou_weixin_antispider_page.html", "Sogou's anti-robot check page"),
    ("sogou_weixin_wapindex_hot_fragment.html", "Sogou's WeChat hot-articles index"),
    ("mp_profile_history_msgList_2017.html", "old WeChat account history page"),
    ("mp_profile_ext_getmsg_general_msg_list_items_gongqingtuan_2019.jsonl",
     "profile_ext getmsg general_msg_list"),
])
def test_refused_formats_name_themselves(name, words):
    with pytest.raises(UnsupportedResponse, match=words) as caught:
        parse_file(name)
    assert "weidang does not read" in str(caught.value)


# -- SYNTHETIC listing sources (PLATFORM-NOTES 1.1, 1.2, 1.4; PROVENANCE.md) ------------------

def test_api_token_is_never_archived_and_leads_to_batchget():
    harvester = WechatHarvester()
    [token] = harvester.start_requests(BIZ, {"appid": "wx123", "secret": "s3cret"})
    assert token.purpose == "token" and token.archive is False
    assert token.url == ("https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential"
                         "&appid=wx123&secret=s3cret")
    result = answer(token, {"access_token": "TOKEN", "expires_in": 7200})
    [batch] = result.next_requests
    assert batch.method == "POST" and batch.url.endswith("freepublish/batchget?access_token=TOKEN")
    assert json.loads(batch.body) == {"offset": 0, "count": 20, "no_content": 0}
    assert batch.archive


def freepublish(total, offset, count):
    items = []
    for n in range(offset, offset + count):
        link = f"http://mp.weixin.qq.com/s?__biz={BIZ}&mid={3000 + n}&idx=1&sn=sn{n}#rd"
        items.append({"article_id": f"art{n}", "update_time": 1659274471 + n, "content": {
            "news_item": [{"title": f"通知{n}", "author": "县政府办", "digest": "摘要",
                           "content": f"<p>第{n}号通知</p>", "content_source_url": "",
                           "thumb_media_id": "m", "thumb_url": f"https://mmbiz.qpic.cn/t{n}/0",
                           "url": link, "is_deleted": n == 21}]}})
    return {"total_count": total, "item_count": count, "item": items}


def test_batchget_pages_by_offset_to_the_end():
    harvester = WechatHarvester()
    first = harvester.api_list_request(BIZ, "TOKEN")
    result = answer(first, freepublish(25, 0, 20), harvester=harvester)
    assert len(result.posts) == 20 and result.reported_total == 25
    post = result.posts[0]
    assert (post.post_id, post.title, post.text) == ("3000_1", "通知0", "第0号通知")
    assert post.long_text_complete and post.extras["author"] == "县政府办"
    assert post.published_at.isoformat() == "2022-07-31T21:34:31+08:00"
    assert post.url == f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=3000&idx=1&sn=sn0"
    [second] = result.next_requests
    assert json.loads(second.body)["offset"] == 20
    last = answer(second, freepublish(25, 20, 5), harvester=harvester)
    assert last.end_of_listing and not last.next_requests
    assert [p.status for p in last.posts].count("deleted") == 1


@pytest.mark.parametrize("errcode, kind", [
    (40001, LoginExpired), (42001, LoginExpired), (40164, LoginExpired),
    (45009, RateLimited), (45011, RateLimited), (48001, PlatformError), (-1, PlatformError),
])
def test_api_error_codes(errcode, kind):
    request = WechatHarvester().api_list_request(BIZ, "TOKEN")
    result = answer(request, {"errcode": errcode, "errmsg": "some error rid: 1"})
    assert type(result.problem) is kind and result.problem.advice


def publish_page(begin, count, total):
    entries = []
    for n in range(begin, min(begin + count, total)):
        info = {"appmsgex": [{"aid": f"{4000 + n}_1", "appmsgid": 4000 + n, "itemidx": 1,
                              "title": f"群发{n}", "digest": "", "cover": "",
                              "link": f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid={4000 + n}"
                                      f"&idx=1&sn=x{n}&chksm=abc#rd",
                              "create_time": 1659274471, "update_time": 1659274471,
                              "copyright_stat": 1, "is_deleted": False, "author_name": "编辑"}],
                "sent_info": {"time": 1659274471}}
        entries.append({"publish_type": 101, "publish_info": json.dumps(info, ensure_ascii=False)})
    page = {"total_count": total, "publish_count": 0, "masssend_count": total,
            "publish_list": entries}
    return {"base_resp": {"ret": 0, "err_msg": "ok"},
            "publish_page": json.dumps(page, ensure_ascii=False)}


def test_backend_appmsgpublish_pages_until_total():
    harvester = WechatHarvester()
    [first] = harvester.start_requests(BIZ, {"cookie": "slave_sid=abc", "token": "123"})
    assert "cgi-bin/appmsgpublish?sub=list" in first.url and "fakeid=MzAxMzgxNzUxOA%3D%3D" in first.url
    assert first.headers["Cookie"] == "slave_sid=abc" and "begin=0" in first.url
    result = answer(first, publish_page(0, 5, 7), harvester=harvester)
    assert [p.post_id for p in result.posts] == [f"{4000 + n}_1" for n in range(5)]
    assert result.posts[0].url == f"https://mp.weixin.qq.com/s?__biz={BIZ}&mid=4000&idx=1&sn=x0"
    assert result.reported_total == 7 and len(result.follow_up_requests) == 5
    [second] = result.next_requests
    assert "begin=5" in second.url and second.headers["Cookie"] == "slave_sid=abc"
    last = answer(second, publish_page(5, 5, 7), harvester=harvester)
    assert len(last.posts) == 2 and last.end_of_listing and not last.next_requests


def test_backend_appmsg_list_ex():
    harvester = WechatHarvester(backend_list="appmsg")
    [first] = harvester.start_requests(BIZ, {"cookie": "c", "token": "t"}, source="backend")
    assert "cgi-bin/appmsg?action=list_ex" in first.url and "count=5" in first.url
    items = [json.loads(line) for line in (DATA / "mp_cgi_appmsg_list_ex_app_msg_list_items_2020"
                                           ".jsonl").read_text(encoding="utf-8").splitlines()]
    body = {"base_resp": {"ret": 0, "err_msg": "ok"}, "app_msg_cnt": 26, "app_msg_list": items[:5]}
    result = answer(first, body, harvester=harvester)
    assert len(result.posts) == 5 and result.reported_total == 26
    assert "begin=5" in result.next_requests[0].url


@pytest.mark.parametrize("ret, kind", [(200003, LoginExpired), (200013, RateLimited),
                                       (200002, PlatformError)])
def test_backend_ret_codes(ret, kind):
    harvester = WechatHarvester()
    [request] = harvester.start_requests(BIZ, {"cookie": "c", "token": "t"})
    result = answer(request, {"base_resp": {"ret": ret, "err_msg": "freq control"}})
    assert type(result.problem) is kind


RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>掌上绥德</title>
<item><title>绥德：33名退役军人被表彰</title>
<link>https://mp.weixin.qq.com/s?__biz={BIZ}&amp;mid=2650804290&amp;idx=8&amp;sn=d625de357b53f96d710aca4e6ec7f57c&amp;chksm=1#rd</link>
<pubDate>Sun, 31 Jul 2022 13:34:31 GMT</pubDate><description>&lt;p&gt;摘要&lt;/p&gt;</description></item>
<item><title>别处的链接</title><link>https://example.org/x</link></item>
</channel></rss>"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>掌上绥德</title>
<entry><title>第二篇</title><link href="https://mp.weixin.qq.com/s?__biz={BIZ}&amp;mid=2650804291&amp;idx=1&amp;sn=ab"/>
<updated>2022-08-01T08:00:00+08:00</updated></entry></feed>"""


@pytest.mark.parametrize("feed, post_id, when", [
    (RSS, "2650804290_8", "2022-07-31T21:34:31+08:00"),
    (ATOM, "2650804291_1", "2022-08-01T08:00:00+08:00"),
])
def test_feeds_list_article_links(feed, post_id, when):
    harvester = WechatHarvester()
    [request] = harvester.start_requests(BIZ, {"feed_url": "https://feeds.example/suide.xml"})
    assert request.purpose == "list"
    result = answer(request, feed.encode(), harvester=harvester)
    [post] = result.posts  # the link to another site is left out
    assert (post.post_id, post.published_at.isoformat()) == (post_id, when)
    assert result.end_of_listing and result.follow_up_requests[0].purpose == "article"


def test_url_list_source_goes_straight_to_article_pages():
    urls = ["http://mp.weixin.qq.com/s?__biz=X==&amp;mid=1&amp;idx=2&amp;sn=s&amp;chksm=c#rd",
            "https://mp.weixin.qq.com/s/abcDEF"]
    requests = WechatHarvester().start_requests(BIZ, {"urls": urls})
    assert [r.url for r in requests] == ["https://mp.weixin.qq.com/s?__biz=X==&mid=1&idx=2&sn=s",
                                         "https://mp.weixin.qq.com/s/abcDEF"]
    assert all(r.purpose == "article" for r in requests)


def test_missing_credentials_and_unknown_answers_are_explained():
    with pytest.raises(HarvestError, match="appid and secret"):
        WechatHarvester().start_requests(BIZ, {"appid": "wx"})
    with pytest.raises(HarvestError, match="cannot tell how to list"):
        WechatHarvester().start_requests(BIZ, {})
    with pytest.raises(HarvestError, match="neither a WeChat article page"):
        answer(WechatHarvester().request_for_url(""), b"<html><body>hi</body></html>")
    with pytest.raises(HarvestError, match="none of the shapes"):
        answer(WechatHarvester().request_for_url(""), {"hello": 1})


def test_videos_and_voice_in_an_article_body():
    # SYNTHETIC: the 2022 page with an mp video (videoPageInfos), a Tencent Video embed and an
    # mpvoice inserted, in the markup PLATFORM-NOTES 1.5 describes.
    page = (DATA / "mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html"
            ).read_text(encoding="utf-8")
    body = ('<iframe class="video_iframe" data-mpvid="wxv_123" data-src="">'
            '</iframe><iframe data-vidtype="2" data-src="https://v.qq.com/iframe/preview.html?'
            'vid=k0001&amp;width=500"></iframe><mpvoice voice_encode_fileid="MzA_voice" '
            'play_length="61000" name="讲话"></mpvoice>')
    script = ("<script>var videoPageInfos = [{ video_id: 'wxv_123', is_mp_video: 1, "
              "mp_video_trans_info: [{ url: 'https://mpvideo.qpic.cn/low.mp4?a=1&amp;b=2', "
              "width: '640', height: '360' }, { url: 'https://mpvideo.qpic.cn/high.mp4', "
              "width: '1280', height: '720' }] }];</script>")
    page = page.replace('id="js_content" style="visibility: hidden;">',
                        'id="js_content" style="visibility: hidden;">' + body, 1)
    page = page.replace("</body>", script + "</body>", 1)
    [post] = answer(WechatHarvester().request_for_url(""), page.encode()).posts
    video = next(m for m in post.media if m.kind == "video")
    assert (video.url, video.width, video.id) == ("https://mpvideo.qpic.cn/high.mp4", 1280, "wxv_123")
    assert video.alternatives == ["https://mpvideo.qpic.cn/low.mp4?a=1&b=2"]
    embed = next(m for m in post.media if m.kind == "embed")
    assert embed.url == "https://v.qq.com/iframe/preview.html?vid=k0001&width=500"
    assert embed.id == "k0001"
    audio = next(m for m in post.media if m.kind == "audio")
    assert audio.url == "https://res.wx.qq.com/voice/getvoice?mediaid=MzA_voice"
    assert audio.duration == 61.0
