"""Weibo accounts and posts: the recorded 明日方舟 account plus generated government accounts.

Posts are kept in the mobile list shape (`card.mblog` of getIndex), copied from a real recorded
item and changed field by field, so generated posts have exactly the real keys. Other shapes
(statuses/show, weibo.com ajax) are derived from this one by `weibo_routes`.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any

from emulator import ids, samples, texts

CST = dt.timezone(dt.timedelta(hours=8))
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Generated posts are dated back from here, so a fixed seed gives fixed bytes.
GENERATED_EPOCH = dt.datetime(2024, 3, 1, 12, 0, tzinfo=CST)
FIRST_GENERATED_UID = 7000000001
PAGE_SIZE = 10
_FULL_TEXT_LINK = re.compile(r'\s*\.\.\.<a href="/status/\d+">全文</a>\s*$')


def weibo_date(when: dt.datetime) -> str:
    """`Tue Jun 08 09:35:04 +0800 2021`, independent of the process locale."""
    when = when.astimezone(CST)
    return (f"{_DAYS[when.weekday()]} {_MONTHS[when.month - 1]} {when:%d %H:%M:%S} +0800 "
            f"{when.year}")


def parse_weibo_date(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")


def generated_mid(created: dt.datetime, account_index: int) -> str:
    """16 digits that grow with time, like real mids (4645748019299849 is June 2021)."""
    seconds = int(created.timestamp()) - 1_700_000_000
    return str(4_900_000_000_000_000 + seconds * 1000 + account_index)


@dataclass
class WeiboPost:
    id: str
    uid: int
    mblog: dict[str, Any]
    long_text: str | None = None
    pinned: bool = False
    deleted: bool = False
    # Bumped by every mutation: a recorded sample is served verbatim only while this is 0.
    revision: int = 0

    @property
    def bid(self) -> str:
        return str(self.mblog.get("bid") or ids.mid_to_bid(self.id))

    @property
    def created(self) -> dt.datetime:
        return parse_weibo_date(self.mblog["created_at"])

    def media_urls(self) -> list[str]:
        """Every picture and video URL this post (and its repost) links to."""
        found: list[str] = []
        for mblog in (self.mblog, self.mblog.get("retweeted_status") or {}):
            for pic in mblog.get("pics") or []:
                found += [pic["url"], pic["large"]["url"]]
            info = mblog.get("page_info") or {}
            if info.get("type") == "video":
                found.append(info["page_pic"]["url"])
                found += [u for u in (info.get("urls") or {}).values()]
                found += [u for k, u in (info.get("media_info") or {}).items()
                          if k.startswith("stream_url") and u]
        return found


@dataclass
class WeiboAccount:
    uid: int
    user: dict[str, Any]
    posts: list[WeiboPost] = field(default_factory=list)  # newest first; the pinned one too
    revision: int = 0
    index: int = 0

    def visible(self) -> list[WeiboPost]:
        return [p for p in self.posts if not p.deleted]


def _pictures(uid: int, post_key: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    pics = []
    for n in range(count):
        pid = ids.weibo_pid(uid, post_key, n)
        host = f"wx{1 + ids.number(pid) % 4}.sinaimg.cn"
        width, height = rng.choice([(1920, 1080), (1080, 1440), (800, 800)])
        pics.append({
            "pid": pid,
            "url": f"https://{host}/orj360/{pid}.jpg",
            "size": "orj360",
            "geo": {"width": 360, "height": 360 * height // width, "croped": False},
            "large": {"size": "large", "url": f"https://{host}/large/{pid}.jpg",
                      "geo": {"width": str(width), "height": str(height), "croped": False}},
        })
    return pics


def _video_info(template: dict[str, Any], uid: int, post_id: str, title: str) -> dict[str, Any]:
    info = copy.deepcopy(template)
    object_id = f"1034:{post_id}"
    pid = ids.weibo_pid(uid, post_id, "cover")
    token = ids.hex_id(26, "video", post_id)
    expires = int(GENERATED_EPOCH.timestamp()) + 86400 * 3650

    def stream(label: str, template_size: str) -> str:
        return (f"https://f.video.weibocdn.com/{token}{label[:2]}.mp4?label={label}"
                f"&template={template_size}&ori=0&Expires={expires}"
                f"&ssig={ids.hex_id(10, label, post_id)}&KID=unistore,video")

    info["page_pic"].update({"pid": pid, "url": f"https://wx3.sinaimg.cn/large/{pid}.jpg"})
    info["page_url"] = f"https://video.weibo.com/show?fid={object_id.replace(':', '%3A')}"
    info["object_id"] = object_id
    info["title"] = title
    info["content2"] = title
    info["play_count"] = "1万次播放"
    info["media_info"] = {"stream_url": stream("mp4_ld", "640x360.25.0"),
                          "stream_url_hd": stream("mp4_hd", "852x480.25.0"), "duration": 30.0}
    info["urls"] = {"mp4_720p_mp4": stream("mp4_720p", "1280x720.25.0"),
                    "mp4_hd_mp4": stream("mp4_hd", "852x480.25.0"),
                    "mp4_ld_mp4": stream("mp4_ld", "640x360.25.0")}
    return info


class WeiboGenerator:
    """Builds N accounts x M posts from the recorded items, deterministically by seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        page = samples.load(samples.TIMELINE_PAGE1)
        cards = [c["mblog"] for c in page["data"]["cards"]]
        self.video_info = cards[0]["page_info"]
        self.repost_template = cards[2]
        self.template = copy.deepcopy(cards[6])  # the four-picture post
        for key in ("pics", "page_info", "thumbnail_pic", "bmiddle_pic", "original_pic",
                    "picStatus"):
            self.template.pop(key, None)
        self.user_template = cards[0]["user"]

    def user(self, index: int) -> dict[str, Any]:
        rng = random.Random(ids.number(self.seed, "user", index))
        uid = FIRST_GENERATED_UID + index
        avatar = ids.weibo_pid(uid, "avatar")
        user = copy.deepcopy(self.user_template)
        user.update({
            "id": uid, "screen_name": texts.account_name(index, rng),
            "profile_image_url": f"https://tvax1.sinaimg.cn/crop.0.0.512.512.180/{avatar}.jpg",
            "profile_url": f"https://m.weibo.cn/u/{uid}?uid={uid}&luicode=10000011"
                           f"&lfid=107603{uid}",
            "verified_reason": "政务机构官方微博", "description": "发布权威政务信息，回应群众关切。",
            "followers_count": rng.randint(2_000, 900_000), "follow_count": rng.randint(10, 300),
            "cover_image_phone": f"https://wx1.sinaimg.cn/crop.0.0.640.640.640/{avatar}.jpg",
            "avatar_hd": f"https://wx1.sinaimg.cn/orj480/{avatar}.jpg",
        })
        return user

    def account(self, index: int, posts: int) -> WeiboAccount:
        user = self.user(index)
        account = WeiboAccount(uid=user["id"], user=user, index=index)
        for k in range(posts):
            account.posts.append(self.post(account, k, posts))
        user["statuses_count"] = posts
        pinned = [p for p in account.posts if p.pinned]
        account.posts = pinned + [p for p in account.posts if not p.pinned]
        return account

    def post(self, account: WeiboAccount, k: int, total: int,
             created: dt.datetime | None = None, text: str | None = None) -> WeiboPost:
        uid = account.uid
        rng = random.Random(ids.number(self.seed, "post", uid, k))
        if created is None:
            created = GENERATED_EPOCH - dt.timedelta(hours=5 * k + 5 * account.index / 1000,
                                                     seconds=rng.randint(0, 3000))
        post_id = generated_mid(created, account.index)
        mblog = copy.deepcopy(self.template)
        body = text or texts.paragraph(rng, rng.randint(1, 3))
        tag = rng.choice(texts.HASHTAGS)
        html = (f'<a  href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D%23{tag}%23"'
                f' data-hide=""><span class="surl-text">#{tag}#</span></a> {body}')
        long_text = None
        if text is None and rng.random() < 0.2:
            long_text = html + "<br />" + "<br />".join(texts.paragraph(rng, 4) for _ in range(3))
            html = html[:120] + f'...<a href="/status/{post_id}">全文</a>'
        mblog.update({
            "created_at": weibo_date(created), "id": post_id, "mid": post_id,
            "bid": ids.mid_to_bid(post_id), "text": html,
            "textLength": len((long_text or html).encode("gbk", "replace")),
            "source": rng.choice(["微博 weibo.com", "iPhone客户端", "政务微博"]),
            "user": account.user, "isLongText": long_text is not None,
            "reposts_count": rng.randint(0, 500), "comments_count": rng.randint(0, 300),
            "attitudes_count": rng.randint(0, 3000), "mblogtype": 0, "pic_ids": [], "pic_num": 0,
            "rid": f"{k}_0_50_{ids.number(uid) % 10**19}_0_0_0", "edit_config": {"edited": False},
            "version": 1,
        })
        pinned = total >= 4 and k == 2 and text is None
        if pinned:
            mblog.update({"isTop": 1, "mblogtype": 2, "title": {"text": "置顶", "base_color": 1}})
        roll = rng.random()
        if text is None and roll < 0.45:
            pics = _pictures(uid, post_id, rng.choice([1, 1, 2, 3, 4, 6, 9]), rng)
            first = pics[0]["large"]["url"]
            mblog.update({
                "pics": pics, "pic_ids": [p["pid"] for p in pics], "pic_num": len(pics),
                "thumbnail_pic": first.replace("/large/", "/thumbnail/"),
                "bmiddle_pic": first.replace("/large/", "/bmiddle/"), "original_pic": first,
            })
        elif text is None and roll < 0.55:
            mblog["page_info"] = _video_info(self.video_info, uid, post_id, texts.title(rng))
        if text is None and rng.random() < 0.1:
            edited = created + dt.timedelta(hours=rng.randint(1, 48))
            count = rng.randint(1, 3)
            mblog.update({"edit_count": count, "edit_at": weibo_date(edited), "version": count + 1,
                          "edit_config": {"edited": True, "menu_edit_history": {
                              "scheme": f"sinaweibo://cardlist?containerid=231440_-_{post_id}"
                                        "&title=编辑记录", "title": "查看编辑记录"}}})
        return WeiboPost(id=post_id, uid=uid, mblog=mblog, long_text=long_text, pinned=pinned)

    def make_repost(self, post: WeiboPost, original: WeiboPost) -> None:
        """Turn `post` into a repost of `original`, in the recorded repost's shape."""
        keep = {k: post.mblog[k] for k in ("created_at", "id", "mid", "bid", "user", "rid",
                                           "reposts_count", "comments_count", "attitudes_count",
                                           "source")}
        mblog = copy.deepcopy(self.repost_template)
        mblog.update(keep)
        mblog["text"] = "转发微博：" + texts.TAILS[int(post.id) % len(texts.TAILS)]
        mblog["retweeted_status"] = original.mblog
        mblog.pop("edit_count", None)
        post.mblog, post.long_text = mblog, None


def recorded_account() -> tuple[WeiboAccount, set[str]]:
    """The 明日方舟 account from the recorded first timeline page, in the recorded order."""
    page = samples.load(samples.TIMELINE_PAGE1)
    cards = page["data"]["cards"]
    user = cards[0]["mblog"]["user"]
    account = WeiboAccount(uid=samples.ARKNIGHTS_UID, user=user, index=999)
    for card in cards:
        mblog = card["mblog"]
        post = WeiboPost(id=mblog["id"], uid=account.uid, mblog=mblog,
                         pinned=bool(mblog.get("isTop")))
        if mblog.get("isLongText"):
            post.long_text = recorded_long_text(post)
        account.posts.append(post)
    return account, {p.id for p in account.posts}


def recorded_long_text(post: WeiboPost) -> str:
    """The full text where it was recorded; otherwise the visible part, marked as cut short."""
    if post.id in samples.EXTEND:
        return str(samples.load(samples.EXTEND[post.id])["data"]["longTextContent"])
    visible = _FULL_TEXT_LINK.sub("", post.mblog["text"])
    return visible + "<br />[weidang emulator: the rest of this recorded post was not captured]"


def continuation(generator: WeiboGenerator, account: WeiboAccount, first_id: int,
                 count: int) -> list[WeiboPost]:
    """Older generated posts after the recorded page, the first one at the recorded since_id."""
    posts = []
    last = account.posts[-1].created
    for k in range(count):
        created = last - dt.timedelta(hours=7 * (k + 1))
        post = generator.post(account, 1000 + k, count, created=created)
        new_id = str(first_id - k * 7_000_000)
        post.mblog.update({"id": new_id, "mid": new_id, "bid": ids.mid_to_bid(new_id)})
        if post.long_text:
            post.mblog["text"] = post.mblog["text"].replace(post.id, new_id)
        post.id = new_id
        post.pinned = False
        post.mblog.pop("isTop", None)
        post.mblog.pop("title", None)
        posts.append(post)
    return posts
