"""Everything the emulated platforms know, and the changes a test can make to it while running."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from typing import Any

from emulator import samples
from emulator.wechat_world import (
    Article,
    Push,
    WechatAccount,
    generated_account,
    generated_article,
    recorded_accounts,
)
from emulator.weibo_world import (
    WeiboAccount,
    WeiboGenerator,
    WeiboPost,
    continuation,
    generated_mid,
    recorded_account,
    weibo_date,
)

# Older generated posts after the recorded 明日方舟 page, so its since_id leads somewhere.
RECORDED_CONTINUATION = 15


class WorldError(ValueError):
    """A mutation or lookup named something the world does not hold."""


class World:
    """N generated accounts per platform with M posts each, plus the recorded accounts."""

    def __init__(self, accounts: int = 3, posts: int = 30, seed: int = 1) -> None:
        if not 0 <= accounts <= 999:
            raise WorldError("the emulator holds between 0 and 999 generated accounts")
        self.seed, self.accounts_count, self.posts_count = seed, accounts, posts
        self.lock = threading.RLock()
        self._generator = WeiboGenerator(seed)
        self.weibo: dict[int, WeiboAccount] = {}
        self.posts: dict[str, WeiboPost] = {}
        self.recorded_page1_ids: set[str] = set()
        self.recorded_newpost_shown = False
        self._build_weibo()
        self.wechat: dict[str, WechatAccount] = {}
        for account in recorded_accounts(seed) + [
                generated_account(seed, i, posts) for i in range(accounts)]:
            self.wechat[account.biz] = account
        self.articles: dict[tuple[str, int, int], Article] = {}
        self.short_links: dict[str, Article] = {}
        for account in self.wechat.values():
            self._index_articles(account)

    # -- building -------------------------------------------------------------------------
    def _build_weibo(self) -> None:
        recorded, self.recorded_page1_ids = recorded_account()
        since_id = int(samples.load(samples.TIMELINE_PAGE1)["data"]["cardlistInfo"]["since_id"])
        recorded.posts += continuation(self._generator, recorded, since_id, RECORDED_CONTINUATION)
        generated = [self._generator.account(i, self.posts_count)
                     for i in range(self.accounts_count)]
        for account in [recorded, *generated]:
            self.weibo[account.uid] = account
            for post in account.posts:
                self.posts[post.id] = post
        for account in generated:  # reposts point at older posts of the next account
            target_account = generated[(account.index + 1) % len(generated)]
            for k, post in enumerate(account.posts):
                rng_roll = int(post.id) % 100
                if post.pinned or rng_roll >= 15 or post.mblog.get("isLongText"):
                    continue
                originals = [p for p in target_account.posts[k + 1:]
                             if "retweeted_status" not in p.mblog and p.id != post.id]
                if originals:
                    self._generator.make_repost(post, originals[0])
        # The recorded repost's original (4645748019299849) is itself on the recorded page.

    def _index_articles(self, account: WechatAccount) -> None:
        for article in account.articles():
            self.articles[(article.biz, article.mid, article.idx)] = article
            self.short_links[article.short_id] = article

    # -- lookups --------------------------------------------------------------------------
    def weibo_account(self, uid: int | str) -> WeiboAccount | None:
        try:
            return self.weibo.get(int(uid))
        except (TypeError, ValueError):
            return None

    def post(self, post_id: str) -> WeiboPost | None:
        post = self.posts.get(str(post_id))
        if post is None:  # a bid (mblogid) instead of a numeric id
            post = next((p for p in self.posts.values() if p.bid == post_id), None)
        return post

    def article(self, biz: str, mid: int, idx: int) -> Article | None:
        return self.articles.get((biz, mid, idx))

    def account_of(self, article: Article) -> WechatAccount:
        return self.wechat[article.biz]

    # -- mutations ------------------------------------------------------------------------
    def _post_or_fail(self, post_id: str) -> WeiboPost:
        post = self.post(str(post_id))
        if post is None:
            raise WorldError(f"there is no Weibo post {post_id}")
        return post

    def _article_or_fail(self, spec: dict[str, Any]) -> Article:
        article = self.article(str(spec.get("biz")), int(spec.get("mid", 0)),
                               int(spec.get("idx", 1)))
        if article is None:
            raise WorldError(f"there is no WeChat article {spec.get('biz')} "
                             f"mid {spec.get('mid')} idx {spec.get('idx', 1)}")
        return article

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply one change; `spec` is a [[mutation]] table or a control-API JSON body."""
        op = str(spec.get("op", ""))
        platform = str(spec.get("platform", "wechat" if "biz" in spec else "weibo"))
        with self.lock:
            if platform == "weibo":
                return self._mutate_weibo(op, spec)
            if platform == "wechat":
                return self._mutate_wechat(op, spec)
        raise WorldError(f"unknown platform {platform!r} (weibo or wechat)")

    def _mutate_weibo(self, op: str, spec: dict[str, Any]) -> dict[str, Any]:
        if op == "add":
            return self._add_post(spec)
        post = self._post_or_fail(str(spec.get("id", "")))
        account = self.weibo[post.uid]
        if op == "delete":
            post.deleted = True
        elif op == "edit":
            text = str(spec.get("text") or post.mblog["text"] + " [已更正]")
            mblog = post.mblog = copy.deepcopy(post.mblog)
            mblog["text"] = text
            post.long_text = None if not mblog.get("isLongText") else text
            mblog["edit_count"] = int(mblog.get("edit_count", 0)) + 1
            mblog["edit_at"] = weibo_date(dt.datetime.now(dt.UTC))
            mblog["version"] = int(mblog.get("version", 1)) + 1
            mblog["edit_config"] = {"edited": True}
        else:
            raise WorldError(f"unknown Weibo mutation {op!r} (add, delete, edit)")
        post.revision += 1
        account.revision += 1
        return {"op": op, "id": post.id, "edit_count": post.mblog.get("edit_count", 0)}

    def _add_post(self, spec: dict[str, Any]) -> dict[str, Any]:
        uid = int(spec.get("uid", 0))
        account = self.weibo.get(uid)
        if account is None:
            raise WorldError(f"there is no Weibo account {uid}")
        if uid == samples.ARKNIGHTS_UID and spec.get("recorded"):
            return self._show_recorded_newpost(account)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        post = self._generator.post(account, len(account.posts) + 5000, 1, created=now,
                                    text=str(spec.get("text") or "新发布的通知：请关注政务公开。"))
        newest = max(int(p.id) for p in account.posts) if account.posts else 0
        new_id = str(max(int(generated_mid(now, account.index % 1000)), newest + 1))
        post.mblog.update({"id": new_id, "mid": new_id})
        post.mblog.pop("bid", None)
        post.mblog["bid"] = post.bid
        post.id = new_id
        pinned = [p for p in account.posts if p.pinned]
        account.posts = pinned + [post] + [p for p in account.posts if not p.pinned]
        self.posts[new_id] = post
        account.revision += 1
        return {"op": "add", "id": new_id, "uid": uid}

    def _show_recorded_newpost(self, account: WeiboAccount) -> dict[str, Any]:
        """The recorded second fetch of the 明日方舟 timeline: one new post appears."""
        page = samples.load(samples.TIMELINE_NEWPOST)
        for card in page["data"]["cards"]:
            mblog = card["mblog"]
            if mblog["id"] not in self.posts:
                post = WeiboPost(id=mblog["id"], uid=account.uid, mblog=mblog)
                self.posts[post.id] = post
                account.posts.insert(1, post)
        self.recorded_newpost_shown = True
        return {"op": "add", "uid": account.uid, "recorded": True}

    def _mutate_wechat(self, op: str, spec: dict[str, Any]) -> dict[str, Any]:
        if op == "add":
            account = self.wechat.get(str(spec.get("biz")))
            if account is None:
                raise WorldError(f"there is no WeChat account {spec.get('biz')}")
            now = int(dt.datetime.now(dt.UTC).timestamp())
            mid = max([p.mid for p in account.pushes] + [2247480000]) + 1
            article = generated_article(self.seed, account.biz, mid, 1, now,
                                        title=spec.get("title"))
            account.pushes.insert(0, Push(mid, now, [article]))
            self._index_articles(account)
            return {"op": "add", "biz": account.biz, "mid": mid, "idx": 1, "link": article.link}
        article = self._article_or_fail(spec)
        if op in ("delete", "block"):
            article.state = "deleted" if op == "delete" else "blocked"
        elif op == "edit":
            article.title = str(spec.get("title") or article.title + "（更正）")
            if spec.get("text"):
                article.body = f"<p>{spec['text']}</p>"
        else:
            raise WorldError(f"unknown WeChat mutation {op!r} (add, delete, block, edit)")
        article.revision += 1
        return {"op": op, "biz": article.biz, "mid": article.mid, "idx": article.idx}

    # -- description ----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What exists, with the credentials a client needs: for tests, demo and developers."""
        with self.lock:
            return {
                "seed": self.seed, "accounts": self.accounts_count, "posts": self.posts_count,
                "weibo": [{
                    "uid": a.uid, "screen_name": a.user.get("screen_name"),
                    "posts": len(a.visible()),
                    "post_ids": [p.id for p in a.visible()],
                    "pinned": [p.id for p in a.posts if p.pinned],
                    "recorded": a.uid == samples.ARKNIGHTS_UID,
                } for a in self.weibo.values()],
                "wechat": [{
                    "biz": a.biz, "nickname": a.nickname, "user_name": a.user_name,
                    "appid": a.appid, "secret": a.secret,
                    "cookie": f"slave_sid={a.session_id}; slave_user={a.user_name}",
                    "token": a.session_token,
                    "pushes": len(a.pushes), "articles": len(a.articles()),
                    "links": [x.link for x in a.articles()],
                    "short_links": [x.short_link for x in a.articles()],
                    "feed_rss": f"http://rss.weidang-emulator.invalid/wechat/{a.biz}.xml",
                    "feed_atom": f"http://rss.weidang-emulator.invalid/wechat/{a.biz}.atom",
                } for a in self.wechat.values()],
            }
