"""Picture and video hosts: any URL shaped like theirs answers with stable bytes.

sinaimg paths are `/<size>/<pid>.<ext>` (large, mw2000, orj360, thumbnail, crop.x.y.w.h.s,...);
mmbiz paths end in `/0` or `/640` with the format in `wx_fmt`; video paths end in `.mp4`.
Videos honour `Range: bytes=a-b` with 206, as the CDNs do.
"""

from __future__ import annotations

import functools
import re

from emulator import media
from emulator.exchange import Request, Response

PICTURE_HOST = re.compile(r"^(wx|ww|tva|tvax|tvax?)\d\.sinaimg\.cn$|^h5\.sinaimg\.cn$")
MMBIZ_HOSTS = {"mmbiz.qpic.cn", "mmbiz.qlogo.cn", "wx.qlogo.cn"}
VIDEO_HOST = re.compile(r"^(f|g|s)\.video\.weibocdn\.com$|^us\.sinaimg\.cn$|"
                        r"^mpvideo\.qpic\.cn$")
_SIZES = {"large": (320, 240), "mw2000": (320, 240), "orj1080": (320, 240),
          "orj960": (256, 192), "orj480": (160, 160), "orj360": (96, 72), "bmiddle": (96, 72),
          "wap360": (96, 72), "thumbnail": (48, 36), "thumb150": (48, 36), "wap180": (48, 36)}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def is_media_host(host: str) -> bool:
    return bool(PICTURE_HOST.match(host) or VIDEO_HOST.match(host) or host in MMBIZ_HOSTS)


@functools.lru_cache(maxsize=4096)
def _picture(name: str, extension: str, width: int, height: int) -> tuple[bytes, str]:
    return media.picture(name, extension, width, height)


@functools.lru_cache(maxsize=256)
def _video(name: str) -> bytes:
    return media.mp4(name)


def _ranged(request: Request, body: bytes, content_type: str) -> Response:
    headers = [("Accept-Ranges", "bytes"), ("Cache-Control", "max-age=2592000")]
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or not (match.group(1) or match.group(2)):
        return Response(body=body, content_type=content_type, headers=headers)
    size = len(body)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    else:
        start, end = max(size - int(match.group(2)), 0), size - 1
    if start >= size or start > end:
        return Response(status=416, body=b"", content_type=content_type,
                        headers=[("Content-Range", f"bytes */{size}")])
    headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    return Response(status=206, body=body[start:end + 1], content_type=content_type,
                    headers=headers)


def serve(request: Request) -> Response | None:
    host, path = request.host, request.path
    if VIDEO_HOST.match(host):
        if not path.endswith((".mp4", ".mov")):
            return None
        return _ranged(request, _video(f"{host}{path}"), "video/mp4")
    if host in MMBIZ_HOSTS:
        fmt = request.query.get("wx_fmt", "jpeg")
        extension = {"png": "png", "gif": "gif"}.get(fmt, "jpg")
        body, content_type = _picture(path.rsplit("/", 1)[0], extension, 128, 96)
        return _ranged(request, body, content_type)
    match = re.fullmatch(r"/([\w.]+)/(\w+)\.(jpg|jpeg|gif|png)", path)
    if PICTURE_HOST.match(host) and match:
        size, pid, extension = match.groups()
        width, height = _SIZES.get(size, (64, 64))
        body, content_type = _picture(f"{size}/{pid}", extension, width, height)
        return _ranged(request, body, content_type)
    return None
