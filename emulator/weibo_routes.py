"""m.weibo.cn and weibo.com answers, built from the world (recorded bytes where they apply)."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from typing import Any

from emulator import ids, page_assets, samples, weibo_desktop
from emulator.exchange import HTML, JSON, Request, Response, json_response
from emulator.weibo_world import PAGE_SIZE, WeiboAccount, WeiboPost
from emulator.world import World

DESKTOP_PAGE_SIZE = 20
# There is no recorded answer for a deleted or unknown post; this shape is an assumption.
GONE = {"ok": 0, "errno": "20101", "msg": "微博不存在或暂无查看权限!"}
NO_COMMENTS = {"ok": 0, "msg": "快来发表你的评论吧"}
_RENDER_START = "var $render_data = "
_RENDER_END = "[0] || {};"


def recorded(name: str) -> Response:
    content_type = HTML if name.endswith(".html") else JSON
    return Response(body=samples.raw(name), content_type=content_type)


def _listing_cookie(request: Request, containerid: str) -> list[tuple[str, str]]:
    """m.weibo.cn remembers where a visitor came from in M_WEIBOCN_PARAMS, and sets XSRF-TOKEN."""
    params = urllib.parse.quote(f"luicode=10000011&lfid={containerid}&fid={containerid}"
                                "&uicode=10000011", safe="")
    cookies = [("Set-Cookie", f"M_WEIBOCN_PARAMS={params}; expires=Thu, 01-Jan-2037 00:00:00 "
                              "GMT; Max-Age=600; path=/; domain=.weibo.cn; HttpOnly")]
    if request.cookie("XSRF-TOKEN") is None:
        token = ids.hex_id(6, "xsrf", request.headers.get("User-Agent", ""))
        cookies.append(("Set-Cookie", f"XSRF-TOKEN={token}; expires=Thu, 01-Jan-2037 00:00:00 "
                                      "GMT; Max-Age=1200; path=/; domain=m.weibo.cn"))
    return cookies


def _profile(world: World, account: WeiboAccount) -> Response:
    if account.uid == samples.ARKNIGHTS_UID:
        return recorded(samples.PROFILE_100505)
    text = samples.text(samples.PROFILE_100505).replace(str(samples.ARKNIGHTS_UID),
                                                        str(account.uid))
    body = json.loads(text)
    info = body["data"]["userInfo"]
    for key in ("screen_name", "profile_image_url", "verified_reason", "description",
                "followers_count", "follow_count", "cover_image_phone", "avatar_hd",
                "statuses_count"):
        info[key] = account.user.get(key, info.get(key))
    info["followers_count_str"] = str(account.user.get("followers_count"))
    return json_response(body)


def _card(containerid: str, post: WeiboPost) -> dict[str, Any]:
    return {"card_type": 9, "itemid": f"{containerid}_-_{post.id}",
            "scheme": f"https://m.weibo.cn/status/{post.bid}?mblogid={post.bid}"
                      f"&luicode=10000011&lfid={containerid}",
            "mblog": post.mblog}


def timeline(world: World, account: WeiboAccount, since_id: str | None) -> Response:
    """One page of `containerid=107603<uid>`; the pinned post heads page 1 only.

    The last page has no `cardlistInfo.since_id`; asking past it answers the recorded
    `{"ok":0,"msg":"这里还没有内容","data":{"cards":[]}}`.
    """
    containerid = f"107603{account.uid}"
    with world.lock:
        visible = account.visible()
        flow = [p for p in visible if not p.pinned]
        if since_id:
            try:
                start = int(since_id)
            except ValueError:
                return recorded(samples.EMPTY_LISTING)
            page = [p for p in flow if int(p.id) <= start]
            rest = page[PAGE_SIZE:]
            page = page[:PAGE_SIZE]
        else:
            if (account.uid == samples.ARKNIGHTS_UID and account.revision == 0):
                return recorded(samples.TIMELINE_NEWPOST if world.recorded_newpost_shown
                                else samples.TIMELINE_PAGE1)
            pinned = [p for p in visible if p.pinned]
            page = pinned + flow[:PAGE_SIZE - len(pinned)]
            rest = flow[PAGE_SIZE - len(pinned):]
        if not page:
            return recorded(samples.EMPTY_LISTING)
        info: dict[str, Any] = {"containerid": containerid, "v_p": 42, "show_style": 1,
                                "total": len(visible)}
        if rest:
            info["since_id"] = int(rest[0].id)
        body = {"ok": 1, "data": {
            "cardlistInfo": info, "cards": [_card(containerid, p) for p in page],
            "scheme": f"sinaweibo://cardlist?containerid={containerid}&v_p=42"
                      f"&luicode=10000011&lfid={containerid}",
            "showAppTips": 0}}
        return json_response(body)


def _user_search(world: World, containerid: str) -> Response:
    """m.weibo.cn's user search (``100103type=3&q=NAME``): one ``card_type`` 11 group of
    ``card_type`` 10 user cards, those whose screen name holds NAME, the exact name first. No
    answer was recorded; the shape is what public clients read (harvesters.account_search)."""
    name = urllib.parse.parse_qs(containerid.removeprefix("100103")).get("q", [""])[0].strip()
    with world.lock:
        users = [copy.deepcopy(a.user) for a in world.weibo.values()
                 if name and name in str(a.user.get("screen_name", ""))]
    if not users:
        return recorded(samples.EMPTY_LISTING)
    users.sort(key=lambda user: user.get("screen_name") != name)
    group = [{"card_type": 10, "itemid": f"{containerid}_-_{u['id']}", "user": u,
              "desc1": u.get("verified_reason") or u.get("description", ""),
              "desc2": f"粉丝：{u.get('followers_count')}"} for u in users]
    info = {"containerid": containerid, "v_p": 42, "show_style": 1, "total": len(users), "page": None}
    return json_response({"ok": 1, "data": {"cardlistInfo": info, "cards": [
        {"card_type": 11, "show_type": 1, "card_group": group}]}})


def get_index(world: World, request: Request) -> Response:
    query = request.query
    containerid = query.get("containerid", "")
    if containerid.startswith("100103type=3&"):
        return _user_search(world, containerid)
    if query.get("type") == "uid" and not containerid:
        uid = query.get("value", "")
        if uid == str(samples.TYPE_UID_2019_UID):
            return recorded(samples.TYPE_UID_2019)
        containerid = f"100505{uid}"
    match = re.fullmatch(r"(100505|107603)(\d+)", containerid)
    account = world.weibo_account(match.group(2)) if match else None
    if match is None or account is None:
        return recorded(samples.EMPTY_LISTING)
    if match.group(1) == "100505":
        response = _profile(world, account)
    else:
        response = timeline(world, account, query.get("since_id"))
    response.headers += _listing_cookie(request, containerid)
    return response


def full_mblog(post: WeiboPost) -> dict[str, Any]:
    """The post as statuses/show and the detail page give it: the full text, not the cut one."""
    mblog = copy.deepcopy(post.mblog)
    if post.long_text is not None:
        mblog["text"] = post.long_text
    mblog.update({"status_title": weibo_desktop.plain_text(mblog["text"])[:30],
                  "ok": 1, "bid": post.bid})
    return mblog


def _live_post(world: World, post_id: str) -> WeiboPost | None:
    post = world.post(post_id)
    return post if post is not None and not post.deleted else None


def extend(world: World, request: Request) -> Response:
    post_id = request.query.get("id", "")
    post = _live_post(world, post_id)
    if post_id in samples.EXTEND and (post is None or post.revision == 0):
        if post is not None or world.post(post_id) is None:
            return recorded(samples.EXTEND[post_id])
    if post is None:
        return json_response(GONE)
    mblog = post.mblog
    return json_response({"ok": 1, "data": {
        "ok": 1, "longTextContent": post.long_text or mblog["text"],
        "reposts_count": mblog.get("reposts_count", 0),
        "comments_count": mblog.get("comments_count", 0),
        "attitudes_count": mblog.get("attitudes_count", 0)}})


def show(world: World, request: Request) -> Response:
    post = _live_post(world, request.query.get("id", ""))
    if post is None:
        return json_response(GONE)
    if post.id in samples.SHOW and post.revision == 0:
        return recorded(samples.SHOW[post.id])
    return json_response({"ok": 1, "data": full_mblog(post)})


def detail_page(world: World, post_key: str) -> Response:
    post = _live_post(world, post_key)
    if post is None:
        page = ("<!DOCTYPE html><html lang=\"zh-cn\"><head><meta charset=\"utf-8\"><title>微博"
                "</title></head><body><div class=\"wrap\"><p class=\"h5-4con\">"
                f"{GONE['msg']}</p></div></body></html>")
        return Response(body=page.encode(), content_type=HTML)
    if post.id in samples.DETAIL and post.revision == 0:
        return recorded(samples.DETAIL[post.id])
    template = samples.text(samples.DETAIL["4645748019299849"])
    start = template.index(_RENDER_START) + len(_RENDER_START)
    end = template.index(_RENDER_END, start)
    render = json.loads(template[start:end])
    text = json.dumps(render[0], ensure_ascii=False).replace("4645748019299849", post.id)
    frame = json.loads(text)
    frame["status"] = full_mblog(post)
    blob = json.dumps([frame], ensure_ascii=False, indent=4)
    return Response(body=(template[:start] + blob + template[end:]).encode(), content_type=HTML)


def hotflow(world: World, request: Request) -> Response:
    """Comments in the recorded hotflow shape, 20 a page, paged by max_id until it is 0."""
    post = _live_post(world, request.query.get("id") or request.query.get("mid", ""))
    if post is None or int(post.mblog.get("comments_count", 0)) == 0:
        return json_response(NO_COMMENTS)
    recorded_body = samples.load(samples.HOTFLOW)
    template = recorded_body["data"]["data"][0]
    total = min(int(post.mblog["comments_count"]), 45)
    page = int(request.query.get("max_id", "0") or 0)
    comments = []
    for n in range(page * 20, min(total, page * 20 + 20)):
        comment = copy.deepcopy(template)
        comment_id = str(int(post.id) + 100 + n)
        comment.update({"id": comment_id, "rootid": comment_id, "mid": comment_id,
                        "floor_number": n + 1, "created_at": post.mblog["created_at"],
                        "text": f"第{n + 1}条评论：支持政务公开。", "comments": False,
                        "like_count": n % 7, "total_number": 0})
        comment.pop("pic", None)
        comments.append(comment)
    more = (page + 1) * 20 < total
    data = {"data": comments, "total_number": total, "status": recorded_body["data"]["status"],
            "max_id": page + 1 if more else 0, "max": -(-total // 20), "max_id_type": 0}
    return json_response({"ok": 1, "data": data})


def _desktop_list(world: World, request: Request, account: WeiboAccount) -> Response:
    query = request.query
    if account.uid == 1433680664:  # the account of the recorded searchProfile item
        item = samples.text(samples.DESKTOP_ITEM).strip()
        if query.get("since_id") or query.get("page", "1") not in ("", "1"):
            item = ""
        body = ('{"ok":1,"data":{"since_id":"","list":[' + item + '],"status_visible":0,'
                '"bottom_tips_visible":false,"bottom_tips_text":"","topicList":[],"total":1}}')
        return Response(body=body.encode())
    with world.lock:
        visible = account.visible()
        since = query.get("since_id", "")
        if since:
            flow = [p for p in visible if not p.pinned and int(p.id) <= int(since)]
            page, rest = flow[:DESKTOP_PAGE_SIZE], flow[DESKTOP_PAGE_SIZE:]
        else:
            number = max(int(query.get("page", "1") or 1), 1)
            ordered = [p for p in visible if p.pinned] + [p for p in visible if not p.pinned]
            start = (number - 1) * DESKTOP_PAGE_SIZE
            page, rest = ordered[start:start + DESKTOP_PAGE_SIZE], ordered[start
                                                                            + DESKTOP_PAGE_SIZE:]
        items = [weibo_desktop.desktop_status(p.mblog) for p in page]
    return json_response({"ok": 1, "data": {
        "since_id": rest[0].id if rest else "", "list": items, "status_visible": 0,
        "bottom_tips_visible": False, "bottom_tips_text": "", "topicList": [],
        "total": len(visible)}})


def desktop(world: World, request: Request) -> Response | None:
    path, query = request.path, request.query
    if path == "/ajax/profile/info":
        uid = query.get("uid", "")
        if uid == str(samples.PROFILE_INFO_UID):
            return recorded(samples.PROFILE_INFO)
        account = world.weibo_account(uid)
        if account is None:
            return json_response({"ok": 0, "msg": "用户不存在"})
        return json_response(weibo_desktop.profile_info(account.user))
    if path == "/ajax/statuses/mymblog":
        if query.get("uid") == "1433680664":
            account = WeiboAccount(uid=1433680664, user={})
        else:
            found = world.weibo_account(query.get("uid", ""))
            if found is None:
                return json_response({"ok": 0, "msg": "用户不存在"})
            account = found
        return _desktop_list(world, request, account)
    page = re.fullmatch(r"/(\d+)/(\w+)", path)
    if page and _live_post(world, page.group(2)) is not None:
        return page_assets.weibo_pc_page(page.group(1), page.group(2))
    if path in ("/ajax/statuses/show", "/ajax/statuses/longtext"):
        key = query.get("id", "")
        if path.endswith("show") and key == weibo_desktop.recorded_item_id():
            return recorded(samples.DESKTOP_ITEM)
        post = _live_post(world, key)
        if post is None:
            return json_response(GONE)
        if path.endswith("longtext"):
            return json_response(weibo_desktop.longtext_body(post.long_text))
        status = weibo_desktop.desktop_status(post.mblog)
        if post.long_text is not None and query.get("isGetLongText") == "true":
            status["longTextContent"] = weibo_desktop.plain_text(post.long_text)
        status["ok"] = 1
        return json_response(status)
    return None


def mobile(world: World, request: Request) -> Response | None:
    path = request.path
    if path == "/api/container/getIndex":
        return get_index(world, request)
    if path == "/statuses/extend":
        return extend(world, request)
    if path == "/statuses/show":
        return show(world, request)
    if path == "/comments/hotflow":
        return hotflow(world, request)
    match = re.fullmatch(r"/(?:detail|status)/(\w+)", path)
    if match:
        return detail_page(world, match.group(1))
    return None
