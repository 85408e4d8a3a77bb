"""WeChat article listings as partial posts: the backend's ``app_msg_list`` / ``appmsgpublish``
items, the official API's ``freepublish/batchget`` items, and RSS/Atom feeds.

A listing only names articles (title, time, cover, link); the article page completes each post,
so listing posts carry ``long_text_complete=False`` unless the listing holds the full content.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from typing import Any

from lxml import etree

from harvesters.common import read_items
from harvesters.dates import from_unix, in_shanghai
from harvesters.errors import HarvestError
from harvesters.records import Media, Post
from harvesters.text import html_to_text
from harvesters.wechat_article import ARTICLE_HOST, canonical_link, ids_from_link, image_id


def app_msg_post(item: dict[str, Any], account_id: str, captured_at: dt.datetime) -> Post:
    """One ``app_msg_list`` / ``appmsgex`` item of the mp.weixin.qq.com backend."""
    link = str(item.get("link") or "")
    ids = ids_from_link(link)
    mid = ids.get("mid") or str(item.get("appmsgid") or "")
    idx = ids.get("idx") or str(item.get("itemidx") or "1")
    if not (item.get("aid") or mid):
        raise HarvestError("a WeChat listing item has no article id (no aid, appmsgid or link)")
    post_id = str(item.get("aid") or f"{mid}_{idx}")
    created = item.get("create_time") or item.get("update_time")
    extras = {k: item[k] for k in ("digest", "author_name", "copyright_stat", "copyright_type",
                                   "item_show_type", "update_time", "album_id")
              if item.get(k) not in (None, "", [])}
    cover = str(item.get("cover") or "")
    return Post(
        platform="wechat", account_id=ids.get("__biz") or account_id, post_id=post_id,
        platform_ids={**ids, "mid": mid, "idx": idx}, url=canonical_link(link) if link else "",
        published_at=from_unix(created) if created else None, title=str(item.get("title") or ""),
        long_text_complete=False,
        media=[Media(kind="cover", url=cover, id=image_id(cover))] if cover else [],
        status="deleted" if item.get("is_deleted") else "live", captured_at=captured_at,
        extras=extras,
    )


def publish_page_posts(data: dict[str, Any], account_id: str, captured_at: dt.datetime,
                       errors: list[str] | None = None) -> tuple[list[Post], int | None, bool]:
    """``appmsgpublish``: ``publish_page`` and each ``publish_info`` are JSON inside strings.

    An entry or article that cannot be read is added to ``errors``; the others are kept."""
    page = _json_string(data.get("publish_page"), "publish_page")
    entries = page.get("publish_list") or []

    def read(entry: dict[str, Any]) -> list[Post]:
        info = _json_string(entry.get("publish_info"), "publish_info")
        return app_msg_posts(info.get("appmsgex") or [], account_id, captured_at, errors)

    posts = read_items(entries, read, errors if errors is not None else [])
    total = page.get("total_count")
    return posts, int(total) if total is not None else None, not entries


def app_msg_posts(items: list[Any], account_id: str, captured_at: dt.datetime,
                  errors: list[str] | None = None) -> list[Post]:
    """Every readable item of an ``app_msg_list``; the others go to ``errors``."""
    return read_items(items, lambda item: [app_msg_post(item, account_id, captured_at)],
                      errors if errors is not None else [])


def freepublish_posts(data: dict[str, Any], account_id: str, captured_at: dt.datetime,
                      errors: list[str] | None = None) -> list[Post]:
    """``freepublish/batchget`` items: one post per ``news_item``, content included if asked.

    An item that cannot be read is added to ``errors``; the others are kept."""
    return read_items(data.get("item") or [],
                      lambda item: _freepublish_item(item, account_id, captured_at),
                      errors if errors is not None else [])


def _freepublish_item(item: dict[str, Any], account_id: str, captured_at: dt.datetime
                      ) -> list[Post]:
    posts = []
    updated = item.get("update_time")
    news = (item.get("content") or {}).get("news_item") or []
    for number, article in enumerate(news, start=1):
        link = str(article.get("url") or "")
        ids = ids_from_link(link)
        content = str(article.get("content") or "")
        thumb = str(article.get("thumb_url") or "")
        extras = {k: article[k] for k in ("author", "digest", "content_source_url",
                                          "thumb_media_id", "need_open_comment")
                  if article.get(k) not in (None, "")}
        extras["article_id"] = str(item.get("article_id") or "")
        mid, idx = ids.get("mid", ""), ids.get("idx") or str(number)
        posts.append(Post(
            platform="wechat", account_id=ids.get("__biz") or account_id,
            post_id=f"{mid}_{idx}" if mid else f"{item.get('article_id')}_{number}",
            platform_ids={**ids, "article_id": extras["article_id"]},
            url=canonical_link(link) if link else "",
            published_at=from_unix(str(updated)) if str(updated or "").isdigit() else None,
            title=str(article.get("title") or ""), text_html=content,
            text=html_to_text(content), long_text_complete=bool(content),
            media=[Media(kind="cover", url=thumb, id=image_id(thumb))] if thumb else [],
            status="deleted" if article.get("is_deleted") else "live",
            captured_at=captured_at, extras=extras,
        ))
    return posts


def feed_posts(body: bytes, account_id: str, captured_at: dt.datetime) -> list[Post]:
    """RSS 2.0 or Atom: every entry linking to an mp.weixin.qq.com article."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(recover=True,
                                                               resolve_entities=False))
    except etree.XMLSyntaxError:
        root = None
    if root is None or etree.QName(root).localname not in ("rss", "feed", "RDF"):
        raise HarvestError("this is not an RSS or Atom feed")
    posts = []
    for entry in root.iter("{*}item", "{*}entry", "item", "entry"):
        link = _child_text(entry, "link") or _atom_link(entry) or _child_text(entry, "guid")
        if ARTICLE_HOST not in link:
            continue
        ids = ids_from_link(link)
        when = (_child_text(entry, "pubDate") or _child_text(entry, "published")
                or _child_text(entry, "updated") or _child_text(entry, "date"))
        summary = _child_text(entry, "description") or _child_text(entry, "summary")
        posts.append(Post(
            platform="wechat", account_id=ids.get("__biz") or account_id,
            post_id=f"{ids['mid']}_{ids.get('idx', '1')}" if ids.get("mid") else canonical_link(link),
            platform_ids=ids, url=canonical_link(link), published_at=_feed_date(when),
            title=_child_text(entry, "title"), long_text_complete=False, captured_at=captured_at,
            extras={"digest": html_to_text(summary)} if summary else {},
        ))
    return posts


def _json_string(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        decoded = json.loads(value or "{}")
    except (TypeError, ValueError):
        raise HarvestError(f"the backend's {name} is not the JSON text it should hold") from None
    return decoded if isinstance(decoded, dict) else {}


def _child_text(entry: etree._Element, name: str) -> str:
    for child in entry:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return (child.text or "").strip()
    return ""


def _atom_link(entry: etree._Element) -> str:
    for child in entry:
        if isinstance(child.tag, str) and etree.QName(child).localname == "link":
            if child.get("rel", "alternate") == "alternate" and child.get("href"):
                return str(child.get("href"))
    return ""


def _feed_date(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return in_shanghai(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError):
        pass
    try:
        return in_shanghai(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None
