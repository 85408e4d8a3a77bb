"""Turn each layer's exceptions into one plain sentence for the archivist."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from catalog.secret_shapes import scrub_secrets
from warc_store import lines as store_lines
from weidang.i18n import N_, gettext

# Each layer raises its own exceptions; these are the ones whose message is written for people, by
# module and class name. They are looked up among the modules loaded so far: a layer never imported
# raised nothing, and importing every layer (Scrapy, warcio, the emulator...) to name its errors
# would cost every command's start-up, `weidang --help` included.
USER_ERROR_NAMES = {
    "warc_store.errors": "StoreError", "harvesters.errors": "HarvestError",
    "catalog.errors": "CatalogError", "catalog.search.errors": "SearchError",
    "crawler.errors": "CrawlError", "schedules.errors": "ScheduleError",
    "emulator.faults": "FaultPlanError", "emulator.world": "WorldError",
    "weidang.home": "HomeError", "weidang.settings": "SettingsError",
}


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions whose message is written for people, of every layer loaded so far."""
    return tuple(getattr(sys.modules[module], name) for module, name in USER_ERROR_NAMES.items()
                 if module in sys.modules)


DISK_FULL = f"{store_lines.DISK_FULL} (no space left on the device); {store_lines.FREE_SPACE}"


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is a full disk or an exhausted quota."""
    return store_lines.is_disk_full(exc)


# A first word that is a plain lowercase word ("the", "cannot"), not an identifier quoted as it is
# written (wechat:MzAx..., gh_6bab..., accounts_try1_gbk.csv, sm3): only such a word is capitalised.
_PLAIN_FIRST_WORD = re.compile(r"[a-z]+(?=[\s,;]|$)")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u201d]")  # and Chinese punctuation


# The layers below write their messages in English and cannot reach the catalog (they sit below
# the face); the ones archivists meet most are translated here: each message as its layer writes
# it, with %(name)s where it quotes an identifier, a path or a date. Others are shown as written.
LAYER_MESSAGES = (
    N_("%(account)s is being harvested by another weidang process right now; wait for that harvest "
       "to finish"),
    N_("%(account)s was removed from the register; add it again to harvest it"),
    N_("%(account)s is paused (%(reason)s); %(advice)s (or use --force once the cause is fixed)"),
    N_("%(account)s is paused (%(reason)s); %(advice)s"),
    N_("%(account)s is not registered; `weidang accounts list` shows the registered accounts"),
    N_("%(account)s is already registered; change it with `weidang accounts import` or remove it "
       "first"),
    N_("%(account)s was removed on %(when)s; add it again to restore it"),
    N_("%(account)s was already removed on %(when)s"),
    N_("give either an interval or a cron expression, not both"),
    N_("%(post)s is not in the catalog (check the platform and id, or `weidang search` for it)"),
    N_("%(post)s is not in the catalog; only captured posts can be appraised"),
    N_("%(post)s is not in the catalog; only captured posts can join a topic"),
    N_("a discard needs a reason (--reason), so that the decision can be understood later"),
    N_("name the reviewer (--reviewer)"),
    N_("no fonds, category and unit codes are set for %(account)s; set them with `weidang accounts "
       "codes %(account)s --fonds … --category … --unit …` or the settings CATALOG_ARCHIVE_FONDS, "
       "CATALOG_ARCHIVE_CATEGORY, CATALOG_ARCHIVE_UNIT"),
    N_("there is no topic named %(name)s; make one with `weidang topics create NAME`"),
    N_("there is no topic named %(name)s; the topics are: %(names)s"),
    N_("a topic named %(name)s exists already; topics keep their definition, so choose another "
       "name"),
    N_("the disk is full (no space left on the device); free some space (or move the home to a "
       "larger disk), then try again"),
    N_("running (process %(pid)s on %(host)s, since %(since)s)"),
    # what the daemon's alerts say (schedules.outcome, crawler.outcome), besides the platforms' words
    N_("the harvest failed"),
    N_("the harvest stopped"),
    N_("Log in again before it expires"),
    N_("Find out who put the file there; it is kept in the quarantine folder"),
    N_("Fix the account's login in the credentials file (or its listing source, `weidang accounts`), "
       "then harvest again"),
    N_("the harvest was stopped before it finished; what it captured is kept"),
    N_("the next harvest of %(account)s carries on where this one stopped (`weidang harvest "
       "%(account)s`, or the daemon's next run)"),
    N_("none of the listed articles could be read: %(error)s"),
    N_("Check the article addresses in the account's credentials entry (`urls`), then harvest again"),
    N_("no listing page could be read: %(error)s"),
    N_("the platform answered no listing page, so nothing was captured"),
    N_("Check the account id and its listing source, then harvest again"),
    N_("the listing showed no post, though the platform reports %(total)s %(unit)s"),
    N_("nobody scanned the %(platform)s QR code within %(seconds)s seconds; log in again"),
    N_("%(browser)s is not installed; install it with `apt-get install -y chromium fonts-noto-cjk`"),
    N_("the browser could not complete the %(platform)s login (%(error)s)"),
    N_("Check the account's login and listing source (a login the platform no longer accepts can "
       "show an empty listing), then harvest again"),
    # the embedded search indexes (catalog.search.sqlite_fts, catalog.search.tantivy_index)
    N_("the search index %(path)s was built by another version of weidang; rebuild it from the "
       "catalog (`weidang index rebuild`)"),
    N_("the search index %(path)s cannot be opened (%(error)s)"),
    N_("the search index %(path)s is damaged (%(error)s); rebuild it from the catalog (`weidang "
       "index rebuild`)"),
    N_("the search index %(path)s could not be written (%(error)s)"),
    N_("the search index %(path)s could not be searched (%(error)s)"),
    N_("the search index could not be rebuilt (%(error)s)"),
    N_("the search index %(path)s was being written by another process (a harvest or a rebuild) "
       "for more than %(seconds)s s; try again when it is done"),
    N_("%(path)s is not a weidang search index (it holds other files); choose an empty directory"),
    # Elasticsearch (catalog.search.elastic)
    N_("Elasticsearch %(version)s at %(url)s is not supported; weidang works with Elasticsearch 8 "
       "and 9"),
    N_("the analyzer %(analyzer)s needs the %(plugin)s plugin, which the cluster at %(url)s does "
       "not have; install it or use the built-in cjk analyzer"),
    N_("the server at %(url)s does not answer as Elasticsearch, so weidang will not send it the "
       "archive; check the address"),
    N_("the Elasticsearch cluster at %(url)s refused weidang's credentials (%(status)s); check the "
       "API key or user name and password given through the environment"),
    N_("the Elasticsearch cluster at %(url)s cannot be reached (%(error)s); check that it is "
       "running and that the address is right"),
    N_("the Elasticsearch cluster at %(url)s stayed too busy to answer (429) after several tries; "
       "try again later"),
    N_("the Elasticsearch cluster at %(url)s refused weidang's index layout (%(error)s); rebuild "
       "the index or remove the conflicting index template"),
    N_("the Elasticsearch cluster at %(url)s failed with an internal error (%(error)s); look at "
       "the cluster's logs"),
    N_("the Elasticsearch cluster at %(url)s refused the request (%(error)s)"),
    N_("the Elasticsearch cluster at %(url)s stayed too busy (429) to index %(count)s document(s); "
       "try again later"),
    N_("the Elasticsearch cluster at %(url)s refused %(count)s document(s) that do not fit the "
       "index mapping (%(error)s)"),
    N_("the Elasticsearch cluster at %(url)s failed to index %(count)s document(s) (%(error)s)"),
    # the collection's record index (warc_store.cdxj, warc_store.cdxj_lookup)
    N_("the index %(path)s is damaged at byte %(offset)s; run `weidang verify`"),
    # fixity (warc_store.sm3)
    N_("neither libgcrypt nor this Python's OpenSSL has the SM3 (GB/T 32905) hash; install "
       "libgcrypt20, or an OpenSSL with SM3 enabled"),
)
# What the platforms answered that stops a harvest or a lookup, as harvesters/ and crawler/ say it
# (harvesters.errors and its kinds' advice, harvesters.weibo, harvesters.wechat, wechat_codes,
# account_search; crawler.account_search). A reason comes with where it was said, from WeChat with
# WeChat's own words, and a lookup's refusal with its advice: those forms (COMPOSITES) come first and
# are used only when each of their parts is itself told in the reader's language.
COMPOSITES = (N_("%(reason)s. %(advice)s"), N_("%(reason)s (at %(url)s)"),
              N_("%(reason)s; WeChat said: %(said)s"))
PLATFORM_MESSAGES = COMPOSITES + (
    N_("Weibo refused the request with HTTP %(status)s, its sign of rate limiting"),
    N_("the media file answered HTTP %(status)s"),
    N_("Weibo answered HTTP %(status)s for this post"),
    N_("Weibo answered HTTP %(status)s"),
    N_("Weibo no longer accepts the cookie (it answered ok:-100 and sent a login or captcha page)"),
    N_("Weibo wants a captcha solved before answering (%(wall)s)"),
    N_("Weibo wants a login before answering (ok:-100)"),
    N_("Weibo shows nothing for this account: %(said)s"),
    N_("Weibo answered an unknown error (ok:%(ok)s) %(said)s"),
    N_("Weibo answered an unknown error (ok:%(ok)s)"),
    N_("Weibo answered with a login page instead of data"),
    N_("Weibo says: %(said)s"),
    N_("Weibo shows a page saying %(said)s"),
    N_("the Weibo detail page holds no post"),
    N_("Weibo refused the search: %(said)s"),
    N_("WeChat answered HTTP %(status)s"),
    N_("WeChat shows a message page instead of the article"),
    N_("WeChat shows %(said)s instead of the article (%(detail)s)"),
    N_("WeChat shows %(said)s instead of the article"),
    N_("the WeChat API rejected the AppSecret or access token (40001)"),
    N_("the WeChat API does not know this AppID (40013)"),
    N_("the WeChat API access token is not valid (40014)"),
    N_("the WeChat API rejected the AppSecret (40125)"),
    N_("this machine's IP address is not on the account's API whitelist (%(code)s)"),
    N_("the account's AppSecret is frozen (40243)"),
    N_("the WeChat API access token has expired (42001)"),
    N_("the account used up its daily WeChat API quota (45009)"),
    N_("the WeChat API per-minute limit was reached (45011)"),
    N_("the account is not allowed to use this API; freepublish needs a verified (微信认证) account "
       "(48001)"),
    N_("the WeChat API answered error %(code)s"),
    N_("the mp.weixin.qq.com session has expired (ret 200003)"),
    N_("mp.weixin.qq.com applies frequency control (ret 200013)"),
    N_("mp.weixin.qq.com rejected the request's arguments, usually a wrong fakeid (__biz) for the "
       "account (ret 200002)"),
    N_("mp.weixin.qq.com answered ret %(ret)s"),
    # their advice
    N_("Look at the archived response to see what the platform said"),
    N_("Pause harvesting this platform for a few hours before trying again; harvest fewer accounts "
       "at once or less often if it keeps happening"),
    N_("Open the platform in a browser with the harvest account, solve the check it shows, then "
       "copy the new cookie into the credentials file"),
    N_("Log in again and copy the new login into the credentials file"),
    N_("Keep the copies already archived; the archived response records what the platform showed "
       "instead of the post"),
    N_("Try again later; if it keeps happening, the platform may have changed its interface"),
    N_("Log in to weibo.com in a browser with the harvest account and copy its new cookie into the "
       "credentials file"),
    N_("Check the account id; if the account should have posts, the cookie in the credentials file "
       "may be bad, so refresh it"),
    N_("Check the AppID and AppSecret in the credentials file, and that this machine's IP address is "
       "on the account's API whitelist"),
    N_("Log in to mp.weixin.qq.com again in a browser and copy the new cookie and token into the "
       "credentials file"),
    N_("Log in again (`weidang login NAME %(platform)s`), then look the account up again"),
    # looking an account up by its name (crawler.account_search)
    N_("give the name of the account to look up"),
    N_("looking up a WeChat account needs a backend login (cookie and token): log in with `weidang "
       "login NAME wechat` and give --credentials NAME"),
    N_("%(platform)s could not be reached to look up %(name)s (%(error)s)"),
    N_("%(platform)s refuses requests from this machine for now (HTTP %(status)s); try again in a "
       "few hours"),
    N_("%(platform)s answered the account search with HTTP %(status)s"),
    N_("the %(platform)s account search answered something that is not JSON"),
)
# Values that are themselves a layer's sentence, told in the reader's language in turn.
_TOLD_AGAIN = ("reason", "advice", "error")
# The layers' one-word states, shown as words (a run's outcome, the daemon's state, an appraisal
# decision); the health
# words and post statuses are already in the catalog for the web (weidang/web/labels.py).
LAYER_WORDS = (N_("failed"), N_("stopped"), N_("not running"), N_("What to do:"), N_("backed off"),
               N_("login expires soon"), N_("quarantined"),
               N_("not running (it was stopped without a clean shutdown)"), N_("new"), N_("unchanged"),
               N_("keep"), N_("discard"))
# What a platform's total counts (HarvestSummary.reported_unit): WeChat counts pushes (群发) of
# one to eight articles. A message's %(unit)s is said in these words.
UNITS = (N_("posts"), N_("pushes"))


def _pattern(message: str) -> re.Pattern[str]:
    """The message's text with each %(name)s read back (the same text where it comes again)."""
    parts, seen = re.split(r"%\((\w+)\)s", message), set()
    regex = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            regex += f"(?P={part})" if part in seen else f"(?P<{part}>.+?)"
            seen.add(part)
    return re.compile(regex)


@functools.cache
def _layer_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Compiled when a message is first told, not at every command's start (about 10 ms)."""
    return [(message, _pattern(message)) for message in PLATFORM_MESSAGES + LAYER_MESSAGES]


def translated(text: str, lang: str | None = None) -> str:
    """A layer's message in ``lang`` (default: the process's language), when it is one of
    ``LAYER_MESSAGES``."""
    for message, pattern in _layer_patterns():
        found = pattern.fullmatch(text.rstrip("."))
        if found:
            values = found.groupdict()
            told = {name: translated(values[name], lang) for name in _TOLD_AGAIN if name in values}
            if message in COMPOSITES and any(told[name] == values[name] for name in told):
                continue  # half of it in another language helps nobody
            values.update(told)
            if values.get("unit") in UNITS:
                values["unit"] = gettext(values["unit"], lang)
            return gettext(message, lang) % values
    return text


def in_words(lang: str) -> Callable[[str], str]:
    """A layer's sentence or one-word state in ``lang`` where the catalog has it, else as written
    (the daemon's alerts: ``schedules.alerts.Alerts``)."""
    def say(text: str) -> str:
        found = translated(text, lang)
        return found if found != text else gettext(text, lang)
    return say


def sentence(exc: BaseException) -> str:
    text = scrub_secrets(str(exc).strip()) or exc.__class__.__name__  # it may quote an address
    text = translated(text)
    if _PLAIN_FIRST_WORD.match(text):
        text = text[0].upper() + text[1:]
    if text.endswith((".", "!", "?", "。", "！", "？")):
        return text
    return text + ("。" if _CJK.match(text[-1]) else ".")  # a Chinese sentence ends the Chinese way


def write_crash_report(exc: BaseException, logs: Path | None) -> Path | None:
    """Keep the traceback for the developers, out of the archivist's way: in ``logs`` (the logs
    folder of the home in use) if it can be written, else in the system's temporary folder. A
    home is never created for it, and a read-only home is left untouched."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = scrub_secrets("".join(traceback.format_exception(exc)))
    if logs is not None and logs.parent.is_dir():
        try:
            logs.mkdir(exist_ok=True)
            path = logs / f"crash-{stamp}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            pass
    try:
        fd, name = tempfile.mkstemp(prefix=f"weidang-crash-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)
    except OSError:
        return None
