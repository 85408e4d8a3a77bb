"""Real listing formats weidang recognises but does not read (yet): Sogou's WeChat search and the
old ``profile_ext`` account history. Reading them half-right would give wrong records, so they
are refused with a message that names the format.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from harvesters.errors import UnsupportedResponse

_INSTEAD = ("harvest the account through the WeChat API, a backend session, a feed or a list of "
            "article URLs instead")
_HISTORY = ("weidang does not read account history pages yet; " + _INSTEAD)


def refuse_unsupported(text: str, url: str = "") -> None:
    """Raise ``UnsupportedResponse`` when ``text`` is one of the formats weidang refuses."""
    host = urlsplit(url).hostname or ""
    head = text[:200_000]
    lowered = head.lower()
    message = ""
    if '"totalItems"' in head and "<DOCUMENT>" in head:
        message = ("this is a Sogou WeChat search answer (JSON holding XML documents), which "
                   f"weidang does not read; {_INSTEAD}")
    elif "antispider" in lowered or ("sogou" in lowered and "seccode" in lowered):
        message = ("this is Sogou's anti-robot check page (antispider), not WeChat content; "
                   f"weidang does not read Sogou pages; {_INSTEAD}")
    elif 'data-uigs="wap_' in head or (head.lstrip().startswith("<li") and "sogou" in lowered):
        message = ("this is a fragment of Sogou's WeChat hot-articles index, which weidang does "
                   f"not read; {_INSTEAD}")
    elif host.endswith("sogou.com") or ("sogou" in lowered and "news-list" in lowered):
        kind = "official-account" if "gzh-box" in lowered else "article"
        message = (f"this is a Sogou WeChat {kind} search result page, which weidang does not "
                   f"read; {_INSTEAD}")
    elif "var msgList" in head or "getmasssendmsg" in lowered:
        message = ("this is an old WeChat account history page (profile_ext / getmasssendmsg with "
                   f"msgList); {_HISTORY}")
    elif '"comm_msg_info"' in head or "general_msg_list" in head:
        message = ("these are WeChat account history items (profile_ext getmsg general_msg_list); "
                   + _HISTORY)
    if message:
        raise UnsupportedResponse(message)
