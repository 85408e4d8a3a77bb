"""How a search hit is shown to a person: everything needed to cite it, then the snippet."""

from __future__ import annotations

import datetime as dt

from catalog.search import SearchHit
from harvesters.dates import SHANGHAI
from weidang.i18n import N_, _

DEMO_NOTE = N_("DEMO DATA, not a capture of the real platform")


def hit_lines(number: int, hit: SearchHit) -> list[str]:
    """A numbered hit: who and where, when, the WARC record to cite, the matching words."""
    account = f"{hit.account_name} ({hit.account_id})" if hit.account_name else hit.account_id
    head = f"{number}. {hit.platform} · {account} · " + _("version %(n)s", n=hit.version) + \
        f" · {_(hit.status)}"
    lines = [head + (f" · {_(DEMO_NOTE)}" if hit.demo else "")]
    if hit.title:
        lines.append(f"   {hit.title}")
    lines.append("   " + (hit.url or _("(no address)")))
    lines.append("   " + _("published %(published)s, captured %(captured)s",
                           published=published(hit.published_at), captured=captured(hit.captured_at)))
    lines.append("   " + _("WARC %(file)s record %(record)s", file=hit.warc_file or _("(file unknown)"),
                           record=hit.warc_record_id))
    lines.append("   " + _("payload SHA-256 %(digest)s", digest=hit.payload_sha256 or _("(unknown)")))
    if hit.snippet:
        lines.append(f"   {' '.join(hit.marked().split())}")
    return lines


def published(moment: dt.datetime) -> str:
    """China time, as the platforms show it, with its offset so that it stays unambiguous."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def captured(moment: dt.datetime) -> str:
    """UTC, as the WARC records say it."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
