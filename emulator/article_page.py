"""WeChat article pages: generated ones are the recorded 2022 county page with its values swapped.

Every article-specific value of the recorded page (biz, mid, idx, sn, chksm, ct, title, account,
digest, cover, body) is replaced by a marker once; a page is then the markers filled in. Pages
that cannot be shown use the recorded `weui-msg` error template with the platform's texts.
"""

from __future__ import annotations

import functools
import html

from emulator import page_assets, samples
from emulator.wechat_world import Article, WechatAccount

_BODY_START = 'id="js_content" style="visibility: hidden;">'
_BODY_END = "\n          </div>\n\n          <script"
_RECORDED = {
    "SN": "d625de357b53f96d710aca4e6ec7f57c",
    "CHKSM": "80687383b71ffa95268550a2331d599bcf29ddc4966bc56cb7f6717d2e1eab829ec635933ee5",
    "BIZ": "MzAxMzgxNzUxOA==",
    "MID": "2650804290",
    "CT": "1659274471",
    "NICKNAME": "掌上绥德",
    "USERNAME": "gh_6bab8b88e75e",
    "TITLE": "绥德：33名退役军人被表彰",
    "DIGEST": "绥德县举行庆“八一”双拥文艺汇演暨首届“最美退役军人”表彰大会"
              "7月29日上午，在第95个“八一”建军节来临之",
    "COVER": "https://mmbiz.qpic.cn/mmbiz_jpg/XNfdFLib0NoZHibgmQMLwmgvVicNQYFah0hib2SsaVcksZV73"
             "gchiaHiax9gSd6Bwq2SpmeKDpdiaymEysgOBqyBhkuHA/0?wx_fmt=jpeg",
    "COVER235": "https://mmbiz.qpic.cn/mmbiz_jpg/XNfdFLib0NoZHibgmQMLwmgvVicNQYFah0hJiapIRGORT"
                "cMVOSnSibIygNg85y4WdD1y6TubsFheUQ5sMGRc4EZR0zw/0?wx_fmt=jpeg",
}
_IDX_FORMS = ['"" || "8" || ""', 'var idx = "8"', "idx=8&amp;", "idx=8\\x26amp;"]
# What the platform writes in `.weui-msg__title` (PLATFORM-NOTES 1.5).
UNAVAILABLE = {
    "deleted": ("该内容已被发布者删除", ""),
    "blocked": ("此内容因违规无法查看",
                "由用户投诉并经平台审核，涉嫌违反相关法律法规和政策，查看对应规则"),
    "missing": ("参数错误", ""),
}


def _marker(name: str) -> str:
    return f"\x00{name}\x00"


@functools.cache
def _template() -> str:
    page = samples.text(samples.ARTICLE_2022)
    start = page.index(_BODY_START) + len(_BODY_START)
    end = page.index(_BODY_END, start)
    page = page[:start] + _marker("BODY") + page[end:]
    for name, value in _RECORDED.items():
        page = page.replace(value, _marker(name))
    for form in _IDX_FORMS:
        page = page.replace(form, form.replace("8", _marker("IDX")))
    return page


def render(article: Article, account: WechatAccount) -> bytes:
    """The raw server HTML for a generated article, as the platform sends it."""
    values = {
        "SN": article.sn, "CHKSM": article.chksm, "BIZ": article.biz, "MID": str(article.mid),
        "CT": str(article.create_time), "NICKNAME": html.escape(account.nickname),
        "USERNAME": account.user_name, "TITLE": html.escape(article.title),
        "DIGEST": html.escape(article.digest), "COVER": article.cover,
        "COVER235": article.cover, "IDX": str(article.idx), "BODY": article.body,
    }
    page = _template()
    for name, value in values.items():
        page = page.replace(_marker(name), value)
    return page_assets.with_loader(page.encode("utf-8"))


def unavailable(reason: str) -> bytes:
    """The recorded `weui-msg` page with the title (and description) for `reason`."""
    title, desc = UNAVAILABLE[reason]
    page = samples.text(samples.EXPIRED_PAGE)
    heading = '<h2 class="weui-msg__title">\n        链接已过期 \n        </h2>'
    replacement = f'<h2 class="weui-msg__title">\n        {title} \n        </h2>'
    if desc:
        replacement += f'\n        <p class="weui-msg__desc">{desc}</p>'
    if heading not in page:
        raise RuntimeError("the recorded weui-msg page no longer has its title where expected")
    return page.replace(heading, replacement).encode("utf-8")
