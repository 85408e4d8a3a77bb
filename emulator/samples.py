"""The recorded real responses in emulator/data, by what they are (see data/PROVENANCE.md)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# The 明日方舟 account whose m.weibo.cn responses were recorded in 2021.
ARKNIGHTS_UID = 6279793937
TIMELINE_PAGE1 = "weibo/mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json"
TIMELINE_NEWPOST = "weibo/mweibo_getIndex_timeline_107603_arknights_page2_newpost.json"
PROFILE_100505 = "weibo/mweibo_getIndex_profile_100505_userInfo_tabs.json"
# getIndex?type=uid&value=1669879400, recorded in 2019.
TYPE_UID_2019_UID = 1669879400
TYPE_UID_2019 = "weibo/mweibo_getIndex_type_uid_userInfo_tabsInfo_2019.json"
EMPTY_LISTING = "weibo/mweibo_getIndex_error_ok0_empty.json"
EXTEND = {
    "4645748019299849": "weibo/mweibo_statuses_extend_longTextContent_4645748019299849.json",
    "4649031014551911":
        "weibo/mweibo_statuses_extend_longTextContent_with_counts_4649031014551911.json",
    "4383487819465288": "weibo/mweibo_statuses_extend_emoji_only_2019.json",
}
SHOW = {"4645748019299849": "weibo/mweibo_statuses_show_video_edited_longtext_4645748019299849.json"}
DETAIL = {
    "4645748019299849": "weibo/mweibo_detail_page_render_data_4645748019299849.html",
    "4649031014551911": "weibo/mweibo_detail_page_render_data_4649031014551911.html",
}
HOTFLOW = "weibo/mweibo_comments_hotflow_max_id_2019.json"
PROFILE_INFO_UID = 1959830294
PROFILE_INFO = "weibo/weibo_com_ajax_profile_info_user_tabList.json"
LONGTEXT_TEMPLATE = "weibo/weibo_com_ajax_statuses_longtext_url_struct.json"
# One item of an ajax/statuses/searchProfile answer, same item shape as mymblog.
DESKTOP_ITEM = "weibo/weibo_com_ajax_statuses_searchProfile_list0_retweet_pic_infos_EXCERPT.json"

ARTICLE_2022 = "wechat/mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html"
ARTICLE_2018_NEWS = "wechat/mp_article_2018_background_image_news.html"
ARTICLE_2018_MUSIC = "wechat/mp_article_2018_qqmusic_embed.html"
EXPIRED_PAGE = "wechat/mp_article_link_expired_sogou_temp_url.html"
APPMSG_ITEMS = "wechat/mp_cgi_appmsg_list_ex_app_msg_list_items_2020.jsonl"


@functools.cache
def raw(name: str) -> bytes:
    """The sample's bytes, exactly as recorded."""
    return (DATA / name).read_bytes()


def text(name: str) -> str:
    return raw(name).decode("utf-8")


def load(name: str) -> Any:
    return json.loads(raw(name))


def lines(name: str) -> list[bytes]:
    """The non-empty lines of a .jsonl sample, each one item exactly as recorded."""
    return [line for line in raw(name).splitlines() if line.strip()]
