"""The emulator's stand-ins for the platforms' page scripts, checked without a browser (the
browser tests, tests/test_crawler_browser*.py, run them in Chromium)."""

from __future__ import annotations

import re

from emulator_client import EmulatorClient

from emulator import page_assets
from emulator.exchange import Request


def test_generated_article_pages_load_the_picture_loader_it_serves(emulator: EmulatorClient):
    account = next(a for a in emulator.world()["wechat"] if a["biz"] == "MzkwMDAwMDAwMg==")
    page = emulator.fetch(account["links"][0].replace("http://", "https://")).body.decode()
    assert page.rstrip().endswith("</html>")
    # the recorded page asks for its bundle as a module script, which a browser runs only when
    # the static host allows the page's origin; a plain script asks again, for replays that
    # cannot run modules, and the loader does its work once
    bundle = "//" + page_assets.WECHAT_LOADER_URL.partition("//")[2]
    assert f'<script type="module" crossorigin src="{bundle}"' in page
    assert f'<script type="text/javascript" src="{page_assets.WECHAT_LOADER_URL}"></script>' in page
    loader = emulator.fetch(page_assets.WECHAT_LOADER_URL)
    assert loader.status == 200 and loader.headers["Content-Type"].startswith("application/javascript")
    assert loader.headers["Access-Control-Allow-Origin"] == "*"
    assert b"IntersectionObserver" in loader.body and b"data-src" in loader.body
    assert b"if (window.weidangLoader) return;" in loader.body


def test_weibo_apps_and_the_desktop_post_page(emulator: EmulatorClient):
    app = emulator.fetch("https://h5.sinaimg.cn/m/weibo-lite/js/app.fd9603ad.js")
    assert app.status == 200 and b"$render_data" in app.body
    uid = next(a["uid"] for a in emulator.world()["weibo"] if a["post_ids"])
    post = next(a["post_ids"][0] for a in emulator.world()["weibo"] if a["uid"] == uid)
    show = emulator.fetch(f"https://weibo.com/ajax/statuses/show?id={post}").json()
    shell = emulator.fetch(f"https://weibo.com/{uid}/{show['mblogid']}")
    assert shell.status == 200 and page_assets.WEIBO_PC_APP_URL.encode() in shell.body
    pc_app = emulator.fetch(page_assets.WEIBO_PC_APP_URL)
    assert b"/ajax/statuses/show?id=" in pc_app.body
    assert emulator.fetch(f"https://weibo.com/{uid}/NoSuchPost1").status == 404


def test_static_hosts_answer_scripts_styles_and_icons_only():
    def ask(host: str, path: str) -> tuple[int, str] | None:
        answer = page_assets.serve(Request(method="GET", scheme="https", host=host, path=path,
                                           query_string="", headers={}, body=b""))
        if answer is None:
            return None
        assert ("Access-Control-Allow-Origin", "*") in answer.headers
        return answer.status, answer.content_type.split(";")[0]

    assert ask("res.wx.qq.com", "/js/assets/vendor.l669q54227011c10.js") == (200, "application/javascript")
    assert ask("res.wx.qq.com", "/js/assets/appmsg.l669q542060d9b28.css") == (200, "text/css")
    assert ask("h5.sinaimg.cn", "/upload/2015/09/25/3/timeline_card_small.png") == (200, "image/png")
    assert ask("res.wx.qq.com", "/a/wx_fed/assets/res/MjliNWVm.svg") == (200, "image/svg+xml")
    assert ask("res.wx.qq.com", "/mmbizappmsg/zh_CN/htmledition/js/audios/empty5f915f.mp3") is None
    assert re.search(r"appmsg\.\w+\.js$", page_assets.WECHAT_LOADER_URL)
