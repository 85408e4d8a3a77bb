"""A realistic mix of captured exchanges for the WARC benchmarks.

By bytes about 70% pictures and video (already compressed: random bytes stand in for JPEG and
MP4 data, which deflate cannot shrink either) and 30% JSON and HTML (Chinese text, which
compresses as real API answers do).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator

from warc_store import HttpRequest, HttpResponse

WORDS = ("关于 做好 档案 工作 通知 疫情 防控 政务 公开 人民 政府 发布 会议 精神 学习 贯彻 "
         "落实 推进 高质量 发展 乡村 振兴 安全 生产 应急 管理 服务 群众 办事 指南").split()


def _text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    while sum(map(len, out)) < chars:
        out.append(rng.choice(WORDS))
    return "".join(out)


def exchanges(count: int, seed: int = 7) -> Iterator[tuple[HttpRequest, HttpResponse, str]]:
    """Yield (request, response, kind) with the 70/30 byte mix."""
    rng = random.Random(seed)
    for n in range(count):
        roll = rng.random()
        if roll < 0.604:  # API JSON: a timeline page of about 30 KB
            body = json.dumps({"ok": 1, "data": {"cards": [
                {"card_type": 9, "mblog": {"id": str(4600000000000000 + n * 10 + i),
                                          "text": _text(rng, 140), "source": "微博 weibo.com"}}
                for i in range(10)]}}, ensure_ascii=False).encode()
            url = f"https://m.weibo.cn/api/container/getIndex?containerid=1076031669879400&since_id={n}"
            ctype, kind = "application/json; charset=utf-8", "json"
        elif roll < 0.804:  # article HTML of about 60 KB
            body = ("<html><body><div id=js_content>" + "".join(
                f"<p>{_text(rng, 120)}</p>" for _ in range(150)) + "</div></body></html>").encode()
            url = f"https://mp.weixin.qq.com/s?__biz=MzAxMzgxNzUxOA==&mid={2650800000 + n}&idx=1"
            ctype, kind = "text/html; charset=utf-8", "html"
        elif roll < 0.994:  # a picture of 100-400 KB
            body = os.urandom(rng.randint(100_000, 400_000))
            url = f"https://wx{n % 4 + 1}.sinaimg.cn/large/{n:032x}.jpg"
            ctype, kind = "image/jpeg", "picture"
        else:  # a short video of 2-6 MB
            body = os.urandom(rng.randint(2_000_000, 6_000_000))
            url = f"https://f.video.weibocdn.com/o0/{n:032x}.mp4"
            ctype, kind = "video/mp4", "video"
        yield (HttpRequest("GET", url, [("Host", url.split("/")[2]), ("Accept", "*/*")]),
               HttpResponse(200, "OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))], body),
               kind)
