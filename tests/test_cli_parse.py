"""`weidang parse` on real samples: JSON lines out, exit 0; one sentence and exit 1 otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from weidang.cli import main

DATA = Path(__file__).resolve().parent.parent / "emulator" / "data"


def run(capsys, *args):
    code = main(["parse", *args])
    out, err = capsys.readouterr()
    return code, out, err


def lines(out):
    return [json.loads(line) for line in out.splitlines()]


def test_weibo_timeline_prints_one_post_per_line(capsys, home):
    sample = DATA / "weibo" / "mweibo_getIndex_timeline_107603_arknights_pics_video_retweet_longtext.json"
    code, out, err = run(capsys, "weibo", str(sample), "--captured-at", "2021-06-17T16:30:00")
    assert code == 0 and err == ""
    records = lines(out)
    assert len(records) == 10
    first = records[0]
    for key in ("platform", "account_id", "post_id", "url", "published_at", "title", "text",
                "media", "repost", "pinned", "edited", "counts"):
        assert key in first
    assert first["published_at"] == "2021-06-08T09:35:04+08:00"
    assert first["pinned"] and first["edited"] and first["url"].endswith("/Kjc77D1jz")
    assert first["media"][0].startswith("https://f.video.weibocdn.com/004gx4yOgx07Ni70wB16")
    assert records[2]["repost"]["post_id"] == "4645748019299849"
    assert records[2]["repost"]["repost"] is None


def test_long_text_needs_url_for_its_id(capsys, home):
    sample = DATA / "weibo" / "mweibo_statuses_extend_longTextContent_4645748019299849.json"
    code, out, err = run(capsys, "weibo", str(sample))
    assert code == 1 and out == ""
    assert err.startswith("Error: The file ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "weibo", str(sample), "--url",
                       "https://m.weibo.cn/statuses/extend?id=4645748019299849")
    assert code == 0 and lines(out)[0]["post_id"] == "4645748019299849"


def test_relative_dates_default_to_the_file_time(capsys, home, tmp_path):
    # SYNTHETIC: a status written with a relative date, saved at a known time.
    saved = tmp_path / "show.json"
    saved.write_text(json.dumps({"ok": 1, "data": {
        "id": "4645748019299849", "created_at": "5分钟前", "text": "x",
        "user": {"id": 6279793937, "screen_name": "明日方舟Arknights"}}}), encoding="utf-8")
    stamp = 1623918600  # 2021-06-17T16:30:00+08:00
    os.utime(saved, (stamp, stamp))
    code, out, _ = run(capsys, "weibo", str(saved))
    assert code == 0 and lines(out)[0]["published_at"] == "2021-06-17T16:25:00+08:00"
    code, out, _ = run(capsys, "weibo", str(saved), "--captured-at", "2021-06-18T00:00:00+08:00")
    assert lines(out)[0]["published_at"] == "2021-06-17T23:55:00+08:00"


def test_wechat_article_and_listing_lines(capsys, home):
    article = DATA / "wechat" / "mp_article_2022_raw_server_html_county_gov_media_zhangshangsuide_idx8.html"
    code, out, _ = run(capsys, "wechat", str(article))
    [post] = lines(out)
    assert code == 0 and post["title"] == "绥德：33名退役军人被表彰"
    assert post["published_at"] == "2022-07-31T21:34:31+08:00" and post["repost"] is None
    listing = DATA / "wechat" / "mp_cgi_appmsg_list_ex_app_msg_list_items_2020.jsonl"
    code, out, _ = run(capsys, "wechat", str(listing))
    assert code == 0 and len(lines(out)) == 26


def test_weibo_profile_prints_the_account(capsys, home):
    sample = DATA / "weibo" / "mweibo_getIndex_profile_100505_userInfo_tabs.json"
    code, out, _ = run(capsys, "weibo", str(sample))
    [account] = lines(out)
    assert code == 0 and account["record"] == "account" and account["followers"] == 1455000


@pytest.mark.parametrize("platform, name, words", [
    ("wechat", "wechat/sogou_weixin_search_article_results.html", "Sogou WeChat article search"),
    ("wechat", "wechat/mp_article_link_expired_sogou_temp_url.html", "链接已过期"),
    ("weibo", "wechat/mp_article_2018_qqmusic_embed.html", "neither Weibo JSON"),
    ("wechat", "weibo/mweibo_getIndex_profile_100505_userInfo_tabs.json", "none of the shapes"),
    ("weibo", "no/such/file.json", "Cannot read"),
])
def test_files_it_cannot_read_fail_with_one_sentence(capsys, home, platform, name, words):
    code, out, err = run(capsys, platform, str(DATA / name))
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_capture_time_is_a_usage_error(capsys, home):
    sample = DATA / "weibo" / "mweibo_getIndex_error_ok0_empty.json"
    code, _, err = run(capsys, "weibo", str(sample), "--captured-at", "yesterday")
    assert code == 2 and "--captured-at" in err
