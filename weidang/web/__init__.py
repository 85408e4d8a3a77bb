"""The web interface (``weidang web``): search, read and cite the archive in a browser.

Server-rendered Flask pages, served by waitress, no JavaScript: every page works from its plain
address (``/search?q=疫情``, ``/posts/weibo:4900009245559000``). Chinese first, from the one
message catalog of ``weidang.i18n``. Archived HTML is hostile input: it is sanitised (nh3) and
every page carries a Content-Security-Policy that runs no script at all.
"""

from weidang.web.app import create_app

__all__ = ["create_app"]
