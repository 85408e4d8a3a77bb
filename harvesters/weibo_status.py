"""Weibo status objects (``mblog``), users and comments, as records (m.weibo.cn and weibo.com)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from harvesters.base62 import mid_to_bid
from harvesters.dates import DateError, parse_weibo_date
from harvesters.errors import HarvestError
from harvesters.records import AccountInfo, Comment, Media, Post
from harvesters.text import html_to_text, parse_count

# The "read more" link m.weibo.cn appends to a truncated long text.
_TRUNCATED = re.compile(r">\s*全文\s*</a>\s*$")
_PIC_SIZES = ("largest", "mw2000", "original", "large", "bmiddle", "thumbnail")
_VIDEO_KEYS = ("mp4_720p_mp4", "mp4_hd_mp4", "mp4_ld_mp4")
_MEDIA_VIDEO_KEYS = ("mp4_720p_mp4", "mp4_hd_url", "stream_url_hd", "mp4_sd_url", "stream_url")
_SIZE_IN_URL = re.compile(r"/(?:mw\d+|bmiddle|thumb\d+|thumbnail|orj\d+|wap\d+|woriginal|large)/")
_TEMPLATE = re.compile(r"template=(\d+)x(\d+)")
DELETED_ORIGINAL = "the reposted original was deleted or hidden by its author"


def status_to_post(mblog: dict[str, Any], captured_at: dt.datetime, *,
                   pinned: bool = False, account_id: str = "") -> Post:
    """Everything the status object says; ``long_text_complete`` is False when it is cut short."""
    if not isinstance(mblog, dict) or not (mblog.get("id") or mblog.get("mid")):
        raise HarvestError("this Weibo answer holds no post (no status object with an id)")
    post_id = str(mblog.get("idstr") or mblog.get("mid") or mblog.get("id"))
    if not post_id.isdigit():
        raise HarvestError(f"a Weibo post has the id {post_id[:40]!r}, which is not a number")
    bid = str(mblog.get("bid") or mblog.get("mblogid") or mid_to_bid(post_id))
    user = mblog.get("user") or {}
    uid = str(user.get("idstr") or user.get("id") or account_id or "")
    text_html = str(mblog.get("text") or "")
    created = mblog.get("created_at")
    edit_count = int(mblog.get("edit_count") or 0)
    edit_at = mblog.get("edit_at")
    title: dict[str, Any] = mblog["title"] if isinstance(mblog.get("title"), dict) else {}
    post = Post(
        platform="weibo",
        account_id=uid,
        account_name=str(user.get("screen_name") or ""),
        post_id=post_id,
        platform_ids={"mid": str(mblog.get("mid") or post_id), "bid": bid},
        url=f"https://weibo.com/{uid}/{bid}" if uid else f"https://m.weibo.cn/detail/{post_id}",
        published_at=_date(created, captured_at),
        text_html=text_html,
        text=_plain_text(mblog, text_html),
        long_text_complete=not is_truncated(mblog),
        media=status_media(mblog),
        counts=_counts(mblog),
        edited=edit_count > 0 or bool((mblog.get("edit_config") or {}).get("edited")),
        edit_count=edit_count,
        edited_at=_date(edit_at, captured_at),
        location=_location(mblog),
        source=html_to_text(str(mblog.get("source") or "")),
        pinned=pinned or is_pinned(mblog),
        captured_at=captured_at,
        extras=_extras(mblog, title),
    )
    if "user" in mblog and not user:  # Weibo blanks the author of a deleted post
        post.status = "deleted"
    original = mblog.get("retweeted_status")
    if isinstance(original, dict):
        post.repost = status_to_post(original, captured_at)
        if not original.get("user") or original.get("deleted"):
            post.repost.status = "deleted"
            post.repost_note = DELETED_ORIGINAL
    return post


def is_pinned(mblog: dict[str, Any]) -> bool:
    title = mblog.get("title") if isinstance(mblog.get("title"), dict) else {}
    return (str(mblog.get("isTop") or "0") not in ("0", "False", "false")
            or mblog.get("mblogtype") == 2 or (title or {}).get("text") == "置顶")


def is_truncated(mblog: dict[str, Any]) -> bool:
    if not mblog.get("isLongText"):
        return False
    if mblog.get("continue_tag"):
        return True
    return bool(_TRUNCATED.search(str(mblog.get("text") or "")))


def _date(value: Any, captured_at: dt.datetime) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parse_weibo_date(str(value), captured_at)
    except DateError as exc:
        raise HarvestError(f"a Weibo post has an unreadable date: {exc}") from None


def _plain_text(mblog: dict[str, Any], text_html: str) -> str:
    raw = mblog.get("text_raw")
    if isinstance(raw, str) and raw and not is_truncated(mblog):
        return raw.strip()
    return html_to_text(text_html)


def _counts(mblog: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for key, name in (("reposts_count", "reposts"), ("comments_count", "comments"),
                      ("attitudes_count", "likes")):
        value = parse_count(mblog.get(key))
        if value is not None:
            counts[name] = value
    return counts


def _location(mblog: dict[str, Any]) -> str:
    region = str(mblog.get("region_name") or "").strip()
    return region.removeprefix("发布于").strip()


def _extras(mblog: dict[str, Any], title: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for key in ("status_title", "textLength", "pic_num", "mblogtype", "isLongText"):
        if mblog.get(key) not in (None, ""):
            extras[key] = mblog[key]
    if title.get("text"):
        extras["label"] = title["text"]
    page_info = mblog.get("page_info")
    if isinstance(page_info, dict) and page_info.get("type"):
        extras["page_type"] = page_info["type"]
    return extras


def status_media(mblog: dict[str, Any]) -> list[Media]:
    """Pictures at the largest size, videos at the best stream, live photos, covers."""
    media: list[Media] = []
    media += _mobile_pics(mblog.get("pics"))
    media += _desktop_pics(mblog.get("pic_ids") or [], mblog.get("pic_infos") or {})
    for item in (mblog.get("mix_media_info") or {}).get("items") or []:
        data = item.get("data") or {}
        if item.get("type") == "pic":
            pid = str(item.get("id") or data.get("pic_id") or "")
            media += _desktop_pics([pid], {pid: data})
        elif item.get("type") == "video":
            media += _page_media(data)
    for url in mblog.get("live_photo") or []:
        media.append(Media(kind="live_photo", url=str(url), id=_tail_id(str(url))))
    page_info = mblog.get("page_info")
    if isinstance(page_info, dict):
        media += _page_media(page_info)
    return media


def _mobile_pics(pics: Any) -> list[Media]:
    if isinstance(pics, dict):  # sometimes an object with keys "0", "1"...
        pics = [pics[k] for k in sorted(pics, key=lambda k: int(k) if k.isdigit() else 0)]
    found = []
    for pic in pics or []:
        if not isinstance(pic, dict):
            continue
        large = pic.get("large") or {}
        small = str(pic.get("url") or "")
        url = str(large.get("url") or _SIZE_IN_URL.sub("/large/", small, count=1))
        geo = large.get("geo") or pic.get("geo") or {}
        pid = str(pic.get("pid") or _tail_id(url))
        found.append(Media(kind="picture", url=url, width=_int(geo.get("width")),
                           height=_int(geo.get("height")),
                           alternatives=[u for u in (small,) if u and u != url], id=pid))
        if pic.get("videoSrc"):
            kind = "video" if pic.get("type") == "video" else "live_photo"
            found.append(Media(kind=kind, url=str(pic["videoSrc"]), id=f"{pid}:{kind}"))
    return found


def _desktop_pics(pic_ids: list[Any], pic_infos: dict[str, Any]) -> list[Media]:
    found = []
    for pid in [p for p in pic_ids if p] or list(pic_infos):
        info = pic_infos.get(pid)
        if not isinstance(info, dict):
            continue
        sizes = [info[s] for s in _PIC_SIZES
                 if isinstance(info.get(s), dict) and info[s].get("url")]
        if not sizes:
            continue
        best = sizes[0]
        others = []
        for size in sizes[1:]:
            if size["url"] != best["url"] and size["url"] not in others:
                others.append(size["url"])
        found.append(Media(kind="picture", url=best["url"], width=_int(best.get("width")),
                           height=_int(best.get("height")), alternatives=others, id=str(pid)))
        video = info.get("video")
        if info.get("type") == "livephoto" and video:
            found.append(Media(kind="live_photo", url=str(video), id=f"{pid}:live_photo"))
    return found


def _page_media(page_info: dict[str, Any]) -> list[Media]:
    kind = page_info.get("type") or page_info.get("object_type")
    found = []
    if kind == "video" or page_info.get("media_info") or page_info.get("urls"):
        urls = page_info.get("urls") or {}
        info = page_info.get("media_info") or {}
        candidates = [urls.get(k) for k in _VIDEO_KEYS] + [info.get(k) for k in _MEDIA_VIDEO_KEYS]
        streams = []
        for url in candidates:
            if url and url not in streams:
                streams.append(str(url))
        if streams:
            size = _TEMPLATE.search(streams[0])
            found.append(Media(
                kind="video", url=streams[0], alternatives=streams[1:],
                width=int(size[1]) if size else None, height=int(size[2]) if size else None,
                duration=_float(info.get("duration")),
                id=str(page_info.get("object_id") or info.get("media_id") or _tail_id(streams[0])),
            ))
        pic = page_info.get("page_pic") or {}
        if isinstance(pic, dict) and pic.get("url"):
            found.append(Media(kind="cover", url=str(pic["url"]), width=_int(pic.get("width")),
                               height=_int(pic.get("height")),
                               id=str(pic.get("pid") or _tail_id(str(pic["url"])))))
    elif kind == "article" and page_info.get("page_url"):
        found.append(Media(kind="embed", url=str(page_info["page_url"]),
                           id=str(page_info.get("object_id") or page_info["page_url"])))
    return found


def long_text_html(content: str, is_markdown: bool) -> str:
    """Markdown long posts come as source text; keep their lines when shown as HTML."""
    return html.escape(content).replace("\n", "<br />") if is_markdown else content


def _tail_id(url: str) -> str:
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1].split(".")[0]


def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def status_account(user: dict[str, Any]) -> AccountInfo:
    return AccountInfo(
        platform="weibo", account_id=str(user.get("idstr") or user.get("id") or ""),
        name=str(user.get("screen_name") or ""),
        reported_total=parse_count(user.get("statuses_count")),
        followers=parse_count(user.get("followers_count")),
        verified=bool(user.get("verified")),
        verified_reason=str(user.get("verified_reason") or "").strip(),
        description=str(user.get("description") or ""),
        extras={k: user[k] for k in ("verified_type", "followers_count_str", "location", "gender",
                                     "follow_count", "friends_count", "avatar_hd")
                if user.get(k) not in (None, "")},
    )


def status_comment(item: dict[str, Any], post_id: str, captured_at: dt.datetime) -> Comment:
    user = item.get("user") or {}
    try:
        published = parse_weibo_date(str(item["created_at"]), captured_at) \
            if item.get("created_at") else None
    except DateError:
        published = None
    text_html = str(item.get("text") or "")
    return Comment(
        platform="weibo", post_id=post_id, comment_id=str(item.get("idstr") or item.get("id")),
        author_id=str(user.get("id") or ""), author_name=str(user.get("screen_name") or ""),
        text_html=text_html, text=html_to_text(text_html), published_at=published,
        likes=parse_count(item.get("like_count", item.get("like_counts"))),
        reply_count=parse_count(item.get("total_number")),
        replies=[status_comment(r, post_id, captured_at) for r in item.get("comments") or []
                 if isinstance(r, dict)],
    )


