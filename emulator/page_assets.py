"""Stand-ins for the platforms' page scripts, so a browser renders emulator pages as it would
the real ones: WeChat's lazy picture loader and the two Weibo apps that draw a post.

The real scripts (res.wx.qq.com's appmsg bundle, h5.sinaimg.cn's weibo-lite app) are not
recorded here; these do the part a capture depends on, in the platforms' ways: WeChat pictures
wait in ``data-src`` with a placeholder height from ``data-ratio`` and get their ``src`` (with
the parameters WeChat adds) only when scrolled near; the m.weibo.cn detail page draws the post
from ``$render_data``; weibo.com/UID/BID asks ``ajax/statuses/show`` and draws the answer.
Pictures on Weibo load lazily too (``loading="lazy"``), as the apps' pictures do.
"""

from __future__ import annotations

import html
import re

from emulator import media
from emulator.exchange import Request, Response

SCRIPT_HOSTS = {"res.wx.qq.com", "h5.sinaimg.cn"}
JS = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
WECHAT_LOADER_URL = ("https://res.wx.qq.com/mmbizappmsg/zh_CN/htmledition/js/assets/"
                     "appmsg.l669q54279463df1.js")
WEIBO_PC_APP_URL = "https://h5.sinaimg.cn/weibo-pc/js/app.emulator.js"

WECHAT_LOADER = r"""(function () {
  // Loaded twice on purpose: as the page's own module (which pywb's replay cannot run: its
  // rewriting is not valid in strict mode) and as a plain script; the first to run does the work.
  if (window.weidangLoader) return;
  window.weidangLoader = true;
  var content = document.getElementById("js_content");
  if (content) content.style.visibility = "visible";
  var pictures = Array.prototype.slice.call(document.querySelectorAll("img[data-src]"));
  pictures.forEach(function (img) {
    var ratio = parseFloat(img.getAttribute("data-ratio")) || 0.75;
    img.style.width = "100%";
    img.style.setProperty("height", Math.round(img.clientWidth * ratio) + "px", "important");
    img.addEventListener("load", function () { img.style.removeProperty("height"); });
  });
  function wanted(img) {
    var source = img.getAttribute("data-src");
    return source + (source.indexOf("?") < 0 ? "?" : "&") + "wxfrom=5&wx_lazy=1&wx_co=1";
  }
  // The page's own inline script puts a placeholder in src from a timer (setImgSize), which
  // can fire after a picture was shown, even after the reader scrolled past it: a picture once
  // shown keeps its source (a placeholder that loads over it is replaced), and stays watched
  // until its own source has loaded.
  var shown = new Set();
  function show(img) {
    shown.add(img);
    if (img.src !== wanted(img)) img.src = wanted(img);
  }
  pictures.forEach(function (img) {
    img.addEventListener("load", function () {
      if (img.src === wanted(img)) watch.unobserve(img);
      else if (shown.has(img)) show(img);
    });
  });
  var watch = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) show(e.target); });
  }, {rootMargin: "0px 0px 200px 0px"});
  pictures.forEach(function (img) { watch.observe(img); });
})();
"""

_WEIBO_DRAW = r"""
function weidangDraw(status, into, pictureUrls) {
  var card = document.createElement("div");
  card.className = "card m-panel card9 f-weibo";
  var user = status.user || {};
  card.innerHTML = '<header class="weibo-top m-box"><h3 class="m-text-cut"></h3></header>' +
    '<article class="weibo-main"><div class="weibo-og"><div class="weibo-text"></div>' +
    '<div class="weibo-media-wraps"></div></div></article>';
  card.querySelector("h3").textContent = user.screen_name || "";
  card.querySelector(".weibo-text").innerHTML = status.text || "";
  var media = card.querySelector(".weibo-media-wraps");
  pictureUrls(status).forEach(function (url) {
    var img = document.createElement("img");
    img.loading = "lazy";
    img.style.cssText = "display:block;width:100%;height:auto;min-height:200px;margin-top:8px";
    img.src = url;
    media.appendChild(img);
  });
  into.appendChild(card);
  if (status.retweeted_status) weidangDraw(status.retweeted_status, card, pictureUrls);
}
"""

WEIBO_MOBILE_APP = _WEIBO_DRAW + r"""
(function () {
  var app = document.getElementById("app");
  var frame = window.$render_data || {};
  if (!app || !frame.status) return;
  app.innerHTML = "";
  weidangDraw(frame.status, app, function (s) {
    return (s.pics || []).map(function (p) { return (p.large || p).url; });
  });
})();
"""

WEIBO_PC_APP = _WEIBO_DRAW + r"""
(function () {
  var app = document.getElementById("app");
  var bid = location.pathname.split("/")[2];
  fetch("/ajax/statuses/show?id=" + encodeURIComponent(bid), {credentials: "include"})
    .then(function (r) { return r.json(); })
    .then(function (status) {
      if (!status.ok || !app) return;
      app.innerHTML = "";
      status.text = status.text || "";
      weidangDraw(status, app, function (s) {
        return (s.pic_ids || []).map(function (pid) { return s.pic_infos[pid].large.url; });
      });
    });
})();
"""


def serve(request: Request) -> Response | None:
    """A page script, style sheet or icon on the platforms' static hosts; None for anything else.

    Each answer allows every origin (``Access-Control-Allow-Origin: *``), as the platforms' static
    hosts must: the article page asks for its bundle as ``<script type="module" crossorigin>``,
    which a browser runs only with that header; without it the page's loader sometimes never ran
    (Chromium may hand the failed module fetch to the plain ``<script>`` of the same address)."""
    found = _asset(request)
    if found is not None:
        found.headers.append(("Access-Control-Allow-Origin", "*"))
    return found


def _asset(request: Request) -> Response | None:
    path = request.path
    icon = re.search(r"\.(png|jpe?g|gif|svg)$", path)
    if icon and icon.group(1) == "svg":
        return Response(body=b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"/>',
                        content_type="image/svg+xml")
    if icon:
        body, content_type = media.picture(request.host + path, icon.group(1), 32, 32)
        return Response(body=body, content_type=content_type)
    if path.endswith(".css"):
        return Response(body=b"/* weidang emulator: no styles recorded */\n", content_type=CSS)
    if not path.endswith(".js"):
        return None
    if request.host == "res.wx.qq.com" and "/appmsg." in path:
        return Response(body=WECHAT_LOADER.encode(), content_type=JS)
    if request.host == "h5.sinaimg.cn" and re.search(r"/weibo-lite/js/app\.\w+\.js$", path):
        return Response(body=WEIBO_MOBILE_APP.encode(), content_type=JS)
    if request.host == "h5.sinaimg.cn" and path.endswith("/weibo-pc/js/app.emulator.js"):
        return Response(body=WEIBO_PC_APP.encode(), content_type=JS)
    return Response(body=b"/* weidang emulator: not needed to render */\n", content_type=JS)


def with_loader(page: bytes) -> bytes:
    """A WeChat article page that loads the picture loader, as the real one loads its bundle."""
    tag = f'<script type="text/javascript" src="{WECHAT_LOADER_URL}"></script>\n'.encode()
    end = page.rfind(b"</body>")
    return page if end < 0 else page[:end] + tag + page[end:]


def weibo_pc_page(uid: str, bid: str) -> Response:
    """weibo.com/UID/BID: the app's empty shell; the post arrives by ajax/statuses/show."""
    page = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>微博</title>'
            '<meta name="viewport" content="width=device-width,initial-scale=1"></head><body>'
            f'<div id="app" data-uid="{html.escape(uid)}" data-bid="{html.escape(bid)}"></div>'
            f'<script src="{WEIBO_PC_APP_URL}"></script></body></html>')
    return Response(body=page.encode(), content_type="text/html; charset=utf-8")
