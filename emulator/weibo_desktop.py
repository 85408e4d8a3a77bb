"""weibo.com ajax shapes, derived from a post's mobile shape using the recorded desktop item.

There is no recorded `mymblog` answer; its items have the `searchProfile` item shape
(PLATFORM-NOTES 2.2), so the recorded searchProfile item is the template, field by field.
"""

from __future__ import annotations

import copy
import functools
import html
import re
from typing import Any

from emulator import samples

_TAG = re.compile(r"<[^>]+>")


def plain_text(markup: str) -> str:
    """weibo.com's `text_raw` / `longTextContent`: line breaks kept, tags dropped."""
    return html.unescape(_TAG.sub("", markup.replace("<br />", "\n").replace("<br/>", "\n")))


@functools.cache
def _templates() -> tuple[dict[str, Any], dict[str, Any]]:
    item = samples.load(samples.DESKTOP_ITEM)
    original = item["retweeted_status"]
    template = {k: v for k, v in item.items() if k != "retweeted_status"}
    pic = original["pic_infos"][original["pic_ids"][0]]
    return template, pic


def recorded_item_id() -> str:
    return str(samples.load(samples.DESKTOP_ITEM)["mblogid"])


def desktop_user(user: dict[str, Any]) -> dict[str, Any]:
    template, _ = _templates()
    out = copy.deepcopy(template["user"])
    uid = int(user["id"])
    out.update({
        "id": uid, "idstr": str(uid), "screen_name": user.get("screen_name", ""),
        "profile_url": f"/u/{uid}", "profile_image_url": user.get("profile_image_url", ""),
        "avatar_large": user.get("profile_image_url", ""), "avatar_hd": user.get("avatar_hd", ""),
        "verified": user.get("verified", False), "verified_type": user.get("verified_type", -1),
        "domain": "", "weihao": "",
    })
    return out


def _pic_info(pid: str, large_url: str) -> dict[str, Any]:
    _, template = _templates()
    host = large_url.split("/")[2]
    info = copy.deepcopy(template)
    old_pid = template["pic_id"]
    for value in info.values():
        if isinstance(value, dict) and "url" in value:
            size = value["url"].split("/")[3]
            value["url"] = f"https://{host}/{size}/{pid}.jpg"
    info["pic_id"] = pid
    info["object_id"] = info["object_id"].replace(old_pid, pid)
    return info


def desktop_status(mblog: dict[str, Any]) -> dict[str, Any]:
    """The weibo.com status object for a mobile `mblog`."""
    template, _ = _templates()
    out = copy.deepcopy(template)
    out.pop("analysis_extra", None)
    pics = mblog.get("pics") or []
    out.update({
        "created_at": mblog["created_at"], "id": int(mblog["id"]), "idstr": str(mblog["id"]),
        "mid": str(mblog["mid"]), "mblogid": mblog.get("bid", ""),
        "user": desktop_user(mblog["user"]) if mblog.get("user") else None,
        "source": mblog.get("source", ""), "text": mblog["text"],
        "text_raw": plain_text(mblog["text"]), "textLength": mblog.get("textLength", 0),
        "pic_ids": [p["pid"] for p in pics], "pic_num": mblog.get("pic_num", len(pics)),
        "reposts_count": mblog.get("reposts_count", 0),
        "comments_count": mblog.get("comments_count", 0),
        "attitudes_count": mblog.get("attitudes_count", 0),
        "isLongText": bool(mblog.get("isLongText")), "mblogtype": mblog.get("mblogtype", 0),
        "region_name": "发布于 陕西",
    })
    if pics:
        out["pic_infos"] = {p["pid"]: _pic_info(p["pid"], p["large"]["url"]) for p in pics}
    for key in ("edit_count", "edit_at", "page_info", "isTop", "title"):
        if key in mblog:
            out[key] = mblog[key]
    if mblog.get("isLongText"):
        out["continue_tag"] = {
            "title": "展开",
            "pic": "http://h5.sinaimg.cn/upload/2015/09/25/3/timeline_card_small_article.png",
            "scheme": f"sinaweibo://detail?mblogid={mblog['id']}", "cleaned": True}
        out["text_raw"] = plain_text(mblog["text"]).replace("...全文", "...")
    if mblog.get("retweeted_status"):
        out["retweeted_status"] = desktop_status(mblog["retweeted_status"])
        out["analysis_extra"] = f"mblog_rt_mid:{mblog['retweeted_status']['id']}"
    return out


def longtext_body(long_text: str | None) -> dict[str, Any]:
    """`ajax/statuses/longtext`: the recorded answer's keys; empty data for short posts."""
    if long_text is None:
        return {"ok": 1, "data": {}}
    text = plain_text(long_text)
    return {"ok": 1, "data": {"longTextContent": text, "url_struct": [], "isMarkdown": False,
                              "longTextContent_raw": text}}


def profile_info(user: dict[str, Any]) -> dict[str, Any]:
    """`ajax/profile/info` for a generated account, from the recorded answer."""
    body = samples.load(samples.PROFILE_INFO)
    out = body["data"]["user"]
    desktop = desktop_user(user)
    for key in ("id", "idstr", "screen_name", "profile_url", "profile_image_url", "avatar_large",
                "avatar_hd", "verified", "verified_type", "domain", "weihao"):
        out[key] = desktop[key]
    out.update({"description": user.get("description", ""),
                "verified_reason": user.get("verified_reason", ""),
                "followers_count": user.get("followers_count", 0),
                "followers_count_str": str(user.get("followers_count", 0)),
                "friends_count": user.get("follow_count", 0),
                "statuses_count": user.get("statuses_count", 0), "location": "陕西 榆林"})
    return dict(body)
