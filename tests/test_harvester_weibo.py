"""WeiboHarvester against every real m.weibo.cn and weibo.com sample, and synthetic error shapes.

The values checked are the ones a person reads in the sample files (emulator/data/weibo/).
Shapes without a real sample are built here from PLATFORM-NOTES and marked SYNTHETIC.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from harvesters import (
    CaptchaRequired,
    HarvestError,
    LoginExpired,
    RateLimited,
    Unavailable,
    WeiboHarvester,
)
from harvesters.dates import SHANGHAI

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data" / "weibo"
CAPTURED = dt.datetime(2021, 6, 17, 16, 30, tzinfo=SHANGHAI)
TIMELINE = "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json"


def parse(name, url="", harvester=None, captured_at=CAPTURED, **meta):
    harvester = harvester or WeiboHarvester()
    request = harvester.request_for_url(url, **meta)
    return harvester.parse(request, 200, {}, (DATA / name).read_bytes(), captured_at)


def parse_body(body, purpose_url="", status=200, harvester=None, **meta):
    harvester = harvester or WeiboHarvester()
    request = harvester.request_for_url(purpose_url, **meta)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return harvester.parse(request, status, {}, raw, CAPTURED)


def test_start_request_is_the_mobile_profile_with_real_client_headers():
    [request] = WeiboHarvester().start_requests("6279793937")
    assert request.url == "https://m.weibo.cn/api/container/getIndex?containerid=1005056279793937"
    assert request.purpose == "profile" and request.archive
    assert request.headers["MWeibo-Pwa"] == "1"
    assert request.headers["X-Requested-With"] == "XMLHttpRequest"
    assert request.headers["Referer"] == "https://m.weibo.cn/u/6279793937"
    assert "Cookie" not in request.headers
    with pytest.raises(HarvestError):
        WeiboHarvester().start_requests("明日方舟")


def test_desktop_start_needs_a_cookie_and_sends_it_with_the_xsrf_token():
    with pytest.raises(HarvestError, match="cookie"):
        WeiboHarvester("desktop").start_requests("1959830294")
    [request] = WeiboHarvester("desktop").start_requests(
        "1959830294", {"cookie": "SUB=abc; XSRF-TOKEN=tok123"})
    assert request.url == "https://weibo.com/ajax/profile/info?uid=1959830294"
    assert request.headers["Cookie"] == "SUB=abc; XSRF-TOKEN=tok123"
    assert request.headers["X-XSRF-TOKEN"] == "tok123"


def test_profile_100505_gives_account_and_the_weibo_tab_timeline():
    result = parse("mweibo_getIndex_profile_100505_userInfo_tabs.json")
    account = result.account
    assert (account.account_id, account.name) == ("6279793937", "明日方舟Arknights")
    assert account.reported_total == 1553 == result.reported_total
    assert account.followers == 1_455_000  # "145.5万"
    assert account.verified and account.verified_reason == "上海鹰角网络科技有限公司"
    [timeline] = result.next_requests
    assert timeline.url.endswith("containerid=1076036279793937")
    assert timeline.purpose == "timeline"


def test_profile_type_uid_2019():
    result = parse("mweibo_getIndex_type_uid_userInfo_tabsInfo_2019.json")
    assert result.account.name == "Dear-迪丽热巴"
    assert result.account.followers == 63357736
    assert result.account.reported_total == 1008
    assert result.next_requests[0].url.endswith("containerid=1076031669879400")


def test_timeline_first_page():
    result = parse(TIMELINE, "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937")
    posts = {p.post_id: p for p in result.posts}
    assert len(result.posts) == 10 and result.reported_total == 1221
    assert not result.end_of_listing
    [next_page] = result.next_requests
    assert next_page.url == ("https://m.weibo.cn/api/container/getIndex?"
                             "containerid=1076036279793937&since_id=4646131823281332")
    assert next_page.meta["page"] == 2

    pinned = posts["4645748019299849"]
    assert pinned.pinned and pinned.platform_ids == {"mid": "4645748019299849", "bid": "Kjc77D1jz"}
    assert pinned.url == "https://weibo.com/6279793937/Kjc77D1jz"
    assert pinned.account_name == "明日方舟Arknights"
    assert pinned.published_at.isoformat() == "2021-06-08T09:35:04+08:00"
    assert pinned.edited and pinned.edit_count == 2
    assert pinned.edited_at.isoformat() == "2021-06-16T10:51:10+08:00"
    assert not pinned.long_text_complete and pinned.text.endswith("2. Ma ...全文")
    assert pinned.counts == {"reposts": 9079, "comments": 2126, "likes": 37053}
    assert pinned.source == "微博视频号"
    video, cover = pinned.media
    assert video.kind == "video" and video.url.startswith(
        "https://f.video.weibocdn.com/004gx4yOgx07Ni70wB1601041200QZHs0E010.mp4?label=mp4_720p")
    assert (video.width, video.height, video.duration) == (1280, 720, 103.165)
    assert len(video.alternatives) == 2 and video.id == "1034:4645779462357001"
    assert cover.kind == "cover" and cover.id == "006QZngZgy1grapj0wc3ej30qo0goton"
    assert sum(p.pinned for p in result.posts) == 1

    six = posts["4646569834450357"]
    assert [m.kind for m in six.media] == ["picture"] * 6
    four = posts["4646917039199914"]
    assert len(four.media) == 4
    first = four.media[0]
    assert first.url == "https://wx2.sinaimg.cn/large/006QZngZgy1grebng32cij31hc0u0hdm.jpg"
    assert (first.width, first.height) == (1920, 1080)
    assert first.alternatives == ["https://wx2.sinaimg.cn/orj360/006QZngZgy1grebng32cij31hc0u0hdm.jpg"]
    assert four.media[1].url.endswith("/large/006QZngZgy1grebnjqevtg30dv0mo7wn.gif")


def test_timeline_repost_nests_the_original_and_asks_for_its_long_text():
    result = parse(TIMELINE)
    repost = next(p for p in result.posts if p.post_id == "4648806186747944")
    assert repost.text.startswith("恭喜@黄防护服黄 等10名用户获得【音律联觉主题黑胶礼盒各一套】")
    assert repost.source == "微博抽奖平台" and repost.media == []
    original = repost.repost
    assert original.post_id == "4645748019299849" and original.account_name == "明日方舟Arknights"
    assert original.status == "live" and not original.long_text_complete
    assert [m.kind for m in original.media] == ["video", "cover"]
    long_texts = [r for r in result.follow_up_requests if r.purpose == "long_text"]
    ids = sorted(r.url.rsplit("=", 1)[1] for r in long_texts)
    # Truncated ("...全文"): the pinned post, 5 more listing posts, and the reposted original.
    assert ids == sorted(["4645748019299849", "4645748019299849", "4649031014551911",
                          "4647212359090479", "4646569834450357", "4646502071534367",
                          "4646192191903210"])
    repost_fetch = next(r for r in long_texts if r.meta.get("repost_of") == "4648806186747944")
    assert repost_fetch.url == "https://m.weibo.cn/statuses/extend?id=4645748019299849"


def test_timeline_follow_ups_fetch_the_media_with_a_weibo_referer():
    result = parse(TIMELINE)
    media = [r for r in result.follow_up_requests if r.purpose == "media"]
    # 16 pictures; the pinned video and the reposted copy of it, each with its cover.
    assert len(media) == 20
    assert sorted(r.meta["kind"] for r in media).count("video") == 2
    assert all(r.headers["Referer"] == "https://weibo.com/" for r in media)
    assert "https://wx1.sinaimg.cn/large/006QZngZgy1grl2q3n98jj30rs2084qp.jpg" in {
        r.url for r in media}
    no_media = WeiboHarvester(follow_media=False)
    assert not [r for r in parse(TIMELINE, harvester=no_media).follow_up_requests
                if r.purpose == "media"]


def test_timeline_second_capture_shows_the_new_post_under_the_pinned_one():
    result = parse("mweibo_getIndex_timeline_107603_arknights_page2_newpost.json")
    assert [p.post_id for p in result.posts[:2]] == ["4645748019299849", "4649106427873349"]
    new = result.posts[1]
    assert new.published_at.isoformat() == "2021-06-17T16:00:11+08:00"
    assert new.text.startswith("#明日方舟#\nSideStory「沃伦姆德的薄暮」复刻现已开启！")
    assert not new.pinned and len(result.posts) == 11


def test_timeline_ends_on_empty_page_card_58_or_repeated_since_id():
    assert parse("mweibo_getIndex_error_ok0_empty.json",
                 "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"
                 ).end_of_listing
    # SYNTHETIC: a page whose only card is the "no more posts" card 58.
    done = parse_body({"ok": 1, "data": {"cardlistInfo": {"since_id": 5, "total": 3},
                                         "cards": [{"card_type": 58, "name": "暂无微博"}]}},
                      "https://m.weibo.cn/api/container/getIndex?containerid=1076031")
    assert done.end_of_listing and not done.next_requests and done.reported_total == 3
    body = json.loads((DATA / TIMELINE).read_text(encoding="utf-8"))
    harvester = WeiboHarvester()
    again = harvester.timeline_request("6279793937", since_id="4646131823281332", page=2)
    result = harvester.parse(again, 200, {}, json.dumps(body).encode(), CAPTURED)
    assert result.end_of_listing and not result.next_requests


def test_pinned_by_profile_type_id():
    # SYNTHETIC: pinned only through the card's profile_type_id (RSSHub's check).
    card = json.loads((DATA / TIMELINE).read_text(encoding="utf-8"))["data"]["cards"][1]
    card["profile_type_id"] = "proweibotop_4649031014551911"
    result = parse_body({"ok": 1, "data": {"cardlistInfo": {}, "cards": [card]}},
                        "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937")
    assert result.posts[0].pinned


def test_long_text_needs_the_request_url_for_its_post_id():
    with pytest.raises(HarvestError, match="which post"):
        parse("mweibo_statuses_extend_longTextContent_4645748019299849.json")
    result = parse("mweibo_statuses_extend_longTextContent_4645748019299849.json",
                   "https://m.weibo.cn/statuses/extend?id=4645748019299849")
    [post] = result.posts
    assert post.post_id == "4645748019299849" and post.platform_ids["bid"] == "Kjc77D1jz"
    assert post.long_text_complete
    assert "1. CanNot Wait For\n2. ManiFesto:\n3. 灯华梦踏\n4. 前航远歌" in post.text
    assert "开奖后奖品会在出货后寄出。" in post.text


def test_long_text_merges_into_the_listing_post_and_updates_counts():
    harvester = WeiboHarvester()
    listing = parse(TIMELINE).posts[1]
    assert listing.post_id == "4649031014551911" and not listing.long_text_complete
    request = harvester.long_text_request(listing)
    assert request.url == "https://m.weibo.cn/statuses/extend?id=4649031014551911"
    body = (DATA / "mweibo_statuses_extend_longTextContent_with_counts_4649031014551911.json"
            ).read_bytes()
    [post] = harvester.parse(request, 200, {}, body, CAPTURED).posts
    assert post.long_text_complete and post.pinned is False
    assert post.published_at.isoformat() == "2021-06-17T11:00:31+08:00"  # kept from the listing
    assert post.text.endswith("如若延迟则请关注官方发布的具体开服时间*")
    assert "◆SideStory「沃伦姆德的薄暮」复刻活动开启" in post.text
    assert post.counts == {"reposts": 79, "comments": 654, "likes": 20111}
    assert len(post.media) == 1


def test_long_text_of_emoji_only_2019():
    [post] = parse("mweibo_statuses_extend_emoji_only_2019.json",
                   "https://m.weibo.cn/statuses/extend?id=4383487819465288").posts
    assert post.text.startswith("😄😆😊😃☺️😏😍😘")
    assert post.counts == {"reposts": 0, "comments": 0, "likes": 0}


def test_statuses_show_of_the_edited_video_post():
    [post] = parse("mweibo_statuses_show_video_edited_longtext_4645748019299849.json",
                   "https://m.weibo.cn/statuses/show?id=Kjc77D1jz").posts
    assert post.platform_ids["bid"] == "Kjc77D1jz" and post.edit_count == 2
    assert post.long_text_complete  # statuses/show carries the whole text
    assert post.text.endswith("开奖后奖品会在出货后寄出。 明日方舟Arknights的微博视频 抽奖详情")
    assert post.counts == {"reposts": 7299, "comments": 2203, "likes": 39018}
    assert post.extras["status_title"] == "明日方舟·音律联觉"
    assert post.media[0].kind == "video" and not post.pinned


@pytest.mark.parametrize("name, post_id, bid, pictures, likes", [
    ("mweibo_detail_page_render_data_4645748019299849.html", "4645748019299849", "Kjc77D1jz",
     0, 37169),
    ("mweibo_detail_page_render_data_4649031014551911.html", "4649031014551911", "Kkzwhj69V",
     1, 16670),
])
def test_detail_page_render_data(name, post_id, bid, pictures, likes):
    [post] = parse(name, f"https://m.weibo.cn/detail/{post_id}").posts
    assert (post.post_id, post.platform_ids["bid"]) == (post_id, bid)
    assert post.long_text_complete and post.counts["likes"] == likes
    assert sum(m.kind == "picture" for m in post.media) == pictures
    assert post.account_id == "6279793937"


def test_hotflow_comments_and_max_id_paging():
    result = parse("mweibo_comments_hotflow_max_id_2019.json",
                   "https://m.weibo.cn/comments/hotflow?id=4383173633744233&mid=4383173633744233"
                   "&max_id_type=0")
    assert len(result.comments) == 20 and result.reported_total == 133519
    first = result.comments[0]
    assert first.comment_id == "4383183984547669" and first.author_name == "护舒宝"
    assert first.text.startswith("宝宝陪你一起搬陪你一起吃[羞嗒嗒]")
    assert first.likes == 6183 and first.reply_count == 143
    assert first.published_at.isoformat() == "2019-06-14T20:39:20+08:00"
    assert first.replies
    [more] = result.next_requests
    assert "max_id=314345666829623" in more.url and "max_id_type=0" in more.url


def test_a_post_without_comments_is_not_taken_for_a_deleted_post():
    result = parse_body({"ok": 0, "msg": "快来发表你的评论吧"},
                        "https://m.weibo.cn/comments/hotflow?id=4383173633744233&mid=4383173633744233"
                        "&max_id_type=0")
    assert result.problem is None and result.posts == [] and result.comments == []
    assert result.end_of_listing and result.next_requests == []


def test_legacy_comments_with_relative_dates():
    result = parse("mweibo_api_comments_show_hot_data_2019_legacy.json",
                   "https://m.weibo.cn/api/comments/show?id=4383932071637949&page=1",
                   captured_at=dt.datetime(2019, 6, 16, 10, 0, tzinfo=SHANGHAI))
    assert len(result.comments) == 12  # 2 newest + 10 hot
    assert result.comments[0].published_at.isoformat() == "2019-06-16T10:00:00+08:00"  # 刚刚
    assert result.comments[0].text.startswith("吃的完吗？要不我帮你解决一点儿[太开心]")
    assert result.reported_total == 125020


def test_desktop_profile_info():
    harvester = WeiboHarvester("desktop")
    result = parse("weibo_com_ajax_profile_info_user_tabList.json",
                   "https://weibo.com/ajax/profile/info?uid=1959830294", harvester=harvester)
    account = result.account
    assert (account.account_id, account.name) == ("1959830294", "汪有")
    assert account.reported_total == 16538 and account.followers == 1520885
    assert account.extras["location"] == "广东 广州"
    assert result.next_requests[0].url == (
        "https://weibo.com/ajax/statuses/mymblog?uid=1959830294&page=1&feature=0")


def test_desktop_status_item_with_reposted_pictures():
    [post] = parse("weibo_com_ajax_statuses_searchProfile_list0_retweet_pic_infos_EXCERPT.json"
                   ).posts
    assert post.platform_ids == {"mid": "4070389468396025", "bid": "Etx9ozebL"}
    assert post.url == "https://weibo.com/1433680664/Etx9ozebL"
    assert post.text == "happy tree friends" and post.source == "iPhone 6"
    assert post.published_at.isoformat() == "2017-02-01T17:05:36+08:00"
    assert post.counts == {"reposts": 33, "comments": 51, "likes": 181}
    original = post.repost
    assert original.post_id == "4070364252396369" and original.account_name == "老阿姨在看着你"
    assert original.platform_ids["bid"] == "EtwuJa3p7"
    assert [m.url for m in original.media] == [
        "https://wx4.sinaimg.cn/large/67197f43ly1fcazwajuhyj20fc0cxgmk.jpg",
        "https://wx4.sinaimg.cn/large/67197f43ly1fcazwehndbj20ku0kugof.jpg"]
    assert "https://wx4.sinaimg.cn/mw2000/67197f43ly1fcazwajuhyj20fc0cxgmk.jpg" in (
        original.media[0].alternatives)
    assert original.media[0].id == "67197f43ly1fcazwajuhyj20fc0cxgmk"


def test_mymblog_list_pages_by_since_id():
    # SYNTHETIC wrapper (mymblog has no real sample) around the real list item.
    item = json.loads((DATA / "weibo_com_ajax_statuses_searchProfile_list0_retweet_pic_infos_"
                       "EXCERPT.json").read_text(encoding="utf-8"))
    item["isTop"] = 1
    harvester = WeiboHarvester("desktop")
    request = harvester.timeline_request("1433680664", cookie="SUB=x")
    body = {"ok": 1, "data": {"list": [item], "since_id": "4070389468396025kp2", "total": 530}}
    result = harvester.parse(request, 200, {}, json.dumps(body).encode(), CAPTURED)
    assert result.posts[0].pinned and result.reported_total == 530
    [more] = result.next_requests
    assert more.url == ("https://weibo.com/ajax/statuses/mymblog?uid=1433680664&page=2&feature=0"
                        "&since_id=4070389468396025kp2")
    assert more.headers["Cookie"] == "SUB=x"
    last = harvester.parse(more, 200, {}, b'{"ok":1,"data":{"list":[],"since_id":""}}', CAPTURED)
    assert last.end_of_listing and not last.posts


def test_desktop_long_texts_plain_and_markdown():
    harvester = WeiboHarvester("desktop")
    [post] = parse("weibo_com_ajax_statuses_longtext_url_struct.json",
                   "https://weibo.com/ajax/statuses/longtext?id=Etx9ozebL", harvester).posts
    assert post.post_id == "4070389468396025"  # from the bid in the URL
    assert post.text.startswith("中国再发野生动物园老虎伤人事件")
    assert post.extras["links"] == [{"short_url": "http://t.cn/RxlaENw",
                                     "long_url": "http://go.huanqiu.com/africa/2008-10/261943.html"}]
    [markdown] = parse("weibo_com_ajax_statuses_longtext_isMarkdown_true.json",
                       "https://weibo.com/ajax/statuses/longtext?id=4070389468396025",
                       harvester).posts
    assert markdown.extras["is_markdown"]
    assert markdown.text.startswith("# 3天做个浏览器插件，月入几万美金")
    assert "<br />" in markdown.text_html and "\n## 起点" in markdown.text


def test_deleted_original_of_a_repost():
    # SYNTHETIC: retweeted_status with user null, as Weibo sends for a deleted original.
    body = {"ok": 1, "data": {"id": "4070389468396025", "created_at": "昨天 12:00",
                              "text": "转发", "user": {"id": 1, "screen_name": "a"},
                              "retweeted_status": {"id": "4070364252396369", "user": None,
                                                   "text": "抱歉，此微博已被作者删除。",
                                                   "created_at": "06-14"}}}
    [post] = parse_body(body, "https://m.weibo.cn/statuses/show?id=Etx9ozebL").posts
    assert post.published_at.isoformat() == "2021-06-16T12:00:00+08:00"
    assert post.repost.status == "deleted" and "deleted" in post.repost_note
    assert post.repost.published_at.isoformat() == "2021-06-14T00:00:00+08:00"


# SYNTHETIC answers below follow PLATFORM-NOTES 2.1 "Errors and limits".

@pytest.mark.parametrize("status", [418, 432])
def test_throttling_status_codes(status):
    result = parse_body(b"", "https://m.weibo.cn/api/container/getIndex?containerid=1", status)
    assert isinstance(result.problem, RateLimited) and str(status) in result.problem.reason


def test_ok_minus_100_is_a_captcha_without_cookies_and_expired_cookies_with():
    wall = {"ok": -100, "errno": "-100", "url": "https://m.weibo.cn/api/geetest?testType=1"}
    harvester = WeiboHarvester()
    visitor = harvester.start_requests("6279793937")[0]
    result = harvester.parse(visitor, 200, {}, json.dumps(wall).encode(), CAPTURED)
    assert isinstance(result.problem, CaptchaRequired)
    logged_in = harvester.start_requests("6279793937", {"cookie": "SUB=x"})[0]
    result = harvester.parse(logged_in, 200, {}, json.dumps(wall).encode(), CAPTURED)
    assert isinstance(result.problem, LoginExpired)
    assert "credentials file" in result.problem.advice


def test_statuses_show_error_marks_the_post_deleted():
    harvester = WeiboHarvester()
    request = harvester.recheck_request("4645748019299849", "6279793937")
    assert request.url == "https://m.weibo.cn/statuses/show?id=Kjc77D1jz"
    body = json.dumps({"ok": 0, "msg": "该微博已被删除"}).encode()
    result = harvester.parse(request, 200, {}, body, CAPTURED)
    assert isinstance(result.problem, Unavailable) and result.problem.status == "deleted"
    assert result.posts[0].post_id == "4645748019299849" and result.posts[0].status == "deleted"
    hidden = harvester.parse(request, 200, {}, '{"ok":0,"msg":"暂无查看权限"}'.encode(), CAPTURED)
    assert hidden.problem.status == "blocked"


def test_profile_showing_nothing_is_unavailable():
    result = parse("mweibo_getIndex_error_ok0_empty.json",
                   "https://m.weibo.cn/api/container/getIndex?containerid=1005051")
    assert isinstance(result.problem, Unavailable) and "这里还没有内容" in result.problem.reason


def test_desktop_login_page_means_the_cookie_expired():
    harvester = WeiboHarvester("desktop")
    request = harvester.start_requests("1959830294", {"cookie": "SUB=x"})[0]
    page = b"<html><script>location.replace('https://passport.weibo.com/visitor')</script></html>"
    assert isinstance(harvester.parse(request, 200, {}, page, CAPTURED).problem, LoginExpired)


@pytest.mark.parametrize("body, message", [
    (b'{"ok": 1, "data": {"cards"', "cut off"),
    (b"<html><body>hello</body></html>", "neither Weibo JSON"),
    (b'{"ok": 1, "data": {"something": 1}}', "none of the shapes"),
])
def test_unreadable_answers_say_what_was_expected(body, message):
    with pytest.raises(HarvestError, match=message):
        parse_body(body, "https://m.weibo.cn/api/container/getIndex?containerid=1076031")
