"""A WeChat article page (``mp.weixin.qq.com/s...``) as a ``Post``, or the reason it is gone.

The server sends the metadata as inline JavaScript variables (``var ct = "1659274471";``) and
the body in ``#js_content`` with lazy images in ``data-src``; browser-saved copies have the same
variables, so both parse alike. Unavailable articles come as a ``weui-msg`` page whose title
says why (deleted by the author, blocked for a violation, link expired...).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from parsel import Selector

from harvesters.dates import SHANGHAI, from_unix
from harvesters.errors import CaptchaRequired, HarvestProblem, RateLimited, Unavailable
from harvesters.records import Media, Post
from harvesters.text import html_to_text

ARTICLE_HOST = "mp.weixin.qq.com"
# Only lines that start with the declaration: commented-out ones (``// var msg_link``) are skipped.
_VAR = re.compile(r"^[ \t]*(?:var|let|const)\s+(\w+)\s*=\s*(.+)$", re.M)
_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
_JS_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)")
_BACKGROUND = re.compile(r"background(?:-image)?\s*:[^;\"]*url\(\s*(?:&quot;|[\"'])?([^)\"'&]+?)"
                         r"(?:&quot;|[\"'])?\s*\)")
_VIDEO_INFOS = re.compile(r"videoPageInfos\s*=\s*\[(.*?)\]\s*;", re.S)
_TRANS = re.compile(r"url\s*:\s*['\"]([^'\"]+)['\"][^{}]*?width\s*:\s*['\"]?(\d+)['\"]?"
                    r"[^{}]*?height\s*:\s*['\"]?(\d+)['\"]?", re.S)
_VIDEO_ID = re.compile(r"video_id\s*:\s*['\"]([^'\"]+)['\"]")
# What the weui-msg page says, and what that means for the post; first match wins.
UNAVAILABLE_TEXTS = (
    ("已被发布者删除", "deleted"), ("deleted by the author", "deleted"),
    ("链接已过期", "expired"), ("已过期", "expired"),
    ("违规", "blocked"), ("侵权", "blocked"), ("投诉", "blocked"), ("屏蔽", "blocked"),
    ("注销", "blocked"), ("迁移", "moved"), ("暂时无法查看", "unavailable"),
)
_THROTTLE_TEXTS = ("访问过于频繁", "环境异常", "完成验证")


def is_article_page(page: Selector) -> bool:
    return bool(page.css("#js_content, #js_article") or page.css(".weui-msg, .mesg-block"))


def parse_article(text: str, url: str, captured_at: dt.datetime,
                  listing: Post | None = None) -> tuple[Post | None, HarvestProblem | None]:
    """The post on the page (merged with what the listing knew), or the problem it shows."""
    page = Selector(text=text)
    if not page.css("#js_content"):
        return _unavailable_post(page, url, captured_at, listing)
    js = js_variables(text)
    ids = _ids(js, page, url)
    biz, mid, idx, sn = (ids.get(k, "") for k in ("__biz", "mid", "idx", "sn"))
    body = page.css("#js_content")[0]
    text_html = body.get()
    published = _published(js)
    name = js.get("nickname") or _text(page.css("#js_name ::text").getall())
    title = (js.get("msg_title") or page.css('meta[property="og:title"]::attr(content)').get("")
             or _text(page.css("#activity-name ::text").getall())
             or _text(page.css("title::text").getall()))
    extras: dict[str, Any] = {}
    for key, var in (("user_name", "user_name"), ("digest", "msg_desc"),
                     ("source_url", "msg_source_url"), ("author", "author"),
                     ("item_show_type", "item_show_type")):
        if js.get(var):
            extras[key] = js[var]
    author = page.css('meta[name="author"]::attr(content)').get("") or _text(
        page.css("#js_author_name ::text").getall())
    if author and "author" not in extras:
        extras["author"] = author
    copyright_stat = js.get("_copyright_stat") or js.get("copyright_stat")
    if copyright_stat or page.css("#copyright_logo"):
        extras["original"] = copyright_stat == "1" or bool(page.css("#copyright_logo"))
    post = Post(
        platform="wechat", account_id=biz or (listing.account_id if listing else ""),
        account_name=html.unescape(name.strip()),
        post_id=f"{mid}_{idx}" if mid else (listing.post_id if listing else ""),
        platform_ids={k: v for k, v in ids.items() if v},
        url=canonical_url(biz, mid, idx, sn) if sn else _fallback_url(url, page, ids),
        published_at=published, title=html.unescape(title.strip()),
        text_html=text_html, text=html_to_text(text_html), long_text_complete=True,
        media=article_media(body, js, text), captured_at=captured_at, extras=extras,
    )
    if listing is not None:
        post = _merge_listing(post, listing)
    return post, None


def js_variables(text: str) -> dict[str, str]:
    """``var name = "" || "value";`` lines: the first non-empty string literal of each name."""
    found: dict[str, str] = {}
    for match in _VAR.finditer(text):
        name, expression = match[1], match[2]
        if found.get(name):
            continue
        for literal in _STRING.finditer(expression):
            value = literal[1] if literal[1] is not None else literal[2]
            if value:
                found[name] = html.unescape(_unescape_js(value))
                break
        else:
            found.setdefault(name, "")
    return found


def canonical_url(biz: str, mid: str, idx: str, sn: str) -> str:
    return f"https://{ARTICLE_HOST}/s?__biz={biz}&mid={mid}&idx={idx}&sn={sn}"


def ids_from_link(link: str) -> dict[str, str]:
    """``__biz``, ``mid``, ``idx``, ``sn`` of an article link (``&amp;`` and ``\\/`` tolerated)."""
    clean = html.unescape(link.replace("\\/", "/"))
    query = parse_qs(urlsplit(clean).query)
    return {k: query[k][0] for k in ("__biz", "mid", "idx", "sn") if query.get(k)}


def canonical_link(link: str) -> str:
    """The permanent form of an article link: no tracking parameters, https."""
    ids = ids_from_link(link)
    if all(ids.get(k) for k in ("__biz", "mid", "idx", "sn")):
        return canonical_url(ids["__biz"], ids["mid"], ids["idx"], ids["sn"])
    clean = html.unescape(link.replace("\\/", "/")).split("#")[0]
    return "https://" + clean.removeprefix("http://") if clean.startswith("http://") else clean


def article_media(body: Selector, js: dict[str, str], text: str) -> list[Media]:
    """Images (data-src), background images, videos, audio and embeds of the body, and cover."""
    media: list[Media] = []
    seen: set[str] = set()

    def add(item: Media) -> None:
        if item.url and item.url not in seen:
            seen.add(item.url)
            media.append(item)

    for img in body.css("img"):
        src = img.attrib.get("data-src") or img.attrib.get("src") or ""
        if not src.startswith(("http://", "https://", "//")):
            continue
        src = "https:" + src if src.startswith("//") else src
        alternatives = [s for s in (img.attrib.get("src"),) if s and s.startswith("http")
                        and s != src]
        add(Media(kind="picture", url=src, width=_int(img.attrib.get("data-w")),
                  alternatives=alternatives, id=image_id(src)))
    for style in body.css("[style]::attr(style)").getall():
        for url in _BACKGROUND.findall(style):
            if url.startswith("http"):
                add(Media(kind="picture", url=html.unescape(url), id=image_id(url)))
    for item in _videos(text):
        add(item)
    for frame in body.css("iframe, .video_iframe, mpvideo"):
        vid_url = frame.attrib.get("data-src") or frame.attrib.get("src") or ""
        mpvid = frame.attrib.get("data-mpvid", "")
        if "v.qq.com" in vid_url or mpvid:
            ident = mpvid or (parse_qs(urlsplit(vid_url).query).get("vid") or [vid_url])[0]
            if not any(m.id == ident for m in media):
                add(Media(kind="embed" if vid_url else "video", url=html.unescape(vid_url) or
                          f"https://{ARTICLE_HOST}/mp/videoplayer?vid={mpvid}", id=ident))
    for voice in body.css("mpvoice, mp-common-mpaudio"):
        file_id = voice.attrib.get("voice_encode_fileid", "")
        if file_id:
            length = _int(voice.attrib.get("play_length"))
            add(Media(kind="audio", url=f"https://res.wx.qq.com/voice/getvoice?mediaid={file_id}",
                      duration=length / 1000 if length else None, id=file_id))
    for music in body.css("qqmusic"):
        if music.attrib.get("audiourl"):
            add(Media(kind="audio", url=music.attrib["audiourl"],
                      duration=_int(music.attrib.get("play_length")),
                      id=music.attrib.get("mid") or music.attrib.get("musicid", "")))
    if js.get("msg_cdn_url"):
        cover = js["msg_cdn_url"]
        add(Media(kind="cover", url=cover, id=image_id(cover)))
    return media


def image_id(url: str) -> str:
    """The stable part of an mmbiz image URL (the path; the query only picks format and size)."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def _videos(text: str) -> list[Media]:
    found = []
    for block in _VIDEO_INFOS.findall(text):
        for entry in re.split(r"(?=video_id\s*:)", block):
            vid = _VIDEO_ID.search(entry)
            streams = sorted(((int(w), int(h), html.unescape(u)) for u, w, h in _TRANS.findall(entry)),
                             reverse=True)
            if vid and streams:
                width, height, url = streams[0]
                found.append(Media(kind="video", url=url, width=width, height=height,
                                   alternatives=[s[2] for s in streams[1:]], id=vid[1]))
    return found


def _unavailable_post(page: Selector, url: str, captured_at: dt.datetime,
                      listing: Post | None) -> tuple[Post | None, HarvestProblem | None]:
    said = _text(page.css(".weui-msg__title ::text, .mesg-block p ::text").getall()) or _text(
        page.css("title::text").getall())
    detail = _text(page.css(".weui-msg__desc ::text").getall())
    if any(t in said + detail for t in _THROTTLE_TEXTS):
        kind = CaptchaRequired if "验证" in said + detail else RateLimited
        return None, kind(f"WeChat says: {said or detail}", url=url)
    state = next((s for wording, s in UNAVAILABLE_TEXTS if wording in said + detail), "")
    if not state:
        return None, None
    reason = f"WeChat shows {said!r} instead of the article" + (f" ({detail})" if detail else "")
    problem = Unavailable(reason, url=url, status=state)
    ids = ids_from_link(url)
    post = None
    if listing is not None or ids.get("mid"):
        post = listing or Post(platform="wechat", account_id=ids.get("__biz", ""),
                               post_id=f"{ids['mid']}_{ids.get('idx', '1')}", platform_ids=ids,
                               url=canonical_link(url))
        post = post.merged(status=state, captured_at=captured_at,
                           extras={**post.extras, "unavailable_text": said})
    return post, problem


def _merge_listing(post: Post, listing: Post) -> Post:
    changes: dict[str, Any] = {"extras": {**listing.extras, **post.extras}}
    for name in ("title", "account_name", "published_at"):
        if not getattr(post, name) and getattr(listing, name):
            changes[name] = getattr(listing, name)
    if listing.status != "live":
        changes["status"] = listing.status
    return post.merged(**changes)


def _ids(js: dict[str, str], page: Selector, url: str) -> dict[str, str]:
    ids = {"__biz": js.get("biz", ""), "mid": js.get("mid") or js.get("appmsgid", ""),
           "idx": js.get("idx", ""), "sn": js.get("sn", "")}
    for link in (js.get("msg_link", ""), _og_url(page), url):
        for key, value in ids_from_link(link).items():
            ids[key] = ids[key] or value
    return ids


def _published(js: dict[str, str]) -> dt.datetime | None:
    for name in ("ct", "create_time"):
        if js.get(name, "").isdigit():
            return from_unix(js[name])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", js.get("publish_time", "")):
        return dt.datetime.fromisoformat(js["publish_time"]).replace(tzinfo=SHANGHAI)
    return None


def _fallback_url(url: str, page: Selector, ids: dict[str, str]) -> str:
    """Without ``sn`` the permalink cannot be built; the fetched or og:url link stands in."""
    if url or _og_url(page):
        return canonical_link(url or _og_url(page))
    if ids.get("__biz") and ids.get("mid"):
        return f"https://{ARTICLE_HOST}/s?__biz={ids['__biz']}&mid={ids['mid']}&idx={ids['idx']}"
    return ""


def _og_url(page: Selector) -> str:
    return html.unescape(page.css('meta[property="og:url"]::attr(content)').get(""))


def _unescape_js(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match[1]
        if code[0] in "xu" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": ""}.get(code, code)

    return _JS_ESCAPE.sub(replace, value)


def _text(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
